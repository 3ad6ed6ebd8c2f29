"""ordercli clock show|set|tick|next"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, printers, render
from ordercli.cli.common import IdempotencyKeyOpt, JsonOpt
from ordercli.core.timecalc import parse_instant

app = common.group(help="The virtual clock: it moves only when told, firing what falls due.")


@app.command("show")
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The virtual now."""
    render.emit_object(common.sandbox(ctx).clock(), json_, lambda v: v["now"])


@app.command("set")
def set_(
    ctx: typer.Context,
    instant: Annotated[
        str, typer.Argument(help="ISO 8601, e.g. 2030-03-04T09:00:00Z.", metavar="INSTANT", show_default=False)
    ],
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Move the clock to INSTANT, firing what falls due (forward only once history exists)."""
    target = parse_instant(instant, "INSTANT")
    sandbox = common.sandbox(ctx)
    with render.FiringProgress() as progress:
        move = sandbox.clock_set(target, progress=progress, idempotency_key=key)
    printers.show_move(move, json_)
    common.tell_replay(sandbox)


@app.command("tick")
def tick(
    ctx: typer.Context,
    duration: Annotated[str, typer.Argument(help="e.g. 72h, 3d, 1d12h, 2w.", metavar="DURATION", show_default=False)],
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Move the clock forward by DURATION, firing every deadline on the way at its own instant."""
    sandbox = common.sandbox(ctx)
    with render.FiringProgress() as progress:
        move = sandbox.clock_tick(duration, progress=progress, idempotency_key=key)
    printers.show_move(move, json_)
    common.tell_replay(sandbox)


@app.command("next")
def next_(ctx: typer.Context, key: IdempotencyKeyOpt = None, json_: JsonOpt = False) -> None:
    """Move the clock to the next pending deadline and fire it."""
    sandbox = common.sandbox(ctx)
    with render.FiringProgress() as progress:
        move = sandbox.clock_next(progress=progress, idempotency_key=key)
    printers.show_move(move, json_)
    common.tell_replay(sandbox)
