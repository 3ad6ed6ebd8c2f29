"""The engine: applies one command to a world, then fires every deadline that falls due.

Each public function validates its input (exit 2), finds the order (exit 3), asks the
policy's gate (exit 4), changes the world, records events (R19) and notifications (R18).
Deadlines fire at their own instant, in (instant, order, kind) order, including the ones
that earlier firings create within the same move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ordercli.core import policy as P
from ordercli.core import validate
from ordercli.core.errors import NotFound, Refused, UsageError
from ordercli.core.model import (
    Cancellation,
    CancellationStatus,
    Dispute,
    DisputeStatus,
    EndReason,
    Event,
    EventKind,
    Message,
    Move,
    NotificationKind,
    Order,
    SellerCancel,
)
from ordercli.core.timecalc import fmt, parse_duration, parse_stored
from ordercli.core.world import DeadlineIndex, StoredMessage, StoredOrder, StoredRefund, World

PLATFORM = "platform"
SUPPORT = "support"


def _as(actor: str | None) -> str | None:
    """The acting party follows the input rules of docs/cli.md (exit 2) before any lookup."""
    return None if actor is None else validate.name(actor, "actor")


# -- orders -------------------------------------------------------------------------------------


def place_order(world: World, **fields: Any) -> StoredOrder:
    """`orders place`: one new order (see new_order for the fields), then what falls due."""
    order = new_order(world, **fields)
    settle_now(world, order)
    return order


def new_order(
    world: World,
    *,
    buyer: Any,
    seller: Any,
    item: Any,
    amount: Any,
    currency: Any = "USD",
    payment: Any = "card",
    quantity: Any = 1,
    unpaid: bool = False,
    actor: str | None = None,
    labels: dict[str, str] | None = None,
) -> StoredOrder:
    """Validate and add one order (placed, and paid unless `unpaid`) without firing."""
    fields = order_fields(
        buyer=buyer,
        seller=seller,
        item=item,
        amount=amount,
        currency=currency,
        payment=payment,
        quantity=quantity,
        labels=labels,
        methods=world.policy.payment_methods,  # R27: the methods accepted are the policy's
    )
    acting = _as(actor)
    if acting is not None and acting.strip() != fields["buyer"]:
        buyer = fields["buyer"]
        raise Refused(f"{actor} cannot place an order for {buyer}: only the buyer places an order", "not_party")
    return add_valid_order(world, fields, unpaid)


def order_fields(
    *,
    buyer: Any,
    seller: Any,
    item: Any,
    amount: Any,
    currency: Any = "USD",
    payment: Any = "card",
    quantity: Any = 1,
    labels: dict[str, str] | None = None,
    methods: tuple[str, ...] | None = P.PAYMENT_METHODS,
) -> dict[str, Any]:
    """The input rules of an order's fields (exit 2), applied: the values as the order keeps them.
    `methods`: the payment methods the world's policy accepts (R27); None leaves that check to
    place_valid_order (the simulation draws its orders once for several policies)."""
    values = {"buyer": buyer, "seller": seller, "item": item, "amount": amount, "currency": currency}
    values.update(payment=payment, quantity=quantity)
    return validate.record_input(Order, values, labels, methods)  # the rules declared in records.Order


def many_order_fields(rows: Iterable[dict[str, Any]], methods: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """`order_fields` for many orders at once (a simulation's drawn population): each row holds
    every one of order_fields' keywords (currency, payment and quantity too: no defaults here); the
    same rules (validate.record_inputs). `methods` None leaves R27 to place_valid_order, as
    order_fields does."""
    return validate.record_inputs(Order, rows, methods)


def place_valid_order(world: World, fields: dict[str, Any], unpaid: bool = False) -> StoredOrder:
    """`place_order` for fields `order_fields` already returned (the simulation validates each
    drawn order once, then places it under every policy): the same rules, without the input checks
    but the one that depends on the policy (R27: its payment methods)."""
    validate.payment(fields["payment_method"], "payment", world.policy.payment_methods)
    order = add_valid_order(world, fields, unpaid)
    settle_now(world, order)
    return order


def add_valid_order(world: World, fields: dict[str, Any], unpaid: bool = False) -> StoredOrder:
    """Add one order made of `order_fields`' values (which are not changed) without firing."""
    now = world.now
    pol = world.policy
    order: StoredOrder = {
        "id": None,
        "buyer": fields["buyer"],
        "seller": fields["seller"],
        "item": fields["item"],
        "quantity": fields["quantity"],
        "amount": fields["amount"],
        "currency": fields["currency"],
        "payment_method": fields["payment_method"],
        "status": P.AWAITING_PAYMENT,
        "placed_at": world.now_text,
        # an order paid as it is placed never has a pay_by (_pay clears it): not worked out for nothing
        "pay_by": fmt(pol.add(now, pol.pay_within)) if unpaid else None,
        "paid_at": None,
        "ship_by": None,
        "shipped_at": None,
        "tracking": None,
        "completed_at": None,
        "cancelled_at": None,
        "end_reason": None,
        "cancellation": None,
        "refund": None,
        "disputes": [],
        "packed_at": None,
        "shipped_late": False,
        "auto_cancel_by": None,
        "seller_cancel": None,
    }
    world.add_order(order)
    world.event(
        EventKind.ORDER_PLACED,
        order,
        order["buyer"],
        {
            "item": order["item"],
            "quantity": order["quantity"],
            "amount": order["amount"],
            "currency": order["currency"],
            "payment_method": order["payment_method"],
        },
    )
    if not unpaid:
        _pay(world, order)
    return order


IMPORT_KEYS = ("buyer", "seller", "item", "amount", "currency", "payment", "quantity", "unpaid")


def import_orders(world: World, rows: list[tuple[int, Any]], progress: Any = None) -> list[StoredOrder]:
    """`orders import`: every line an `orders place` object; all or nothing (the caller
    writes nothing when this raises). A bad line is exit 2 naming its number."""
    placed = []
    for line, row in progress(rows) if progress else rows:
        if not isinstance(row, dict):
            raise UsageError(f'line {line}: expected a JSON object like {{"buyer": ..., "seller": ...}}', "bad_import")
        unknown = [k for k in row if k not in IMPORT_KEYS]
        if unknown:
            raise UsageError(
                f"line {line}: unknown key {unknown[0]!r} (expected {', '.join(IMPORT_KEYS)})", "bad_import"
            )
        missing = [k for k in ("buyer", "seller", "item", "amount") if k not in row]
        if missing:
            raise UsageError(f"line {line}: missing {missing[0]!r}", "bad_import")
        unpaid = row.get("unpaid", False)
        if not isinstance(unpaid, bool):
            raise UsageError(f"line {line}: unpaid must be true or false", "bad_import")
        labels = {k: f"line {line}: {k}" for k in IMPORT_KEYS}
        placed.append(
            new_order(
                world,
                buyer=row["buyer"],
                seller=row["seller"],
                item=row["item"],
                amount=row["amount"],
                currency=row.get("currency", "USD"),
                payment=row.get("payment", "card"),
                quantity=row.get("quantity", 1),
                unpaid=unpaid,
                labels=labels,
            )
        )
    advance(world, world.now, placed)
    return placed


def _pay(world: World, order: StoredOrder) -> None:
    """R3: paid_at, and ship_by = paid_at + ship_within."""
    pol = world.policy
    order["status"] = P.AWAITING_SHIPMENT
    order["paid_at"] = world.now_text
    order["pay_by"] = None
    order["ship_by"] = fmt(pol.add(world.now, pol.ship_within))
    world.event(EventKind.ORDER_PAID, order, order["buyer"], {"amount": order["amount"], "ship_by": order["ship_by"]})


def pay(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    _as(actor)
    order = world.order(order_id)
    P.check_party(order, "buyer", actor)
    P.gate_pay(order, world.policy, world.now)
    _pay(world, order)
    settle_now(world, order)
    return order


def confirm(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    _as(actor)
    order = world.order(order_id)
    who = P.check_party(order, "buyer", actor)
    P.gate_confirm(order, world.policy, world.now)
    order["status"] = P.COMPLETED
    order["completed_at"] = world.now_text
    world.event(EventKind.ORDER_COMPLETED, order, who)
    settle_now(world, order)
    return order


# -- cancellation ---------------------------------------------------------------------------------


def cancel_request(
    world: World, order_id: str, reason: str, note: str | None = None, actor: str | None = None
) -> StoredOrder:
    """R1 for an unpaid order, R5-R7 for a paid one. A seller-fault reason (the order's
    cancellation.fault) leaves the buyer a dispute as the other way."""
    _as(actor)
    validate.choice(reason, tuple(P.CANCEL_REASONS), "reason", "unknown_reason")
    note = validate.field(Cancellation, "note", note)
    order = world.order(order_id)
    who = P.check_party(order, "buyer", actor)
    pol = world.policy
    P.gate_cancel_request(order, pol, world.now)
    fault = P.CANCEL_REASONS[reason][1]
    made = (order.get("cancellation") or {}).get("requests", 0) + 1
    now = world.now_text
    free = order["status"] == P.AWAITING_PAYMENT or (pol.has_free_cancel and P.is_free_cancel(order, pol, world.now))
    if free:
        # R1 (unpaid): granted at once, no seller involved, nothing to refund. R21/R22 (paid, within
        # the free window or unpacked): the same, then the refund starts and the seller is told.
        granted: Cancellation = {
            "reason": reason,
            "fault": fault,
            "note": note,
            "requested_at": now,
            "respond_by": None,
            "status": CancellationStatus.ACCEPTED,
            "responded_at": now,
            "requests": made,
        }
        order["cancellation"] = granted
        world.event(
            EventKind.CANCEL_REQUESTED, order, who, {"reason": reason, "fault": fault, "note": note, "request": made}
        )
        if order["paid_at"] is None:
            _cancel(world, order, EndReason.UNPAID_CANCELLED, who)
        else:
            world.notify(
                order,
                "seller",
                NotificationKind.BUYER_CANCELLED,
                f"{order['buyer']} cancelled order {order['id']} ({reason}): do not ship it",
            )
            _cancel(world, order, EndReason.BUYER_CANCELLED, who)
        settle_now(world, order)
        return order
    respond_by = fmt(pol.add(world.now, pol.seller_response_within))
    order["status"] = P.CANCEL_REQUESTED
    pending: Cancellation = {
        "reason": reason,
        "fault": fault,
        "note": note,
        "requested_at": now,
        "respond_by": respond_by,
        "status": CancellationStatus.PENDING,
        "responded_at": None,
        "requests": made,
    }
    order["cancellation"] = pending
    world.event(
        EventKind.CANCEL_REQUESTED,
        order,
        who,
        {"reason": reason, "fault": fault, "note": note, "respond_by": respond_by, "request": made},
    )
    world.notify(
        order,
        "seller",
        NotificationKind.REQUEST_RECEIVED,
        f"{order['buyer']} asks to cancel order {order['id']} ({reason}); answer by {respond_by}",
    )
    settle_now(world, order)
    return order


def cancel_withdraw(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    """R11."""
    _as(actor)
    order = world.order(order_id)
    who = P.check_party(order, "buyer", actor)
    P.gate_withdraw(order, world.policy, world.now)
    order["status"] = P.AWAITING_SHIPMENT
    order["cancellation"]["status"] = "withdrawn"
    world.event(EventKind.CANCEL_WITHDRAWN, order, who)
    settle_now(world, order)
    return order


def seller_respond(
    world: World, order_id: str, answer: str, message: str | None = None, actor: str | None = None
) -> StoredOrder:
    """R8 accept: cancelled and refunded. R9 reject: back to awaiting_shipment, ship_by unchanged."""
    _as(actor)
    validate.choice(answer, P.RESPONSES, "answer", "bad_answer")
    message = validate.text(message, "message")
    order = world.order(order_id)
    who = P.check_party(order, "seller", actor)
    P.gate_respond(order, world.policy, world.now)
    c = order["cancellation"]
    c["responded_at"] = world.now_text
    if answer == "accept":
        c["status"] = "accepted"
        world.event(EventKind.CANCEL_ACCEPTED, order, who, {"message": message})
        world.notify(
            order,
            "buyer",
            NotificationKind.REQUEST_ANSWERED,
            f"{order['seller']} accepted your request to cancel order {order['id']}"
            + (f": {message}" if message else ""),
        )
        _cancel(world, order, EndReason.CANCEL_ACCEPTED, who)
    else:
        c["status"] = "rejected"
        order["status"] = P.AWAITING_SHIPMENT
        world.event(EventKind.CANCEL_REJECTED, order, who, {"message": message})
        left = world.policy.cancel_requests_max - c["requests"]
        world.notify(
            order,
            "buyer",
            NotificationKind.REQUEST_ANSWERED,
            f"{order['seller']} refused to cancel order {order['id']}"
            + (f": {message}" if message else "")
            + _what_next(left, c["fault"] == "seller"),
        )
    settle_now(world, order)
    return order


def _what_next(left: int, dispute: bool) -> str:
    """The buyer's options after a refusal, as the rules leave them (R9, R13a)."""
    if left > 0:
        return f"; you may ask again ({left} left)" + (" or open a dispute" if dispute else "")
    return "; you may open a dispute" if dispute else ""


def seller_ship(world: World, order_id: str, tracking: str | None = None, actor: str | None = None) -> StoredOrder:
    """R12: a pending request must be answered first."""
    _as(actor)
    tracking = validate.field(Order, "tracking", tracking)
    order = world.order(order_id)
    who = P.check_party(order, "seller", actor)
    P.gate_ship(order, world.policy, world.now)
    order["status"] = P.SHIPPED
    order["shipped_at"] = world.now_text
    if order.get("auto_cancel_by") is not None:  # R25: only a grace lets an order ship after ship_by
        order["shipped_late"] = True
    order["tracking"] = tracking
    world.event(EventKind.ORDER_SHIPPED, order, who, {"tracking": tracking})
    settle_now(world, order)
    return order


def seller_pack(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    """R22: the seller marks the order packed (ready to ship): no more free cancel under
    free_cancel_until_packed, and shipping allowed under pack_before_ship."""
    _as(actor)
    order = world.order(order_id)
    who = P.check_party(order, "seller", actor)
    P.gate_pack(order, world.policy, world.now)
    order["packed_at"] = world.now_text
    world.event(EventKind.ORDER_PACKED, order, who)
    settle_now(world, order)
    return order


def seller_cancel(
    world: World, order_id: str, reason: str, message: str | None = None, actor: str | None = None
) -> StoredOrder:
    """R26: the seller cancels an order not yet shipped, for one of the policy's reasons; a pending
    request is answered by it (accepted). Paid orders are refunded; both parties are told."""
    _as(actor)
    pol = world.policy
    validate.choice(reason, tuple(pol.seller_cancel_reasons), "seller cancel reason", "unknown_reason")
    message = validate.text(message, "message")
    order = world.order(order_id)
    who = P.check_party(order, "seller", actor)
    P.gate_seller_cancel(order, pol, world.now)
    counts = pol.seller_cancel_reasons[reason][1]
    if order["status"] == P.CANCEL_REQUESTED:
        c = order["cancellation"]
        c["status"] = "accepted"
        c["responded_at"] = world.now_text
    why: SellerCancel = {"reason": reason, "counts": counts, "message": message}
    order["seller_cancel"] = why
    world.event(EventKind.SELLER_CANCELLED, order, who, {"reason": reason, "counts": counts, "message": message})
    said = f" ({reason})" + (f": {message}" if message else "")
    world.notify(
        order, "buyer", NotificationKind.SELLER_CANCELLED, f"{order['seller']} cancelled order {order['id']}{said}"
    )
    world.notify(
        order,
        "seller",
        NotificationKind.SELLER_CANCELLED,
        f"You cancelled order {order['id']}{said}" + ("; it counts in your cancellation rate" if counts else ""),
    )
    _cancel(world, order, EndReason.SELLER_CANCELLED, who)
    settle_now(world, order)
    return order


def _cancel(
    world: World,
    order: StoredOrder,
    end_reason: EndReason,
    actor: str,
    tell_buyer: tuple[NotificationKind, str] | None = None,
) -> None:
    """Every path to `cancelled` goes through here, so R14's refund can't be missed or doubled.
    `tell_buyer` is (kind, message), sent before the refund's own notice."""
    order["status"] = P.CANCELLED
    order["cancelled_at"] = world.now_text
    order["end_reason"] = end_reason
    world.event(EventKind.ORDER_CANCELLED, order, actor, {"end_reason": end_reason})
    if tell_buyer is not None:
        world.notify(order, "buyer", *tell_buyer)
    if order["paid_at"] is not None and order["refund"] is None:
        _start_refund(world, order)


# -- refunds (R14-R16) ------------------------------------------------------------------------------


def _start_refund(world: World, order: StoredOrder) -> StoredRefund:
    pol = world.policy
    method = order["payment_method"]
    due_by = fmt(pol.add(world.now, pol.refund_within[method]))
    refund: StoredRefund = {
        "order_id": order["id"],
        "amount": order["amount"],
        "currency": order["currency"],
        "method": method,
        "status": "pending",
        "initiated_at": world.now_text,
        "due_by": due_by,
        "refunded_at": None,
    }
    order["refund"] = refund
    world.event(
        EventKind.REFUND_STARTED,
        order,
        PLATFORM,
        {"amount": order["amount"], "currency": order["currency"], "method": method, "due_by": due_by},
    )
    world.notify(
        order,
        "buyer",
        NotificationKind.REFUND_STARTED,
        f"A refund of {order['amount']} {order['currency']} to your {method} is on its way, due by {due_by}",
    )
    return refund


def _settle_refund(world: World, order: StoredOrder, actor: str) -> None:
    refund = order["refund"]
    refund["status"] = "refunded"
    refund["refunded_at"] = world.now_text
    world.event(EventKind.REFUND_COMPLETED, order, actor, {"amount": refund["amount"], "method": refund["method"]})
    world.notify(
        order,
        "buyer",
        NotificationKind.REFUND_COMPLETED,
        f"Your refund of {refund['amount']} {refund['currency']} for order {order['id']} has been paid",
    )


def refund_of(world: World, order_id: str) -> tuple[StoredOrder, StoredRefund]:
    """The order and its refund; exit 3 when the order has none."""
    order = world.order(order_id)
    if order["refund"] is None:
        raise NotFound(f"order {order_id} has no refund", "refund_not_found")
    return order, order["refund"]


def _refund_command(
    world: World,
    order_id: str,
    actor: str | None,
    gate: Callable[[StoredRefund], None],
    change: Callable[[StoredOrder, StoredRefund, str], None],
) -> StoredOrder:
    """hold, release and settle: the simulated processor's own actions (as `platform`)."""
    _as(actor)
    order, refund = refund_of(world, order_id)
    who = P.check_role(PLATFORM, actor)
    gate(refund)
    change(order, refund, who)
    settle_now(world, order)
    return order


def refund_hold(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    def hold(order: StoredOrder, refund: StoredRefund, who: str) -> None:
        refund["status"] = "held"
        world.event(EventKind.REFUND_HELD, order, who)

    return _refund_command(world, order_id, actor, P.gate_refund_hold, hold)


def refund_release(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    """Lifts a hold; a refund released after its due_by is paid at once (it can't wait any longer)."""

    def release(order: StoredOrder, refund: StoredRefund, who: str) -> None:
        refund["status"] = "pending"
        world.event(EventKind.REFUND_RELEASED, order, who)

    return _refund_command(world, order_id, actor, P.gate_refund_release, release)


def refund_settle(world: World, order_id: str, actor: str | None = None) -> StoredOrder:
    return _refund_command(
        world, order_id, actor, P.gate_refund_settle, lambda order, refund, who: _settle_refund(world, order, who)
    )


# -- disputes (R13) --------------------------------------------------------------------------------


def dispute_open(world: World, order_id: str, reason: str, actor: str | None = None) -> StoredOrder:
    _as(actor)
    validate.choice(reason, P.DISPUTE_REASONS, "dispute reason", "unknown_reason")
    order = world.order(order_id)
    who = P.check_party(order, "buyer", actor)
    P.gate_dispute_open(order, reason, world.policy, world.now)
    dispute: Dispute = {
        "reason": reason,
        "status": DisputeStatus.OPEN,
        "opened_at": world.now_text,
        "resolved_at": None,
        "outcome": None,
    }
    order["disputes"].append(dispute)
    world.event(EventKind.DISPUTE_OPENED, order, who, {"reason": reason})
    world.notify(
        order,
        "seller",
        NotificationKind.DISPUTE_OPENED,
        f"{order['buyer']} opened a dispute on order {order['id']} ({reason})",
    )
    settle_now(world, order)
    return order


def dispute_resolve(world: World, order_id: str, outcome: str, actor: str | None = None) -> StoredOrder:
    """`refund` before shipment cancels (dispute_refund); after shipment it refunds and the
    status stays; on an order that already has a refund it pays that refund now."""
    _as(actor)
    validate.choice(outcome, P.DISPUTE_OUTCOMES, "outcome", "bad_outcome")
    order = world.order(order_id)
    who = P.check_role(SUPPORT, actor)
    dispute = P.gate_dispute_resolve(order, world.policy, world.now)
    dispute["status"] = DisputeStatus.RESOLVED
    dispute["outcome"] = outcome
    dispute["resolved_at"] = world.now_text
    world.event(EventKind.DISPUTE_RESOLVED, order, who, {"outcome": outcome, "reason": dispute["reason"]})
    if outcome == "refund":
        # each notice says what this resolution does, before the refund's own notice
        favour = f"Support decided your dispute on order {order['id']} in your favour"
        refund = order["refund"]
        if order["status"] in (P.AWAITING_SHIPMENT, P.CANCEL_REQUESTED):
            world.notify(
                order, "buyer", NotificationKind.DISPUTE_OUTCOME, f"{favour}: the order is cancelled and refunded"
            )
            _cancel(world, order, EndReason.DISPUTE_REFUND, who)
        elif refund is None:
            world.notify(order, "buyer", NotificationKind.DISPUTE_OUTCOME, f"{favour}: a refund is started")
            if order["paid_at"] is not None:
                _start_refund(world, order)
        elif refund["status"] != "refunded":
            world.notify(order, "buyer", NotificationKind.DISPUTE_OUTCOME, f"{favour}: your refund is paid now")
            _settle_refund(world, order, who)
        else:
            world.notify(order, "buyer", NotificationKind.DISPUTE_OUTCOME, f"{favour}: your refund was already paid")
    else:
        world.notify(
            order, "buyer", NotificationKind.DISPUTE_OUTCOME, f"Support rejected your dispute on order {order['id']}"
        )
    settle_now(world, order)
    return order


# -- the policy -------------------------------------------------------------------------------------


def use_policy(world: World, meta: dict[str, Any], policy: P.Policy) -> None:
    """The world's policy is chosen before its first order: deadlines already computed
    under one policy must not be judged under another."""
    if world.count_orders():
        raise Refused("the policy can't change once the world has orders: start a new world", "world_has_orders")
    world.set_policy(meta, policy)


# -- the clock and the deadlines ----------------------------------------------------------------------


def _fire(world: World, order: StoredOrder, kind: str) -> None:
    if kind == "pay_by":  # R2
        _cancel(
            world,
            order,
            EndReason.PAYMENT_TIMEOUT,
            PLATFORM,
            (NotificationKind.AUTO_CANCELLED, f"Order {order['id']} was cancelled: it was not paid in time"),
        )
    elif kind == "ship_by" and world.policy.auto_cancel_after_ship_by != P.ZERO:
        # R25: the grace starts; a pending request stays pending, the seller may still answer and ship
        pol = world.policy
        grace_end = fmt(pol.add(parse_stored(order["ship_by"]), pol.auto_cancel_after_ship_by))
        order["auto_cancel_by"] = grace_end
        world.event(EventKind.SHIP_BY_PASSED, order, PLATFORM, {"auto_cancel_by": grace_end})
        world.notify(
            order,
            "seller",
            NotificationKind.SHIP_OVERDUE,
            f"Order {order['id']} was due to ship by {order['ship_by']}: ship it by {grace_end} or it is cancelled",
        )
    elif kind in ("ship_by", "auto_cancel_by"):  # R4 (R25 after its grace); a request still pending closes
        if order["status"] == P.CANCEL_REQUESTED:
            order["cancellation"]["status"] = "timed_out"
        _cancel(
            world,
            order,
            EndReason.SHIP_TIMEOUT,
            PLATFORM,
            (
                NotificationKind.AUTO_CANCELLED,
                f"Order {order['id']} was cancelled: the seller did not ship it by {order['ship_by']}",
            ),
        )
    elif kind == "respond_by":  # R10
        pol = world.policy
        order["cancellation"]["status"] = "timed_out"
        world.event(EventKind.CANCEL_TIMED_OUT, order, PLATFORM, {"on_seller_silence": pol.on_seller_silence})
        if pol.on_seller_silence == "cancel":
            _cancel(
                world,
                order,
                EndReason.SELLER_SILENT,
                PLATFORM,
                (
                    NotificationKind.AUTO_CANCELLED,
                    f"Order {order['id']} was cancelled: the seller did not answer your request in time",
                ),
            )
        else:
            order["status"] = P.AWAITING_SHIPMENT
            world.notify(
                order,
                "buyer",
                NotificationKind.REQUEST_LAPSED,
                f"Your request to cancel order {order['id']} lapsed: the seller did not answer in time",
            )
    elif kind == "due_by":  # R16: the processor pays on the last allowed instant
        _settle_refund(world, order, PLATFORM)


Progress = Callable[[int, int], None]


def deadline_index(world: World) -> DeadlineIndex:
    """The world's index of its pending deadlines, built by a full scan on first need."""
    index = world.deadline_index
    if index is None:
        index = world.deadline_index = DeadlineIndex(world.iter_orders())
    return index


def advance(
    world: World, target: datetime, orders: list[StoredOrder] | None = None, progress: Progress | None = None
) -> list[Event]:
    """Move the clock to `target`, firing every deadline due on the way at its own instant.
    Returns the events appended. `orders` are the ones a command just changed: their new
    deadlines join the world's index. `progress(fired, waiting)` is told every 1,000 firings."""
    first_seq = world.meta["next_event"]
    index = world.deadline_index
    if index is None and orders is not None:
        # a command on a world with no index yet (one CLI process): only these orders can be due
        index = DeadlineIndex(orders)
    else:
        index = deadline_index(world)
        for order in orders or ():
            index.push(order)
    fired = 0
    waiting = index.due_count(target) if progress is not None else 0  # for people: stale entries count too
    while (due := index.pop_due(world, target)) is not None:
        order, kind, at = due
        if at > world.now:
            world.set_now(at)
        _fire(world, order, kind)
        # firing may create deadlines due within this same move
        waiting += index.push(order, target) - 1
        fired += 1
        if progress is not None and fired % 1000 == 0:
            progress(fired, max(waiting, 0))
    if target != world.now:
        world.set_now(target)
    return world.events_since(first_seq)


def settle_now(world: World, order: StoredOrder) -> None:
    """After a command: whatever it made due at this very instant fires now."""
    if world.deadline_index is None:
        # no index (one CLI process, a simulated world): only this order can be due, and most often
        # nothing of it is; advance would build a one-order index only to find that out
        now = world.now
        for _, at in P.pending_deadlines(order):
            if at <= now:
                break
        else:
            return
    advance(world, world.now, [order])


def clock_set(world: World, instant: datetime, progress: Progress | None = None) -> Move:
    if instant < world.now and world.has_history():
        raise Refused(
            f"the clock only moves forward once the world has history: it is {world.now_text}, "
            f"not moving back to {fmt(instant)}",
            "clock_backwards",
        )
    return _move(world, instant, progress)


def clock_tick(world: World, duration: str, progress: Progress | None = None) -> Move:
    delta = parse_duration(duration)
    try:
        target = world.now + delta
    except OverflowError:
        raise UsageError(f"ticking {duration} moves the clock past the year 9999", "bad_duration") from None
    return _move(world, target, progress)


def clock_next(world: World, progress: Progress | None = None) -> Move:
    earliest = deadline_index(world).earliest(world)
    if earliest is None:
        raise Refused("no deadline is pending", "no_pending_deadline")
    return _move(world, earliest, progress)


def _move(world: World, target: datetime, progress: Progress | None = None) -> Move:
    start = world.now
    if target < start:
        # an empty world's clock may go anywhere: nothing can be due before it
        world.set_now(target)
        return {"from": fmt(start), "to": fmt(target), "fired": []}
    fired = advance(world, target, progress=progress)
    return {"from": fmt(start), "to": world.now_text, "fired": fired}


# -- messages: the buyer-seller thread of an order ------------------------------------------------


def send_message(world: World, order_id: str, text: str, actor: str) -> StoredMessage:
    """One message in the order's thread, from its buyer or its seller; the other party is
    notified (R18) and the history records it (R19). The order's state does not change."""
    who = validate.name(actor, "actor").strip()  # as the parties' names are kept
    text = validate.field(Message, "text", text)
    order = world.order(order_id)
    role = P.message_role(order, who)
    other = "seller" if role == "buyer" else "buyer"
    thread = order.setdefault("messages", [])
    message: StoredMessage = {
        "n": len(thread) + 1,
        "at": world.now_text,
        "from": who,
        "role": role,
        "to": order[other],
        "text": text,
    }
    thread.append(message)
    world.event(EventKind.MESSAGE_SENT, order, who, {"to": order[other], "n": message["n"], "message": text})
    world.notify(order, other, NotificationKind.MESSAGE_RECEIVED, f"{who} wrote about order {order['id']}: {text}")
    return message


def messages(world: World, order_id: str) -> list[StoredMessage]:
    """The order's thread, oldest first; an unknown order is exit 3."""
    return list(world.order(order_id).get("messages") or [])
