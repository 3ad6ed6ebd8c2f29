"""`db check`: what is wrong with a world's tables, as a list of problems. Pure."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ordercli import policy as P
from ordercli.errors import UsageError

ORDER_KEYS = (
    "id",
    "buyer",
    "seller",
    "item",
    "quantity",
    "amount",
    "currency",
    "payment_method",
    "status",
    "placed_at",
    "paid_at",
    "ship_by",
    "shipped_at",
    "completed_at",
    "cancelled_at",
    "end_reason",
    "cancellation",
    "refund",
    "disputes",
)
_INSTANT_KEYS = ("placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at")


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(value)
    return dt


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise InvalidOperation(value)
    return Decimal(value)


def problems(tables: dict[str, Any], limit: int = 100) -> list[str]:
    out: list[str] = []

    def bad(msg: str) -> None:
        if len(out) < limit:
            out.append(msg)

    meta = tables["meta"]["1"]
    now: datetime | None = None
    try:
        now = _instant(meta.get("clock"))
    except ValueError:
        bad(f"meta: clock {meta.get('clock')!r} is not an instant")
    try:
        pol = meta["policy"]
        P.policy_from_mapping(pol["values"], pol["name"])
    except (KeyError, TypeError):
        bad("meta: the policy is missing or malformed")
    except UsageError as exc:
        bad(f"meta: {exc.message}")
    for counter in ("next_order", "next_event", "next_notification"):
        if not isinstance(meta.get(counter), int):
            bad(f"meta: {counter} is not an integer")

    for key, order in tables["orders"].items():
        where = f"order {key}"
        if not isinstance(order, dict):
            bad(f"{where}: not an object")
            continue
        missing = [k for k in ORDER_KEYS if k not in order]
        if missing:
            bad(f"{where}: missing {', '.join(missing)}")
            continue
        where = f"order {order['id']}"
        if not key.isdigit() or order["id"] != f"ORD-{int(key):04d}":
            bad(f"{where}: id does not match its key {key!r}")
        if order["status"] not in P.STATUSES:
            bad(f"{where}: unknown status {order['status']!r}")
            continue
        try:
            for k in _INSTANT_KEYS:
                _instant(order[k])
        except ValueError:
            bad(f"{where}: {k} is not an instant with an offset")
            continue
        try:
            amount = _decimal(order["amount"])
            if amount <= 0:
                bad(f"{where}: amount is not positive")
        except InvalidOperation:
            bad(f"{where}: amount {order['amount']!r} is not a decimal string")
            amount = None
        cancelled = order["status"] == P.CANCELLED
        if cancelled != (order["end_reason"] is not None):
            bad(f"{where}: end_reason {order['end_reason']!r} does not fit status {order['status']}")
        if order["end_reason"] is not None and order["end_reason"] not in P.END_REASONS:
            bad(f"{where}: unknown end_reason {order['end_reason']!r}")
        refund = order["refund"]
        if refund is not None:
            if order["paid_at"] is None:
                bad(f"{where}: a refund on an unpaid order")
            elif not isinstance(refund, dict) or refund.get("status") not in ("pending", "held", "refunded"):
                bad(f"{where}: malformed refund")
            elif amount is not None and refund.get("amount") != order["amount"]:
                bad(f"{where}: refund amount {refund.get('amount')!r} differs from the paid {order['amount']!r}")
        elif cancelled and order["paid_at"] is not None:
            bad(f"{where}: cancelled after payment but no refund")
        if now is not None:
            try:
                due = [(k, at) for k, at in P.pending_deadlines(order) if at <= now]
            except (KeyError, TypeError, ValueError):
                bad(f"{where}: malformed deadlines")
                continue
            for kind, at in due:
                bad(f"{where}: {kind} {at.isoformat()} is past but still pending")

    for name in ("events", "notifications"):
        table = tables[name]
        for n, (key, row) in enumerate(table.items(), start=1):
            if not isinstance(row, dict) or row.get("seq") != n or key != str(n):
                bad(f"{name}: seq {n} is missing, duplicated or out of order")
                break
    return out
