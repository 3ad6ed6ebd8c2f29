"""ordercli simulate BEHAVIOUR_FILE --policy NAME|FILE [--policy ...]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli import render
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.errors import UsageError

app = common.group()

MAX_ORDERS = 100_000_000


@app.command("simulate")
def simulate(
    behaviour_file: Annotated[
        str, typer.Argument(help="The population: a behaviour file (YAML).", metavar="BEHAVIOUR_FILE")
    ],
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy",
            help="A preset or policy TOML file; repeat to compare (the first is the baseline).",
            metavar="NAME|FILE",
        ),
    ],
    orders: Annotated[
        int | None,
        typer.Option("--orders", help="Orders to simulate (default: the behaviour file's period).", metavar="N"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same result.", metavar="S")] = 1,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local processes (default: one per core).", metavar="K")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run the shards on this Dask scheduler (tcp://host:8786).", metavar="ADDRESS"),
    ] = None,
    plot: Annotated[
        str | None, typer.Option("--plot", help="Also draw refund times and end reasons to this PNG.", metavar="FILE")
    ] = None,
    save_sample: Annotated[
        str | None,
        typer.Option(
            "--save-sample", help="Also write a few hundred simulated orders as a world file.", metavar="FILE"
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """What policies do to a population of orders, on the real engine (common random numbers)."""
    from ordercli import presets
    from ordercli.simulate import behaviour, runner
    from ordercli.validate import path as checked

    if orders is not None and not 1 <= orders <= MAX_ORDERS:
        raise UsageError(f"--orders: {orders} is not between 1 and {MAX_ORDERS:,}", "usage")
    if seed < 0:
        raise UsageError(f"--seed: {seed} is negative", "usage")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: {workers} is not at least 1", "usage")
    if scheduler is not None and not scheduler.strip():
        raise UsageError("--scheduler: must not be empty", "usage")
    plot_path = Path(checked(plot, "--plot")) if plot is not None else None
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise UsageError(f"--plot: {plot!r} is not a .png file", "usage")
    sample_path = Path(checked(save_sample, "--save-sample")) if save_sample is not None else None
    b = behaviour.load(checked(behaviour_file, "BEHAVIOUR_FILE"))
    loaded = [presets.load(p) for p in policy]
    for item in loaded:  # R27: every method the buyers pay with must be one the policy refunds
        missing = [m for m in b.payment.used() if m not in item.policy.payment_methods]
        if missing:
            raise UsageError(
                f"behaviour file {behaviour_file}: payment method '{missing[0]}' is not one the policy {item.name} "
                f"knows ({', '.join(item.policy.payment_methods)})",
                "bad_payment",
            )
        if item.policy.seller_can_cancel:  # R26: the sellers' reasons must be the policy's
            unknown = [c for c in b.seller_cancel_reasons() if c not in item.policy.seller_cancel_reasons]
            if unknown:
                raise UsageError(
                    f"behaviour file {behaviour_file}: seller cancel reason '{unknown[0]}' is not one the policy "
                    f"{item.name} knows ({', '.join(item.policy.seller_cancel_reasons)})",
                    "bad_behaviour",
                )
    labels: list[str] = []
    for item in loaded:  # the same policy twice stays two columns
        label = item.name if item.name not in labels else f"{item.name}#{labels.count(item.name) + 1}"
        labels.append(label)
    run = runner.Run(
        behaviour=b,
        policies=[(label, item.meta()) for label, item in zip(labels, loaded, strict=True)],
        orders=orders if orders is not None else b.default_orders(),
        seed=seed,
        workers=workers if workers is not None else runner.default_workers(),
        scheduler=scheduler,
    )
    with _Progress() as progress:
        report, totals = runner.execute(run, progress)
    if sample_path is not None:
        report["sample"] = runner.save_sample(run, sample_path)
    if plot_path is not None:
        from ordercli.simulate.plot import write_png

        write_png(report, totals, plot_path)
        report["plot"] = str(plot_path)
    if json_:
        render.emit_json(report)
    else:
        render.echo(text(report))


class _Progress(render.ProgressLine):
    """Shards done."""

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        self.show(f"simulating [{'#' * filled}{'.' * (width - filled)}] {done}/{total} shards")


# -- the table for people ------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.2f}%"


def _ci_pct(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{ci[0] * 100:+.2f}, {ci[1] * 100:+.2f}]"


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f}h"


def _ci_hours(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{ci[0] / 3600:+.1f}, {ci[1] / 3600:+.1f}]"


def text(report: dict[str, Any]) -> str:
    from tabulate import tabulate

    pols = report["policies"]
    diffs = report["differences"]
    names = [p["policy"] for p in pols]
    head = ["", *names, *[f"{d['policy']} - {d['baseline']} (95% CI)" for d in diffs]]
    rows: list[list[str]] = []

    def share_row(label: str, get: Any) -> None:
        row = [label]
        for p in pols:
            s = get(p)
            row.append("-" if s is None else f"{s['count']:,} ({_pct(s['share'])})")
        for d in diffs:
            v = get(d)
            row.append("-" if v is None or v["value"] is None else f"{v['value'] * 100:+.2f} pp{_ci_pct(v['ci95'])}")
        rows.append(row)

    for reason, count in pols[0]["end_reasons"].items():
        if count["count"] or any(p["end_reasons"][reason]["count"] for p in pols):
            share_row(reason, lambda x, r=reason: x["end_reasons"][r])
    share_row("auto-cancel (silent + timeout)", lambda x: x["auto_cancel"])
    share_row("cancel requests answered in time", lambda x: x["answered_in_time"])
    share_row("overdue refunds (per order)", lambda x: x["overdue_refunds"])
    share_row("disputes opened (per order)", lambda x: x["disputes_opened"])

    for key, title in (("request_to_outcome", "request -> outcome"), ("cancellation_to_refund", "cancel -> refund")):
        for method in pols[0][key]:
            if not any(p[key][method]["count"] for p in pols):
                continue
            row = [f"{title}, {method}: mean | p50 / p90 / p99"]
            for p in pols:
                t = p[key][method]
                row.append(
                    f"{_hours(t['mean_seconds'])} | {_hours(t['p50_seconds'])} / "
                    f"{_hours(t['p90_seconds'])} / {_hours(t['p99_seconds'])}"
                )
            for d in diffs:
                t = d[key][method]
                mean = "-" if t["mean_seconds"] is None else f"{t['mean_seconds'] / 3600:+.1f}h"
                row.append(
                    f"{mean}{_ci_hours(t['mean_ci95'])} | "
                    + " / ".join(
                        "-" if t[f"{q}_seconds"] is None else f"{t[f'{q}_seconds'] / 3600:+.1f}h"
                        for q in ("p50", "p90", "p99")
                    )
                )
            rows.append(row)
    table = tabulate(rows, headers=head, tablefmt="simple", disable_numparse=True)
    intro = (
        f"{report['orders']:,} orders from {report['behaviour']}, seed {report['seed']}, "
        f"{report['shards']} shard{'s' if report['shards'] != 1 else ''} of {report['shard_size']:,}; "
        "every policy saw the same orders and draws"
    )
    lines = [intro, "", table]
    if report["shards"] < 2:
        lines.append("\n(one shard: no intervals; simulate more orders for them)")
    if "sample" in report:
        sample = report["sample"]
        lines.append(
            f"\nsample: {sample['orders']} orders under {sample['policy']} in "
            f"{sample['path']} (ordercli --db {sample['path']} orders list)"
        )
    if "plot" in report:
        lines.append(f"\nplot: {report['plot']}")
    return "\n".join(lines)
