"""ordercli seller respond|ship|pack|cancel|stats"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, complete, printers
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg

app = common.group(help="The seller answers cancellation requests, packs, ships and cancels.")


@app.command("respond")
def respond(
    ctx: typer.Context,
    order_id: OrderArg,
    answer: Annotated[
        str,
        typer.Argument(
            help="accept or reject.", metavar="accept|reject", show_default=False, autocompletion=complete.answers
        ),
    ],
    message: Annotated[
        str | None, typer.Option("--message", help="A word to the buyer, in their notification.", metavar="TEXT")
    ] = None,
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Accept (R8: cancelled, refunded) or reject (R9) a pending cancellation request."""
    with common.writing(ctx) as s:
        order = s.seller_respond(order_id, answer, message=message, actor=as_, idempotency_key=key)
        show = printers.order_printer(s, order, json_)
    show()
    common.tell_replay(s)


@app.command("ship")
def ship(
    ctx: typer.Context,
    order_id: OrderArg,
    tracking: Annotated[
        str | None, typer.Option("--tracking", help="The parcel's tracking number.", metavar="TEXT")
    ] = None,
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Ship a paid order (refused while a cancellation request is pending, R12)."""
    with common.writing(ctx) as s:
        show = printers.order_printer(
            s, s.seller_ship(order_id, tracking=tracking, actor=as_, idempotency_key=key), json_
        )
    show()
    common.tell_replay(s)


@app.command("pack")
def pack(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Mark a paid order packed, ready to ship (R22: only where the policy uses packing)."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.seller_pack(order_id, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    order_id: OrderArg,
    reason: Annotated[
        str,
        typer.Option("--reason", help="One of the policy's seller cancel reasons (policy show).", metavar="CODE"),
    ],
    message: Annotated[
        str | None, typer.Option("--message", help="A word to the buyer, in their notification.", metavar="TEXT")
    ] = None,
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Cancel an order before shipment, for a reason (R26: only where the policy lets sellers cancel)."""
    with common.writing(ctx) as s:
        show = printers.order_printer(
            s, s.seller_cancel(order_id, reason, message=message, actor=as_, idempotency_key=key), json_
        )
    show()
    common.tell_replay(s)


@app.command("stats")
def stats(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this seller.", metavar="NAME", show_default=False)] = None,
    window: Annotated[
        str,
        typer.Option("--window", help="The orders paid in this span up to now (e.g. 60d, 12w).", metavar="DURATION"),
    ] = "60d",
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Each seller's cancellation, late-shipment and answer rates, against the policy's ceilings."""
    from ordercli.cli import render

    out = render.choose_format(fmt, json_)
    rows = common.sandbox(ctx).seller_stats(name, window=window)
    render.emit_rows(rows, out, "seller-stats", fields, not no_headers, empty="no paid orders in the window")
