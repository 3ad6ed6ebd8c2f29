"""ordercli dispute open|resolve|list"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import render
from ordercli.cli import common, output
from ordercli.cli.common import AsOpt, FormatOpt, JsonOpt, OrderArg

app = common.group(help="Disputes: the buyer opens one, support resolves it (R13).")

DISPUTE_COLUMNS: list[render.Column] = [
    ("order", lambda d: d["order_id"]),
    ("buyer", lambda d: d["buyer"]),
    ("seller", lambda d: d["seller"]),
    ("reason", lambda d: d["reason"]),
    ("status", lambda d: d["status"]),
    ("opened_at", lambda d: d["opened_at"]),
    ("outcome", lambda d: d["outcome"]),
]


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
        ),
    ],
    as_: AsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open a dispute on an order; prints the order."""
    with common.writing(ctx) as s:
        show = output.order_printer(s, s.dispute_open(order_id, reason, actor=as_), json_)
    show()


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    order_id: OrderArg,
    outcome: Annotated[str, typer.Argument(help="refund or reject.", metavar="refund|reject", show_default=False)],
    as_: AsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Support resolves the open dispute; prints the order."""
    with common.writing(ctx) as s:
        show = output.order_printer(s, s.dispute_resolve(order_id, outcome, actor=as_), json_)
    show()


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """All disputes, oldest order first."""
    out = render.choose_format(fmt, json_)
    render.emit_list(common.sandbox(ctx).disputes(), out, DISPUTE_COLUMNS, empty="no disputes")
