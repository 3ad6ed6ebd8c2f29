"""ordercli dispute open|resolve|list"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, complete, printers, render
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg

app = common.group(help="Disputes: the buyer opens one, support resolves it (R13).")


@app.command("open")
def open_(
    ctx: typer.Context,
    order_id: OrderArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="A seller-fault reason before shipment; not-received, "
            "not-as-described or damaged after it; refund-not-received for an "
            "overdue refund.",
            metavar=complete.DISPUTE_REASON_CHOICES,
            autocompletion=complete.dispute_reasons,
        ),
    ],
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open a dispute on an order; prints the order."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.dispute_open(order_id, reason, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    order_id: OrderArg,
    outcome: Annotated[
        str,
        typer.Argument(
            help="refund or reject.", metavar="refund|reject", show_default=False, autocompletion=complete.outcomes
        ),
    ],
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Support resolves the open dispute; prints the order."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.dispute_resolve(order_id, outcome, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("list")
def list_(
    ctx: typer.Context,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """All disputes, oldest order first."""
    out = render.choose_format(fmt, json_)
    render.emit_rows(common.sandbox(ctx).disputes(), out, "dispute", fields, not no_headers, empty="no disputes")
