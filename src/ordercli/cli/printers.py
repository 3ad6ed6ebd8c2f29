"""The output helpers the command modules share: the order, refund and clock-move printouts.
Each `*_printer` is built inside a command's transaction (it may read the world) and called
after it committed, so that a failed write prints nothing on stdout."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ordercli.cli import cards, render
from ordercli.core.timecalc import parse_stored

if TYPE_CHECKING:
    from ordercli.api import Session
    from ordercli.core.model import Move, Order, Refund

Printer = Callable[[], None]

SHOWN = 50  # a clock move that fires thousands of deadlines summarises the rest for people


def order_printer(session: Session, view: Order, as_json: bool) -> Printer:
    """The order: its JSON object, or for people the card with its history and pending deadlines."""
    if as_json:
        return lambda: render.emit_json(view)
    history: list[dict[str, Any]] = [dict(e) for e in session.events(order_id=view["id"])]
    pending = [(d["kind"], parse_stored(d["at"])) for d in session.deadlines(view["id"])]
    card = cards.order_card(dict(view), session.now, history, pending)  # type: ignore[arg-type]
    return lambda: render.echo(card)


def refund_printer(view: Refund, as_json: bool) -> Printer:
    return lambda: render.emit_object(view, as_json, cards.refund_card)


def show_move(move: Move, as_json: bool) -> None:
    if as_json:
        render.emit_json(move)
        return
    fired = move["fired"]
    render.echo(f"clock {move['from']} -> {move['to']}: {len(fired)} event{'s' if len(fired) != 1 else ''}")
    if fired:
        render.emit_rows(fired[:SHOWN], "table", "event")
    if len(fired) > SHOWN:
        counts = Counter(e["kind"] for e in fired)
        render.echo(
            f"... and {len(fired) - SHOWN} more ("
            + ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
            + "): --json shows them all"
        )


def cancel_hint(view: Order) -> str | None:
    """When the rules leave the buyer a dispute instead of the request (R13a): say how, in commands."""
    from ordercli.core.policy import dispute_instead

    reason = dispute_instead(cast(dict, view))
    if reason is None:
        return None
    oid = view["id"]
    return (
        f"{reason} is the seller's fault: a dispute is available instead "
        f"(ordercli cancel withdraw {oid}, then ordercli dispute open {oid} --reason {reason})"
    )
