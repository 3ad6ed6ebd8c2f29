"""ordercli orders place|pay|list|show|confirm|import"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ordercli.cli import common, complete, printers, render
from ordercli.cli.common import AsOpt, FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg
from ordercli.core import validate

app = common.group(help="Place, pay, list, show and confirm orders.")


@app.command("place")
def place(
    ctx: typer.Context,
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer's name.", metavar="NAME")],
    seller: Annotated[str, typer.Option("--seller", help="The seller's name (not the buyer).", metavar="NAME")],
    item: Annotated[str, typer.Option("--item", help="What is bought.", metavar="TEXT")],
    amount: Annotated[
        str,
        typer.Option(
            "--amount",
            help="The paid amount, with at most the currency's decimal places (JPY 0, USD 2, KWD 3).",
            metavar="DECIMAL",
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
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Place an order, paid at once unless --unpaid; prints the order."""
    with common.writing(ctx) as s:
        order = s.place(
            buyer,
            seller,
            item,
            amount,
            currency=currency,
            payment=payment,
            quantity=quantity,
            unpaid=unpaid,
            actor=as_,
            idempotency_key=key,
        )
        show = (lambda: render.echo(order["id"])) if quiet and not json_ else printers.order_printer(s, order, json_)
    show()
    common.tell_replay(s)


@app.command("pay")
def pay(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """Pay an unpaid order (R2, R3)."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.pay(order_id, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("confirm")
def confirm(
    ctx: typer.Context, order_id: OrderArg, as_: AsOpt = None, key: IdempotencyKeyOpt = None, json_: JsonOpt = False
) -> None:
    """The buyer confirms receipt of a shipped order: completed."""
    with common.writing(ctx) as s:
        show = printers.order_printer(s, s.confirm(order_id, actor=as_, idempotency_key=key), json_)
    show()
    common.tell_replay(s)


@app.command("show")
def show(ctx: typer.Context, order_id: OrderArg, json_: JsonOpt = False) -> None:
    """One order with its deadlines, cancellation, refund and dispute."""
    with common.reading(ctx) as s:
        printer = printers.order_printer(s, s.order(order_id), json_)
    printer()


@app.command("list")
def list_(
    ctx: typer.Context,
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
    rows = common.sandbox(ctx).orders(status=status, buyer=buyer, seller=seller)
    render.emit_rows(rows, out, "order", fields, not no_headers, empty="no orders")


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="An NDJSON file, or - for stdin.", metavar="FILE|-", show_default=False)
    ],
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Place many orders from NDJSON, one `orders place` object a line; all or nothing."""
    import orjson

    from ordercli.core.errors import UsageError

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
    sandbox = common.sandbox(ctx)
    result = sandbox.import_orders(rows, progress=render.progress_for(len(rows), "importing"), idempotency_key=key)
    render.emit_object(result, json_, lambda r: f"imported {render.count(r['imported'], 'order')}")
    common.tell_replay(sandbox)
