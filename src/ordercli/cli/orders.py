"""ordercli orders place|pay|list|show|confirm"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ordercli import engine, policy, render, validate, views
from ordercli.cli import common, complete, text
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt, OrderArg
from ordercli.world import World

app = common.group(help="Place, pay, list, show and confirm orders.")


def show_order(world: World, order: dict, as_json: bool) -> None:
    """Render after the store has committed, so a failed write prints nothing on stdout."""
    view = views.order(world, order)
    if as_json:
        render.emit_json(view)
        return
    history = world.find_events(order["id"])
    render.echo(text.order_card(view, world.now, history, policy.pending_deadlines(order)))


@app.command("place")
def place(
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer's name.", metavar="NAME")],
    seller: Annotated[str, typer.Option("--seller", help="The seller's name (not the buyer).", metavar="NAME")],
    item: Annotated[str, typer.Option("--item", help="What is bought.", metavar="TEXT")],
    amount: Annotated[
        str,
        typer.Option(
            "--amount", help="The paid amount, at most 2 decimals, in the currency's units.", metavar="DECIMAL"
        ),
    ],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR, JPY.", metavar="CODE")] = "USD",
    payment: Annotated[
        str,
        typer.Option(
            "--payment", help="How it is paid.", metavar=complete.PAYMENT_CHOICES, autocompletion=complete.payments
        ),
    ] = "card",
    quantity: Annotated[str, typer.Option("--quantity", help="How many, at least 1.", metavar="INTEGER")] = "1",
    unpaid: Annotated[bool, typer.Option("--unpaid", help="Place without paying (R1, R2).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the new order's id.")] = False,
    as_: AsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Place an order, paid at once unless --unpaid; prints the order."""
    with common.writing() as w:
        order = engine.place_order(
            w,
            buyer=buyer,
            seller=seller,
            item=item,
            amount=amount,
            currency=currency,
            payment=payment,
            quantity=quantity,
            unpaid=unpaid,
            actor=as_,
        )
    if quiet and not json_:
        render.echo(order["id"])
    else:
        show_order(w, order, json_)


@app.command("pay")
def pay(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """Pay an unpaid order (R2, R3)."""
    with common.writing() as w:
        order = engine.pay(w, order_id, as_)
    show_order(w, order, json_)


@app.command("confirm")
def confirm(order_id: OrderArg, as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """The buyer confirms receipt of a shipped order: completed."""
    with common.writing() as w:
        order = engine.confirm(w, order_id, as_)
    show_order(w, order, json_)


@app.command("show")
def show(order_id: OrderArg, json_: JsonOpt = False) -> None:
    """One order with its deadlines, cancellation, refund and dispute."""
    with common.reading() as w:
        order = w.order(order_id)
    show_order(w, order, json_)


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only orders in this status.",
            metavar=complete.STATUS_CHOICES,
            autocompletion=complete.statuses,
        ),
    ] = None,
    buyer: Annotated[str | None, typer.Option("--buyer", help="Only this buyer's orders.", metavar="NAME")] = None,
    seller: Annotated[str | None, typer.Option("--seller", help="Only this seller's orders.", metavar="NAME")] = None,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """List orders, oldest first."""
    out = render.choose_format(fmt, json_)
    if status is not None:
        validate.choice(status, policy.STATUSES, "status", "bad_status")
    with common.reading() as w:
        rows = [views.order(w, o) for o in w.find_orders(status, buyer, seller)]
    render.emit_rows(rows, out, "order", fields, not no_headers, empty="no orders")


@app.command("import")
def import_(
    source: Annotated[
        str, typer.Argument(help="An NDJSON file, or - for stdin.", metavar="FILE|-", show_default=False)
    ],
    json_: JsonOpt = False,
) -> None:
    """Place many orders from NDJSON, one `orders place` object a line; all or nothing."""
    import orjson

    from ordercli.errors import UsageError

    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(validate.path(source, "FILE"), "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}", "bad_import") from None
    rows = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((n, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"line {n}: not valid JSON ({exc})", "bad_import") from None
    with common.writing() as w:
        placed = engine.import_orders(w, rows, render.progress_for(len(rows), "importing"))
    render.emit_object(
        {"imported": len(placed)}, json_, lambda r: f"imported {r['imported']} order{'' if r['imported'] == 1 else 's'}"
    )
