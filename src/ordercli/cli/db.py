"""ordercli db check|backup|restore"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli.cli import common, render
from ordercli.cli.common import JsonOpt

app = common.group(help="The data file itself: check it, back it up, restore it.")


def _check_text(r: dict[str, Any]) -> str:
    if not r["exists"]:
        return f"{r['path']}: no file yet (an empty world)"
    text = (
        f"{r['path']}: ok, schema {r['schema']}, {render.count(r['orders'], 'order')}, "
        f"{render.count(r['events'], 'event')}, {render.count(r['notifications'], 'notification')}, "
        f"{render.count(r['idempotency_keys'], 'idempotency key')}"
    )
    if r.get("leftovers"):
        text += (
            f"\n{len(r['leftovers'])} leftover temporary file(s) from an interrupted write "
            f"(not part of the world; the next writing command removes them): {', '.join(r['leftovers'])}"
        )
    return text


@app.command("check")
def check(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Report problems in the data file (exit 0 when sound, 5 when not). Changes nothing."""
    from ordercli.store import dbcheck

    render.emit_object(dbcheck.check(common.store(common.env(ctx))), json_, _check_text)


@app.command("backup")
def backup(
    ctx: typer.Context,
    dest: Annotated[
        str, typer.Argument(help="Where to write the copy; - for stdout.", metavar="PATH|-", show_default=False)
    ],
    json_: JsonOpt = False,
) -> None:
    """Write a consistent copy of the data file to PATH (a new file, or an ordercli world or backup there;
    it gets the world's mode), or to stdout with -. Takes no lock: it works on a read-only world too."""
    from ordercli.core.validate import path
    from ordercli.store import dbcheck

    store = common.store(common.env(ctx))
    if dest == "-":
        _, raw = dbcheck.backup(store, None)
        render.emit_bytes(raw)
        return
    result, _ = dbcheck.backup(store, Path(path(dest, "PATH")))
    render.emit_object(
        result,
        json_,
        lambda r: f"backed up {render.count(r['orders'], 'order')} ({r['bytes']:,} bytes) to {r['backup']}",
    )


@app.command("restore")
def restore(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A backup to restore.", metavar="FILE", show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Check FILE as `db check` would, then make it the world (atomically, under the writers' lock).
    The world it replaces is kept beside the data file as NAME.bak."""
    from ordercli.core.validate import path
    from ordercli.store import dbcheck

    e = common.env(ctx)
    store = common.store(e)
    # a retry after a failed output would restore again, and keep the restored world as NAME.bak
    # in place of the one it replaced: a failure after the restore is reported as saved
    with common.saving(e, store.path, (f"{common.reader(e.db)} db check",)):
        result = dbcheck.restore(store, Path(path(source, "FILE")))
    render.emit_object(
        result,
        json_,
        lambda r: (
            f"restored {render.count(r['orders'], 'order')} from {r['restored_from']} into {r['path']}"
            + (f"; the replaced world is kept as {r['replaced_world_kept_as']}" if r["replaced_world_kept_as"] else "")
        ),
    )
