"""ordercli cancel request|withdraw|reasons"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, complete, printers, render
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg

app = common.group(help="Ask to cancel an order, withdraw the request, list the reasons.")


@app.command("request")
def request(
    ctx: typer.Context,
    order_id: OrderArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why (see `ordercli cancel reasons`).",
            metavar=complete.REASON_CHOICES,
            autocompletion=complete.reasons,
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Free text for the seller.", metavar="TEXT")] = None,
    as_: AsOpt = None,
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """R1 for an unpaid order (cancelled at once); R5-R7 for a paid one. Prints the order."""
    with common.writing(ctx) as s:
        order = s.cancel_request(order_id, reason, note=note, actor=as_, idempotency_key=key)
        show = printers.order_printer(s, order, json_)
    show()
    common.tell_replay(s)
    hint = printers.cancel_hint(order)
    if hint:
        render.note(f"hint: {hint}")


@app.command("withdraw")
def withdraw(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Withdraw a pending cancellation request (R11)."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.cancel_withdraw(order_id, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("reasons")
def reasons(
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """The reason table, with whose fault each reason is."""
    from ordercli.api import Sandbox

    out = render.choose_format(fmt, json_)
    render.emit_rows(Sandbox.cancel_reasons(), out, "reason", fields, not no_headers)  # the table needs no world
