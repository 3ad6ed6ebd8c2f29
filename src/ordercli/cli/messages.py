"""ordercli messages send|list: the buyer-seller thread of an order ("contact the seller")."""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, render
from ordercli.cli.common import FieldsOpt, FormatOpt, IdempotencyKeyOpt, JsonOpt, NoHeadersOpt, OrderArg

app = common.group(help="Messages between an order's buyer and seller, one thread per order.")


def _text(m: dict) -> str:
    return f"{m['order_id']} #{m['n']} {m['at']}  {m['from']} ({m['role']}) to {m['to']}: {m['text']}"


@app.command("send")
def send(
    ctx: typer.Context,
    order_id: OrderArg,
    text: Annotated[str, typer.Argument(help="What to say.", metavar="TEXT", show_default=False)],
    as_: Annotated[
        str, typer.Option("--as", help="Who writes: the order's buyer or seller.", metavar="NAME", show_default=False)
    ],
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Write to the other party of an order; they are notified. Prints the message."""
    sandbox = common.sandbox(ctx)
    render.emit_object(sandbox.send_message(order_id, text, actor=as_, idempotency_key=key), json_, _text)
    common.tell_replay(sandbox)


@app.command("list")
def list_(
    ctx: typer.Context,
    order_id: OrderArg,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """The order's thread, oldest first."""
    out = render.choose_format(fmt, json_)
    rows = common.sandbox(ctx).messages(order_id)
    render.emit_rows(rows, out, "message", fields, not no_headers, empty="no messages")
