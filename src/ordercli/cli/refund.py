"""ordercli refund status|list|hold|release|settle"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, printers, render
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg

app = common.group(help="Refunds: one per cancelled paid order, paid by its due_by (R14-R16).")


@app.command("status")
def status(ctx: typer.Context, order_id: OrderArg, json_: JsonOpt = False) -> None:
    """The order's refund."""
    printers.refund_printer(common.sandbox(ctx).refund(order_id), json_)()


@app.command("list")
def list_(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only refunds unpaid past their due_by.")] = False,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """All refunds, oldest order first."""
    out = render.choose_format(fmt, json_)
    rows = common.sandbox(ctx).refunds(overdue=overdue)
    render.emit_rows(rows, out, "refund", fields, not no_headers, empty="no refunds")


@app.command("hold")
def hold(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Hold a refund (a stuck payment): it won't settle by itself."""
    sandbox = common.sandbox(ctx)
    printers.refund_printer(sandbox.refund_hold(order_id, actor=as_, idempotency_key=key), json_)()
    common.tell_replay(sandbox)


@app.command("release")
def release(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Lift a hold; past its due_by the refund is paid at once."""
    sandbox = common.sandbox(ctx)
    printers.refund_printer(sandbox.refund_release(order_id, actor=as_, idempotency_key=key), json_)()
    common.tell_replay(sandbox)


@app.command("settle")
def settle(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Pay a refund now."""
    sandbox = common.sandbox(ctx)
    printers.refund_printer(sandbox.refund_settle(order_id, actor=as_, idempotency_key=key), json_)()
    common.tell_replay(sandbox)
