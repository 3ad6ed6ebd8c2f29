"""ordercli refund status|list|hold|release|settle"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ordercli import engine, render, views
from ordercli.cli import common, text
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt, OrderArg
from ordercli.world import World

app = common.group(help="Refunds: one per cancelled paid order, paid by its due_by (R14-R16).")


def _show(world: World, order: dict, as_json: bool) -> None:
    render.emit_object(views.refund(order["refund"], world.now), as_json, text.refund_card)


@app.command("status")
def status(order_id: OrderArg, json_: JsonOpt = False) -> None:
    """The order's refund."""
    with common.reading() as w:
        order, _ = engine.refund_of(w, order_id)
    _show(w, order, json_)


@app.command("list")
def list_(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only refunds unpaid past their due_by.")] = False,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """All refunds, oldest order first."""
    out = render.choose_format(fmt, json_)
    with common.reading() as w:
        rows = views.refunds(w, overdue)
    render.emit_rows(rows, out, "refund", fields, not no_headers, empty="no refunds")


def _act(action: Callable[..., dict], order_id: str, as_: str | None, json_: bool) -> None:
    with common.writing() as w:
        order = action(w, order_id, as_)
    _show(w, order, json_)


@app.command("hold")
def hold(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """Hold a refund (a stuck payment): it won't settle by itself."""
    _act(engine.refund_hold, order_id, as_, json_)


@app.command("release")
def release(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """Lift a hold; past its due_by the refund is paid at once."""
    _act(engine.refund_release, order_id, as_, json_)


@app.command("settle")
def settle(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """Pay a refund now."""
    _act(engine.refund_settle, order_id, as_, json_)
