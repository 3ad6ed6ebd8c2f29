"""ordercli seller respond|ship"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, complete, output
from ordercli.cli.common import AsOpt, IdempotencyKeyOpt, JsonOpt, OrderArg

app = common.group(help="The seller answers cancellation requests and ships.")


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
        show = output.order_printer(s, order, json_)
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
        show = output.order_printer(
            s, s.seller_ship(order_id, tracking=tracking, actor=as_, idempotency_key=key), json_
        )
    show()
    common.tell_replay(s)
