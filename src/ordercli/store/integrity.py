"""`db check`: what is wrong with a world's tables, as a list of problems. Pure.

Also used after an unexpected failure, to tell a damaged file (exit 5) from a bug (exit 1),
so every field the engine reads is checked for its type here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ordercli.core import policy as P
from ordercli.core.errors import UsageError
from ordercli.core.timecalc import parse_stored
from ordercli.core.world import CHANNELS, KEYS

Check = Callable[[Any], bool]


def _instant(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return parse_stored(value).tzinfo is not None  # type: ignore[union-attr]
    except ValueError:
        return False


def _decimal(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite() and Decimal(value) > 0
    except InvalidOperation:
        return False


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _method(value: Any) -> bool:
    """A payment method is a name (R27: any the policy's refund_within names)."""
    return isinstance(value, str) and P.is_name(value)


class _OneOf:
    def __init__(self, *allowed: str):
        self.allowed = allowed

    def __call__(self, value: Any) -> bool:
        return value in self.allowed


def _one_of(*allowed: str) -> Check:
    return _OneOf(*allowed)


def _optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _shape(fields: dict[str, Check]) -> Check:
    return lambda value: isinstance(value, dict) and not _shape_problems(value, fields)


def _shape_problems(value: dict, fields: dict[str, Check]) -> list[str]:
    out = []
    for key, check in fields.items():
        if key not in value:
            out.append(f"missing {key}")
        elif not check(value[key]):
            word = "unknown" if isinstance(check, _OneOf) else "malformed"
            out.append(f"{word} {key} {value[key]!r:.40}")
    return out


CANCELLATION = {
    "reason": _one_of(*P.CANCEL_REASONS),
    "fault": _one_of("buyer", "seller"),
    "note": _optional(_text),
    "requested_at": _instant,
    "respond_by": _optional(_instant),
    "status": _one_of("pending", "accepted", "rejected", "withdrawn", "timed_out"),
    "responded_at": _optional(_instant),
    "requests": _count,
}
REFUND = {
    "order_id": _text,
    "amount": _decimal,
    "currency": _text,
    "method": _method,
    "status": _one_of("pending", "held", "refunded"),
    "initiated_at": _instant,
    "due_by": _instant,
    "refunded_at": _optional(_instant),
}
DISPUTE = {
    "reason": _one_of(*P.DISPUTE_REASONS),
    "status": _one_of("open", "resolved"),
    "opened_at": _instant,
    "resolved_at": _optional(_instant),
    "outcome": _optional(_one_of(*P.DISPUTE_OUTCOMES)),
}
SELLER_CANCEL = {
    "reason": lambda v: isinstance(v, str) and P.is_name(v),
    "counts": lambda v: type(v) is bool,
    "message": _optional(_text),
}
ORDER: dict[str, Check] = {
    "id": _text,
    "buyer": _text,
    "seller": _text,
    "item": _text,
    "quantity": _count,
    "amount": _decimal,
    "currency": _text,
    "payment_method": _method,
    "status": _one_of(*P.STATUSES),
    "placed_at": _instant,
    "pay_by": _optional(_instant),
    "paid_at": _optional(_instant),
    "ship_by": _optional(_instant),
    "shipped_at": _optional(_instant),
    "tracking": _optional(_text),
    "completed_at": _optional(_instant),
    "cancelled_at": _optional(_instant),
    "end_reason": _optional(_one_of(*P.END_REASONS)),
    "cancellation": _optional(_shape(CANCELLATION)),
    "refund": _optional(_shape(REFUND)),
    "disputes": lambda v: isinstance(v, list) and all(_shape(DISPUTE)(d) for d in v),
    # schema 4 (issue 19)
    "packed_at": _optional(_instant),
    "shipped_late": lambda v: type(v) is bool,
    "auto_cancel_by": _optional(_instant),
    "seller_cancel": _optional(_shape(SELLER_CANCEL)),
}
MESSAGE = {  # an order's thread (messages send); older files have no thread
    "n": _count,
    "at": _instant,
    "from": _text,
    "role": _one_of("buyer", "seller"),
    "to": _text,
    "text": _text,
}
EVENT = {
    "seq": _count,
    "at": _instant,
    "order_id": _optional(_text),
    "kind": _text,
    "actor": _text,
    "details": lambda v: isinstance(v, dict),
}


def _channels(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(c, str) and c in CHANNELS for c in value)
        and len(set(value)) == len(value)
    )


NOTIFICATION = {  # a stored notice: listed once per channel
    "seq": _count,
    "at": _instant,
    "to": _text,
    "role": _one_of("buyer", "seller"),
    "channels": _channels,
    "order_id": _text,
    "kind": _text,
    "message": _text,
}


def _range(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(type(v) is int and v >= 1 for v in value)
        and value[0] <= value[1]
    )


_KEY_RESULTS: dict[str, dict[str, Check]] = {  # what a kept key remembers, by the kind of its command's answer
    "order": {"order": _text},
    "refund": {"order": _text},
    "message": {"order": _text, "n": lambda v: _count(v) and v >= 1},
    "imported": {"orders": _range},
    "move": {"from": _instant, "to": _instant},
    "policy": {},
}


def key_problem(key: str, record: Any) -> str | None:
    """What is wrong with one kept idempotency key's record, None when it is sound."""
    from ordercli.core.idempotency import COMMANDS

    where = f"idempotency key {key!r:.40}"
    if not isinstance(record, dict):
        return f"{where}: not an object"
    command = record.get("command")
    if command not in COMMANDS:
        return f"{where}: unknown command {command!r:.40}"
    fields: dict[str, Check] = {
        "fingerprint": lambda v: isinstance(v, str) and len(v) == 64,
        "at": _instant,
        "result": lambda v: isinstance(v, dict),
    }
    shape = _shape_problems(record, fields) or _shape_problems(
        record["result"], {"events": _range, **_KEY_RESULTS[COMMANDS[command]]}
    )
    return f"{where}: {shape[0]}" if shape else None


def _keys_problems(table: Any, next_event: Any, next_order: Any) -> list[str]:
    """The idempotency table (schema 4): empty, or one document mapping each key to its record,
    whose ranges lie within the history."""
    if not table:
        return []
    if set(table) != {"1"} or not isinstance(table["1"], dict):
        return [f"{KEYS}: not one document (id 1) of keys"]
    out = []
    for key, record in table["1"].items():
        problem = key_problem(key, record)
        if problem is None and _count(next_event) and record["result"]["events"][1] > next_event:
            problem = f"idempotency key {key!r:.40}: its events are past next_event"
        orders = record["result"].get("orders") if problem is None else None
        if orders and _count(next_order) and orders[1] > next_order:
            problem = f"idempotency key {key!r:.40}: its orders are past next_order"
        if problem:
            out.append(problem)
    return out


_PAID = (P.AWAITING_SHIPMENT, P.CANCEL_REQUESTED, P.SHIPPED, P.COMPLETED)

# The fast path of the order check, for commands that read every order (a list, a tick): the same
# rules as ORDER, in straight-line code, remembering the instants and amounts already found sound
# (a world repeats them a lot). False sends the order to the slow path, which names the problem.
# _SOUND assumes a check's answer depends on the text alone: it is keyed by (check, text), since one
# text can pass one check and fail another ("19.99" is an amount, not an instant). Pure checks only.
_SOUND: set[tuple[Check, str]] = set()
_SOUND_LIMIT = 200_000
_STATUSES = frozenset(P.STATUSES)
_METHODS = frozenset(P.PAYMENT_METHODS)
_END_REASONS = frozenset(P.END_REASONS)
_OPTIONAL_INSTANTS = (
    "pay_by",
    "paid_at",
    "ship_by",
    "shipped_at",
    "completed_at",
    "cancelled_at",
    "packed_at",
    "auto_cancel_by",
)
_SELLER_CANCEL_OK = _shape(SELLER_CANCEL)
_CANCELLATION_OK = _shape(CANCELLATION)
_REFUND_OK = _shape(REFUND)
_DISPUTE_OK = _shape(DISPUTE)


def _sound(value: Any, check: Check) -> bool:
    if type(value) is not str:
        return False
    if (check, value) in _SOUND:
        return True
    if not check(value):
        return False
    if len(_SOUND) < _SOUND_LIMIT:
        _SOUND.add((check, value))
    return True


def _order_shape_ok(o: dict) -> bool:
    try:
        for key in ("id", "buyer", "seller", "item", "currency"):
            if type(o[key]) is not str:
                return False
        quantity = o["quantity"]
        if type(quantity) is not int or quantity < 0:
            return False
        if not (_sound(o["amount"], _decimal) and _sound(o["placed_at"], _instant)):
            return False
        method = o["payment_method"]
        if (method not in _METHODS and not _method(method)) or o["status"] not in _STATUSES:
            return False
        seller_cancel = o["seller_cancel"]
        if type(o["shipped_late"]) is not bool or (seller_cancel is not None and not _SELLER_CANCEL_OK(seller_cancel)):
            return False
        for key in _OPTIONAL_INSTANTS:
            value = o[key]
            if value is not None and not _sound(value, _instant):
                return False
        tracking, end_reason = o["tracking"], o["end_reason"]
        if (tracking is not None and type(tracking) is not str) or (
            end_reason is not None and end_reason not in _END_REASONS
        ):
            return False
        cancellation, refund, disputes = o["cancellation"], o["refund"], o["disputes"]
        if cancellation is not None and not _CANCELLATION_OK(cancellation):
            return False
        if refund is not None and not _REFUND_OK(refund):
            return False
        return type(disputes) is list and all(_DISPUTE_OK(d) for d in disputes)
    except (KeyError, TypeError):  # a missing key, an unhashable value: the slow path names it
        return False


def _thread_ok(thread: Any) -> bool:
    if not isinstance(thread, list) or not all(_shape(MESSAGE)(m) for m in thread):
        return False
    return [m["n"] for m in thread] == list(range(1, len(thread) + 1))


def order_problems(key: str, order: Any, now: datetime | None) -> list[str]:
    """What is wrong with one order (stored under `key`); [] when it is sound."""
    if not isinstance(order, dict):
        return [f"order {key}: not an object"]
    where = f"order {order.get('id', key)}"
    shape = [] if _order_shape_ok(order) else _shape_problems(order, ORDER)
    if shape:
        return [f"{where}: {p}" for p in shape]
    out = []
    if not key.isdigit() or key != str(int(key)) or order["id"] != f"ORD-{int(key):04d}":
        out.append(f"{where}: id does not match its key {key!r}")
    if not _thread_ok(order.get("messages", [])):
        out.append(f"{where}: malformed messages thread")
    status = order["status"]
    if status in _PAID and (order["paid_at"] is None or order["ship_by"] is None):
        out.append(f"{where}: {status} but paid_at or ship_by is missing")
    if status == P.CANCEL_REQUESTED and (
        order["cancellation"] is None
        or order["cancellation"]["status"] != "pending"
        or order["cancellation"]["respond_by"] is None
    ):
        out.append(f"{where}: cancel_requested without a pending request")
    if (status == P.CANCELLED) != (order["end_reason"] is not None):
        out.append(f"{where}: end_reason {order['end_reason']!r} does not fit status {status}")
    refund = order["refund"]
    if refund is not None:
        if order["paid_at"] is None:
            out.append(f"{where}: a refund on an unpaid order")
        elif refund["amount"] != order["amount"]:
            out.append(f"{where}: refund amount {refund['amount']!r} differs from the paid {order['amount']!r}")
    elif status == P.CANCELLED and order["paid_at"] is not None:
        out.append(f"{where}: cancelled after payment but no refund")
    if now is not None and not out:
        for kind, at in P.pending_deadlines(order):
            if at <= now:
                out.append(f"{where}: {kind} {at.isoformat()} is past but still pending")
    return out


def problems(tables: dict[str, Any], limit: int = 100) -> list[str]:
    out: list[str] = []
    meta = tables["meta"]["1"]
    now = parse_stored(meta["clock"]) if _instant(meta.get("clock")) else None
    if now is None:
        out.append(f"meta: clock {meta.get('clock')!r} is not an instant")
    try:
        pol = meta["policy"]
        P.policy_from_mapping(pol["values"], pol["name"])
    except (KeyError, TypeError):
        out.append("meta: the policy is missing or malformed")
    except UsageError as exc:
        out.append(f"meta: {exc.message}")
    for counter in ("next_order", "next_event", "next_notification"):
        if not _count(meta.get(counter)):
            out.append(f"meta: {counter} is not a count")
    for key, order in tables["orders"].items():
        out += order_problems(key, order, now)
        if len(out) >= limit:
            return out[:limit]
    for name, fields in (("events", EVENT), ("notifications", NOTIFICATION)):
        # events: ids and seq 1, 2, 3 ...; notices: ids 1, 2, 3 ..., seq counting one per channel
        before, seq = len(out), 1
        for n, (key, row) in enumerate(tables[name].items(), start=1):
            if not isinstance(row, dict) or row.get("seq") != seq or key != str(n):
                out.append(f"{name}: seq {seq} is missing, duplicated or out of order")
                break
            shape = _shape_problems(row, fields)
            if shape:
                out.append(f"{name} {seq}: {shape[0]}")
                break
            seq += len(row["channels"]) if name == "notifications" else 1
        counter = meta.get(f"next_{name[:-1]}")
        if len(out) == before and _count(counter) and counter != seq:
            out.append(f"meta: next_{name[:-1]} does not follow the {name} table")
    out += _keys_problems(tables.get(KEYS), meta.get("next_event"), meta.get("next_order"))
    return out[:limit]


def first_problem(tables: dict[str, Any]) -> str | None:
    """What is wrong first, for refusing a file: also when the checks themselves choke on it
    (a shape they never expected), since then the file is what's wrong."""
    try:
        found = problems(tables, limit=1)
    except Exception:
        return "it does not have the shape of ordercli data"
    return found[0] if found else None


_ROWS = {"events": EVENT, "notifications": NOTIFICATION}


def row_problem(table: str, row: Any) -> str | None:
    """What is wrong with one event or notification, None when it is sound."""
    if not isinstance(row, dict):
        return f"{table}: a row that is not an object"
    shape = _shape_problems(row, _ROWS[table])
    return f"{table} {row.get('seq', '?')}: {shape[0]}" if shape else None
