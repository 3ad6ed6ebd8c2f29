"""Seller metrics (`seller stats`, docs/rules.md "Seller metrics"): pure, over orders and their
events, against the policy's ceilings (R28). Reads no clock and no file: `now` is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ordercli.core.policy import Policy
from ordercli.core.timecalc import fmt, parse_stored

if TYPE_CHECKING:
    from ordercli.core.model import Event
    from ordercli.core.world import StoredOrder

# What a seller is blamed for: their own cancellations whose reason counts (R26), silence that
# cancelled (R10), and orders they did not ship in time (R4, R25). A lapsed request is no cancellation.
_FAULT_ENDS = ("seller_silent", "ship_timeout")
_ANSWERS = ("cancel_accepted", "cancel_rejected", "seller_cancelled")
_UNANSWERED = ("cancel_timed_out", "order_cancelled")  # the request closed without the seller's word


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def against(rate: float | None, ceiling: float | None) -> str | None:
    if rate is None or ceiling is None:
        return None
    return "over" if rate > ceiling else "ok"


def seller_fault(order: StoredOrder) -> bool:
    return bool(order_figures(order) & FAULT)


# A paid order's part in the seller metrics, as bits: seller stats and simulate's aggregate both
# classify with order_figures, so the two can't define a figure differently.
FAULT = 1  # a seller-fault cancellation
SHIPPED = 2
LATE = 4  # shipped after ship_by (R25)
DECIDED = 8  # its request to the seller was decided: answered, or closed without an answer
ANSWERED = 16  # ... answered by the seller (only possible before respond_by: in time)
ASKED = 32  # the buyer asked to cancel it (a request to the seller, or a free cancel)
FREE = 64  # the buyer cancelled it freely (R21, R22: end reason buyer_cancelled)


def order_figures(order: StoredOrder) -> int:
    """The bits above for one paid order. The request bits are its last request's (the order keeps
    no more: seller stats reads the events of an order asked more than once, requests_answered)."""
    bits = 0
    end = order.get("end_reason")
    if end is not None:
        if end in _FAULT_ENDS or (end == "seller_cancelled" and (order.get("seller_cancel") or {}).get("counts")):
            bits = FAULT
        elif end == "buyer_cancelled":
            bits = FREE
    if order.get("shipped_at") is not None:
        bits |= SHIPPED | LATE if order.get("shipped_late") else SHIPPED
    c = order.get("cancellation")
    if c is not None:
        bits |= ASKED
        if c.get("respond_by") is not None:  # R1's and R21/R22's instant cancels are no requests
            status = c["status"]
            if status in _ANSWERED_STATUSES:
                bits |= DECIDED | ANSWERED
            elif status == "timed_out":  # respond_by passed, or ship_by closed it (R4)
                bits |= DECIDED
    return bits


_ANSWERED_STATUSES = ("accepted", "rejected")  # accepted: by the seller, or by their own cancel (R26)


def requests_answered(events: Iterable[Event]) -> tuple[int, int]:
    """(requests the seller answered in time, requests decided) from one order's history: a paid
    order's request is decided when the seller answers it (accept, reject, or cancelling the order),
    or when it closes without an answer (timed out, the order cancelled); a withdrawn or still
    pending request is not counted. The seller can only answer before respond_by, so an answer is
    in time."""
    answered = decided = 0
    open_ = False
    for e in events:
        kind = e["kind"]
        if kind == "cancel_requested":
            open_ = e["details"].get("respond_by") is not None  # R1's instant cancels are no requests
        elif not open_:
            continue
        elif kind in _ANSWERS:
            answered += 1
            decided += 1
            open_ = False
        elif kind in _UNANSWERED:
            decided += 1
            open_ = False
        elif kind == "cancel_withdrawn":
            open_ = False
    return answered, decided


def seller_stats(
    orders: Iterable[StoredOrder],
    events_of: Callable[[str], Iterable[Event]],
    policy: Policy,
    now: datetime,
    window: timedelta,
    seller: str | None = None,
) -> list[dict[str, Any]]:
    """One row per seller (or only `seller`), over the orders paid in (now - window, now].
    `events_of(order_id)` gives an order's events, oldest first."""
    since = now - window
    rows: dict[str, dict[str, Any]] = {}
    for o in orders:
        if seller is not None and o["seller"] != seller:
            continue
        paid = o.get("paid_at")
        if paid is None:
            continue
        paid_at = parse_stored(paid)
        if not since < paid_at <= now:
            continue
        row = rows.setdefault(
            o["seller"], {"orders": 0, "faults": 0, "shipments": 0, "late": 0, "requests": 0, "answered": 0}
        )
        bits = order_figures(o)
        row["orders"] += 1
        row["faults"] += bool(bits & FAULT)
        row["shipments"] += bool(bits & SHIPPED)
        row["late"] += bool(bits & LATE)
        if (o.get("cancellation") or {}).get("requests", 1) > 1:  # earlier requests: only the events tell
            answered, decided = requests_answered(events_of(o["id"]))
        else:
            answered, decided = bool(bits & ANSWERED), bool(bits & DECIDED)
        row["answered"] += answered
        row["requests"] += decided
    out = []
    for name in sorted(rows):
        r = rows[name]
        cancel_rate = _rate(r["faults"], r["orders"])
        late_rate = _rate(r["late"], r["shipments"])
        out.append(
            {
                "seller": name,
                "from": fmt(since),
                "to": fmt(now),
                "orders": r["orders"],
                "seller_cancellations": r["faults"],
                "cancel_rate": cancel_rate,
                "cancel_rate_max": policy.seller_cancel_rate_max,
                "cancel_rate_status": against(cancel_rate, policy.seller_cancel_rate_max),
                "shipments": r["shipments"],
                "late_shipments": r["late"],
                "late_shipment_rate": late_rate,
                "late_shipment_rate_max": policy.late_shipment_rate_max,
                "late_shipment_rate_status": against(late_rate, policy.late_shipment_rate_max),
                "requests": r["requests"],
                "requests_answered_in_time": r["answered"],
                "answered_in_time_rate": _rate(r["answered"], r["requests"]),
            }
        )
    return out
