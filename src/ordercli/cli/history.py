"""ordercli notifications list, ordercli events list"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import render
from ordercli.cli import common, output
from ordercli.cli.common import FormatOpt, JsonOpt

notifications_app = common.group(help="What the parties were told, on email and app (R18).")


@notifications_app.callback()
def _notifications_app_group() -> None:
    """Keeps the group a group though it has one command."""


events_app = common.group(help="The append-only history of every state change (R19).")


@events_app.callback()
def _events_app_group() -> None:
    """Keeps the group a group though it has one command."""


NOTIFICATION_COLUMNS: list[render.Column] = [
    ("seq", lambda n: n["seq"]),
    ("at", lambda n: n["at"]),
    ("to", lambda n: n["to"]),
    ("channel", lambda n: n["channel"]),
    ("order", lambda n: n["order_id"]),
    ("kind", lambda n: n["kind"]),
    ("message", lambda n: n["message"]),
]


@notifications_app.command("list")
def notifications(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option("--to", help="Only those sent to this name.")] = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Notifications, oldest first."""
    out = render.choose_format(fmt, json_)
    render.emit_list(common.sandbox(ctx).notifications(to=to), out, NOTIFICATION_COLUMNS, empty="no notifications")


@events_app.command("list")
def events(
    ctx: typer.Context,
    order: Annotated[str | None, typer.Option("--order", help="Only this order's events.", metavar="ID")] = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Events, oldest first."""
    out = render.choose_format(fmt, json_)
    render.emit_list(common.sandbox(ctx).events(order_id=order), out, output.EVENT_COLUMNS, empty="no events")
