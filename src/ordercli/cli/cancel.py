"""ordercli cancel request|withdraw|reasons"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import engine, render, views
from ordercli.cli import common, complete
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt, OrderArg
from ordercli.cli.orders import show_order

app = common.group(help="Ask to cancel an order, withdraw the request, list the reasons.")


@app.command("request")
def request(
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
    json_: JsonOpt = False,
) -> None:
    """R1 for an unpaid order (cancelled at once); R5-R7 for a paid one. Prints the order."""
    with common.writing() as w:
        order, hint = engine.cancel_request(w, order_id, reason, note, as_)
    show_order(w, order, json_)
    if hint:
        render.note(f"hint: {hint}")


@app.command("withdraw")
def withdraw(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """Withdraw a pending cancellation request (R11)."""
    with common.writing() as w:
        order = engine.cancel_withdraw(w, order_id, as_)
    show_order(w, order, json_)


@app.command("reasons")
def reasons(
    fmt: FormatOpt = None, fields: FieldsOpt = None, no_headers: NoHeadersOpt = False, json_: JsonOpt = False
) -> None:
    """The reason table, with whose fault each reason is."""
    render.emit_rows(views.reasons(), render.choose_format(fmt, json_), "reason", fields, not no_headers)
