"""ordercli simulate BEHAVIOUR_FILE --policy NAME|FILE [--policy ...]"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli.cli import common, render
from ordercli.cli.common import JsonOpt
from ordercli.core.errors import UsageError

app = common.group()

MAX_ORDERS = 100_000_000


@app.command("simulate")
def simulate(
    ctx: typer.Context,
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
        typer.Option("--save-sample", help="Also write 300 simulated orders as a new world file.", metavar="FILE"),
    ] = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="Run the one --policy at each value of a scalar key (dotted for a table entry: "
            "refund_within.card=5d,10d); repeat for a grid. The first point is the baseline.",
            metavar="KEY=V1,V2,...",
        ),
    ] = None,
    events_out: Annotated[
        str | None,
        typer.Option(
            "--events-out",
            help="Also write every simulated order's events (as `events list --format ndjson`) to this new file.",
            metavar="FILE",
        ),
    ] = None,
    events_policy: Annotated[
        str | None,
        typer.Option(
            "--events-policy",
            help="With --events-out: the events under this policy (its label in the report; default the first).",
            metavar="LABEL",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """What policies do to a population of orders, on the real engine (common random numbers)."""
    from ordercli.core import presets
    from ordercli.core.validate import path as checked
    from ordercli.simulate import behaviour, runner

    if orders is not None and not 1 <= orders <= MAX_ORDERS:
        raise UsageError(f"--orders: {orders} is not between 1 and {MAX_ORDERS:,}", "usage")
    if seed < 0:
        raise UsageError(f"--seed: {seed} is negative", "usage")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: {workers} is not at least 1", "usage")
    if scheduler is not None and not scheduler.strip():
        raise UsageError("--scheduler: must not be empty", "usage")
    if common.env(ctx).in_scenario:
        for option, value in (("--save-sample", save_sample), ("--plot", plot), ("--events-out", events_out)):
            if value is not None:
                raise UsageError(
                    f"{option} is not allowed in a scenario step: a step writes nothing outside the scenario's "
                    "own world",
                    "usage",
                )
    plot_path = Path(checked(plot, "--plot")) if plot is not None else None
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise UsageError(f"--plot: {plot!r} is not a .png file", "usage")
    sample_path = Path(checked(save_sample, "--save-sample")) if save_sample is not None else None
    if sweep and len(policy) != 1:
        raise UsageError(f"--sweep: give exactly one --policy to sweep (got {len(policy)})", "bad_sweep")
    if events_policy is not None and events_out is None:
        raise UsageError("--events-policy: needs --events-out", "usage")
    events_path = Path(checked(events_out, "--events-out")) if events_out is not None else None
    # SIGTERM stops it as Ctrl-C does, from here to the end of the command
    ctx.with_resource(runner.stopping())
    check_before_running(
        behaviour_file=Path(behaviour_file),
        policies=policy,
        plot=plot_path,
        sample=sample_path,
        events=events_path,
        scheduler=scheduler,
    )
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
    policies = [(label, item.meta()) for label, item in zip(labels, loaded, strict=True)]
    swept = None
    if sweep:
        from ordercli.simulate import sweep as sw

        swept = sw.Sweep.of(labels[0], policies[0][1], sweep)
        policies = swept.policies()
    events_of = None
    if events_path is not None:
        from ordercli.simulate import events_out as ev

        events_of = ev.policy_index([label for label, _ in policies], events_policy)
    run = runner.Run(
        behaviour=b,
        policies=policies,
        orders=orders if orders is not None else b.default_orders(),
        seed=seed,
        workers=workers if workers is not None else runner.default_workers(),
        scheduler=scheduler,
    )
    with _Progress() as progress:
        if events_path is not None:
            assert events_of is not None
            report, totals = ev.execute_writing(run, events_of, events_path, progress)
        else:
            report, totals = runner.execute(run, progress)
    if swept is not None:
        swept.annotate(report)
    if sample_path is not None:
        report["sample"] = runner.save_sample(run, sample_path)
    if plot_path is not None:
        if swept is not None:
            from ordercli.simulate.sweep_report import write_png as write_sweep_png

            write_sweep_png(report, plot_path)
        else:
            from ordercli.simulate.plot import write_png

            write_png(report, totals, plot_path)
        report["plot"] = str(plot_path)
    if json_:
        render.emit_json(report)
    elif swept is not None:
        from ordercli.simulate.sweep_report import text as sweep_text

        render.echo(sweep_text(report))
    else:
        render.echo(text(report))


# -- before any order is simulated -----------------------------------------------------------------


def check_before_running(
    *,
    behaviour_file: Path,
    policies: list[str],
    plot: Path | None,
    sample: Path | None,
    events: Path | None = None,
    scheduler: str | None,
) -> None:
    """What would fail once the orders are simulated fails now instead, with nothing written:
    the optional extras --plot and --scheduler need, and the output files (a --save-sample that
    exists, a path that is not a regular file, an output that is an input). The careful writer
    checks again when it writes."""
    if scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError(
                "--scheduler needs Dask: pip install 'ordercli[dask]' (here and on the workers)", "missing_extra"
            ) from None
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'ordercli[plot]'", "missing_extra") from None
    outputs = [(o, p) for o, p in (("--plot", plot), ("--save-sample", sample), ("--events-out", events)) if p]
    for i, (option, path) in enumerate(outputs):
        for other, other_path in outputs[:i]:
            if os.path.abspath(path) == os.path.abspath(other_path):
                raise UsageError(f"{other} and {option} name the same file: give each its own", "usage")
    from ordercli.store import check_output

    inputs = [(behaviour_file, "the behaviour file")] + [(Path(p), "a policy file") for p in policies]
    if sample is not None:
        check_output(sample, what="--save-sample", inputs=inputs, existing="refuse")
        inputs.append((sample, "the --save-sample file"))
    if events is not None:
        check_output(events, what="--events-out", inputs=inputs, existing="refuse")
        inputs.append((events, "the --events-out file"))
    if plot is not None:
        check_output(plot, what="--plot", inputs=inputs)


class _Progress(render.ProgressLine):
    """Shards done."""

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        self.show(f"simulating [{'#' * filled}{'.' * (width - filled)}] {done}/{total} shards")


# -- the table for people ------------------------------------------------------------------------

# (key in seller_metrics, row title, the ceiling's field prefix)
SELLER_ROWS = (
    ("seller_cancellations", "seller-fault cancellations (of paid orders)", "cancel_rate"),
    ("late_shipments", "late shipments (of shipments)", "late_shipment_rate"),
    ("requests_answered_in_time", "requests answered in time (of requests)", None),
    ("buyer_requests", "buyers asking to cancel (of paid orders)", None),
    ("buyer_free_cancels", "buyer free cancels (of paid orders)", None),
)


def seller_rows(pols: list[dict[str, Any]], diffs: list[dict[str, Any]]) -> list[list[str]]:
    """The seller metrics block: each rate, against the policy's ceiling where it has one."""
    rows = []
    for key, title, ceiling in SELLER_ROWS:
        row = [title]
        for p in pols:
            m = p["seller_metrics"]
            s = m[key]
            cell = f"{s['count']:,} ({_pct(s['share'])})"
            if ceiling is not None and m[f"{ceiling}_max"] is not None:
                status = m[f"{ceiling}_status"] or "-"
                cell += f" {status}, max {_pct(m[f'{ceiling}_max'])}"
            row.append(cell)
        for d in diffs:
            v = d["seller_metrics"][key]
            row.append("-" if v["value"] is None else f"{v['value'] * 100:+.2f} pp{_ci_pct(v['ci95'])}")
        rows.append(row)
    return rows


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
        for method in dict.fromkeys(m for p in pols for m in p[key]):  # every method any policy lists (R27)
            if not any(p[key][method]["count"] for p in pols if method in p[key]):
                continue
            row = [f"{title}, {method}: mean | p50 / p90 / p99"]
            for p in pols:
                t = p[key].get(method)
                if t is None:
                    row.append("-")
                    continue
                row.append(
                    f"{_hours(t['mean_seconds'])} | {_hours(t['p50_seconds'])} / "
                    f"{_hours(t['p90_seconds'])} / {_hours(t['p99_seconds'])}"
                )
            for d in diffs:
                t = d[key].get(method)
                if t is None:  # a method only one of the two policies has
                    row.append("-")
                    continue
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
    seller = tabulate(seller_rows(pols, diffs), headers=head, tablefmt="simple", disable_numparse=True)
    intro = (
        f"{report['orders']:,} orders from {report['behaviour']}, seed {report['seed']}, "
        f"{report['shards']} shard{'s' if report['shards'] != 1 else ''} of {report['shard_size']:,}; "
        "every policy saw the same orders and draws"
    )
    lines = [intro, "", table, "", "seller metrics (of paid orders, as `seller stats` counts them)", seller]
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
