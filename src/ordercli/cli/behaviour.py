"""ordercli behaviour fit LOG --out FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli.cli import common, render
from ordercli.cli.common import JsonOpt

app = common.group(help="Behaviour files for `simulate`: the population, fitted from what really happened.")


@app.callback()
def _behaviour_group() -> None:
    """Behaviour files for `simulate`: the population, fitted from what really happened."""


@app.command("fit")
def fit(
    log: Annotated[
        str,
        typer.Argument(
            help="An event log: ordercli events as NDJSON (events list --format ndjson, simulate --events-out), "
            "a JSON array of events, a data file or db backup, or a CSV with one row per order.",
            metavar="LOG",
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="The behaviour file to write (new); its delays go beside it, in OUT's name + .delays.csv.",
            metavar="FILE",
        ),
    ],
    json_: JsonOpt = False,
) -> None:
    """Fit a behaviour file to an event log: shares for choices, censoring-aware delays (Kaplan-Meier)."""
    from ordercli.core.validate import path as checked
    from ordercli.simulate import fit as fitting
    from ordercli.store import check_output, write_output

    out_path = Path(checked(out, "--out"))
    csv_path = out_path.with_name(out_path.name.removesuffix(".yaml").removesuffix(".yml") + ".delays.csv")
    log_path = Path(checked(log, "LOG"))
    for target in (out_path, csv_path):
        check_output(target, what="--out", inputs=[(log_path, "the event log")], existing="refuse")
    orders, end = fitting.read(log_path)
    data, delays, notes = fitting.fit(orders, end)
    text, table = fitting.render(data, delays, notes, log, csv_path.name)
    write_output(csv_path, table.encode(), what="--out", exclusive=True)
    try:
        write_output(out_path, text.encode(), what="--out", exclusive=True)
    except BaseException:
        csv_path.unlink(missing_ok=True)  # the behaviour file names its delays: neither without the other
        raise
    result: dict[str, Any] = {
        "out": str(out_path),
        "delays": str(csv_path),
        "orders": notes["orders"],
        "log_end": notes["log_end"],
        "figures": notes["figures"],
        "defaults": notes["defaults"],
    }
    if json_:
        render.emit_json(result)
    else:
        render.echo(_text(result))


def _text(r: dict[str, Any]) -> str:
    lines = [f"fitted {r['orders']:,} orders (log ends {r['log_end']}): {r['out']}, delays in {r['delays']}"]
    for key, fig in r["figures"].items():
        if "observed" in fig:
            lines.append(
                f"  {key}: {fig['observed']:,} of {fig['orders']:,} observed, "
                f"{fig['censored']:,} censored ({(fig['censored_share'] or 0) * 100:.1f}%)"
            )
    if r["defaults"]:
        lines.append(f"  not estimated (defaults): {', '.join(r['defaults'])}")
    return "\n".join(lines)
