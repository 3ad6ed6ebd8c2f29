"""ordercli clock show|set|tick|next"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ordercli import engine, render
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.timecalc import fmt, parse_instant

app = common.group(help="The virtual clock: it moves only when told, firing what falls due.")

SHOWN = 50  # a tick that fires thousands of deadlines summarises the rest for people


def _show_move(move: dict[str, Any], as_json: bool) -> None:
    if as_json:
        render.emit_json(move)
        return
    fired = move["fired"]
    render.echo(f"clock {move['from']} -> {move['to']}: {len(fired)} event{'s' if len(fired) != 1 else ''}")
    if fired:
        render.emit_rows(fired[:SHOWN], "table", "event")
    if len(fired) > SHOWN:
        from collections import Counter

        counts = Counter(e["kind"] for e in fired)
        render.echo(
            f"... and {len(fired) - SHOWN} more ("
            + ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
            + "): --json shows them all"
        )


@app.command("show")
def show(json_: JsonOpt = False) -> None:
    """The virtual now."""
    with common.reading() as w:
        now = fmt(w.now)
    render.emit_object({"now": now}, json_, lambda v: v["now"])


@app.command("set")
def set_(
    instant: Annotated[
        str, typer.Argument(help="ISO 8601, e.g. 2030-03-04T09:00:00Z.", metavar="INSTANT", show_default=False)
    ],
    json_: JsonOpt = False,
) -> None:
    """Move the clock to INSTANT, firing what falls due (forward only once history exists)."""
    target = parse_instant(instant, "INSTANT")
    with common.writing() as w, render.FiringProgress() as progress:
        move = engine.clock_set(w, target, progress)
        w.dirty = True
    _show_move(move, json_)


@app.command("tick")
def tick(
    duration: Annotated[str, typer.Argument(help="e.g. 72h, 3d, 1d12h, 2w.", metavar="DURATION", show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Move the clock forward by DURATION, firing every deadline on the way at its own instant."""
    with common.writing() as w, render.FiringProgress() as progress:
        move = engine.clock_tick(w, duration, progress)
        w.dirty = True
    _show_move(move, json_)


@app.command("next")
def next_(json_: JsonOpt = False) -> None:
    """Move the clock to the next pending deadline and fire it."""
    with common.writing() as w, render.FiringProgress() as progress:
        move = engine.clock_next(w, progress)
    _show_move(move, json_)
