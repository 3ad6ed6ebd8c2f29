"""ordercli db check|backup"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordercli import render
from ordercli.cli import common
from ordercli.cli.common import JsonOpt

app = common.group(help="The data file itself: check it, back it up.")


@app.command("check")
def check(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Report problems in the data file (exit 0 when sound, 5 when not). Changes nothing."""
    report = common.store(common.env(ctx)).check()
    render.emit_object(
        report,
        json_,
        lambda r: (
            f"{r['path']}: ok, schema {r['schema']}, {r['orders']} orders, {r['events']} events, "
            f"{r['notifications']} notifications"
            if r["exists"]
            else f"{r['path']}: no file yet (an empty world)"
        ),
    )


@app.command("backup")
def backup(
    ctx: typer.Context,
    dest: Annotated[str, typer.Argument(help="Where to write the copy.", metavar="PATH", show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Write a consistent copy of the data file to PATH (taken under the writers' lock)."""
    from ordercli.validate import path

    result = common.store(common.env(ctx)).backup(Path(path(dest, "PATH")))
    render.emit_object(result, json_, lambda r: f"backed up {r['orders']} orders ({r['bytes']} bytes) to {r['backup']}")
