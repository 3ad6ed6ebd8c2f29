"""ordercli notifications list, ordercli events list"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, render
from ordercli.cli.common import FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt

notifications_app = common.group(help="What the parties were told, on email and app (R18).")


@notifications_app.callback()
def _notifications_app_group() -> None:
    """Keeps the group a group though it has one command."""


events_app = common.group(help="The append-only history of every state change (R19).")


@events_app.callback()
def _events_app_group() -> None:
    """Keeps the group a group though it has one command."""


@notifications_app.command("list")
def notifications(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option("--to", help="Only those sent to this name.", metavar="NAME")] = None,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Notifications, oldest first."""
    out = render.choose_format(fmt, json_)
    rows = common.sandbox(ctx).notifications(to=to)
    render.emit_rows(rows, out, "notification", fields, not no_headers, empty="no notifications")


@events_app.command("list")
def events(
    ctx: typer.Context,
    order: Annotated[
        str | None,
        typer.Option("--order", help="Only this order's events.", metavar="ID", autocompletion=common._order_ids),
    ] = None,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Events, oldest first."""
    out = render.choose_format(fmt, json_)
    rows = common.sandbox(ctx).events(order_id=order)
    render.emit_rows(rows, out, "event", fields, not no_headers, empty="no events")
