"""ordercli dispute open|resolve|list"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import engine, render, views
from ordercli.cli import common, complete
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt, OrderArg
from ordercli.cli.orders import show_order

app = common.group(help="Disputes: the buyer opens one, support resolves it (R13).")


@app.command("open")
def open_(
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
    json_: JsonOpt = False,
) -> None:
    """Open a dispute on an order; prints the order."""
    with common.writing() as w:
        order = engine.dispute_open(w, order_id, reason, as_)
    show_order(w, order, json_)


@app.command("resolve")
def resolve(
    order_id: OrderArg,
    outcome: Annotated[
        str,
        typer.Argument(
            help="refund or reject.", metavar="refund|reject", show_default=False, autocompletion=complete.outcomes
        ),
    ],
    as_: AsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Support resolves the open dispute; prints the order."""
    with common.writing() as w:
        order = engine.dispute_resolve(w, order_id, outcome, as_)
    show_order(w, order, json_)


@app.command("list")
def list_(
    fmt: FormatOpt = None, fields: FieldsOpt = None, no_headers: NoHeadersOpt = False, json_: JsonOpt = False
) -> None:
    """All disputes, oldest order first."""
    out = render.choose_format(fmt, json_)
    with common.reading() as w:
        rows = views.disputes(w)
    render.emit_rows(rows, out, "dispute", fields, not no_headers, empty="no disputes")
