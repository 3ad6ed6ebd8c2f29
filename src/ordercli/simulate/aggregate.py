"""What a shard keeps of its orders: counts, sums and fixed-bin histograms, all integers.

Integers add up the same in any order, and the histograms have one-minute bins, so merging
shards gives exact, reproducible percentiles (to the minute) with memory that does not grow
with the number of orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordercli.core.metrics import ANSWERED, ASKED, DECIDED, FAULT, FREE, LATE, SHIPPED, order_figures
from ordercli.core.policy import END_REASONS, PAYMENT_METHODS
from ordercli.core.timecalc import parse_stored

# Every order ends the simulation in one of these: an end reason when cancelled, else its status.
OUTCOMES = (*END_REASONS, "completed", "shipped", "awaiting_shipment", "cancel_requested", "awaiting_payment")
AUTO_CANCEL = ("seller_silent", "ship_timeout")
TIMES = ("request_to_outcome", "cancellation_to_refund")
# The seller metrics of the paid orders (metrics.order_figures: the definitions of `seller stats`)
SELLER = (
    "paid",
    "seller_faults",
    "shipments",
    "late_shipments",
    "decided",
    "decided_answered",
    "buyer_asked",
    "free_cancels",
)
COUNTS = ("orders", "requests", "answered", "refunds", "overdue", "disputes", *SELLER)
BIN = 60  # seconds per histogram bin


def empty() -> dict[str, Any]:
    return {
        "orders": 0,
        "outcomes": dict.fromkeys(OUTCOMES, 0),
        "requests": 0,
        "answered": 0,
        "refunds": 0,
        "overdue": 0,
        "disputes": 0,
        **dict.fromkeys(SELLER, 0),
        "times": {t: {m: {"count": 0, "sum": 0, "hist": {}} for m in PAYMENT_METHODS} for t in TIMES},
    }


def _add(slot: dict[str, Any], seconds: int) -> None:
    slot["count"] += 1
    slot["sum"] += seconds
    hist = slot["hist"]
    b = seconds // BIN
    hist[b] = hist.get(b, 0) + 1


def aggregate(orders: list[dict], end: datetime) -> dict[str, Any]:
    """One shard's orders under one policy, after every deadline and action has played out."""
    agg = empty()
    outcomes = agg["outcomes"]
    req_times = agg["times"]["request_to_outcome"]
    refund_times = agg["times"]["cancellation_to_refund"]
    agg["orders"] = len(orders)
    figures: dict[int, int] = {}  # how many paid orders have each combination of figures
    for o in orders:
        if o["paid_at"] is not None:
            bits = order_figures(o)
            figures[bits] = figures.get(bits, 0) + 1
        status = o["status"]
        outcomes[o["end_reason"] if status == "cancelled" else status] += 1
        method = o["payment_method"]
        if method not in req_times:  # a method of another policy (R27): timed, though the report lists the four
            for t in TIMES:
                agg["times"][t][method] = {"count": 0, "sum": 0, "hist": {}}
        c = o["cancellation"]
        if c is not None and c["respond_by"] is not None:  # a request to the seller (not R1)
            agg["requests"] += 1
            cstat = c["status"]
            requested = parse_stored(c["requested_at"])
            if cstat in ("accepted", "rejected"):
                agg["answered"] += 1
                outcome_at = parse_stored(c["responded_at"])
            elif cstat == "timed_out":
                # closed by respond_by, or earlier by ship_by (R4) while still pending
                outcome_at = min(parse_stored(c["respond_by"]), parse_stored(o["cancelled_at"]) or end)  # type: ignore[type-var]
            else:
                outcome_at = None
            if outcome_at is not None:
                _add(req_times[method], int((outcome_at - requested).total_seconds()))  # type: ignore[operator]
        refund = o["refund"]
        if refund is not None:
            agg["refunds"] += 1
            due_by = parse_stored(refund["due_by"])
            refunded = parse_stored(refund["refunded_at"])
            if (refunded if refunded is not None else end) > due_by:  # type: ignore[operator]
                agg["overdue"] += 1
            cancelled = parse_stored(o["cancelled_at"])
            if cancelled is not None and refunded is not None:
                _add(refund_times[method], int((refunded - cancelled).total_seconds()))
        agg["disputes"] += len(o["disputes"])
    for bits, n in figures.items():
        agg["paid"] += n
        for key, bit in _SELLER_BITS:
            if bits & bit:
                agg[key] += n
    return agg


_SELLER_BITS = (
    ("seller_faults", FAULT),
    ("shipments", SHIPPED),
    ("late_shipments", LATE),
    ("decided", DECIDED),
    ("decided_answered", ANSWERED),
    ("buyer_asked", ASKED),
    ("free_cancels", FREE),
)


def merge_into(total: dict[str, Any], shard: dict[str, Any]) -> None:
    """Add a shard's aggregates to a running total (integers only: order does not matter)."""
    for key in COUNTS:
        total[key] += shard[key]
    for k, v in shard["outcomes"].items():
        total["outcomes"][k] += v
    for t in TIMES:
        for m in shard["times"][t]:
            a, b = total["times"][t].setdefault(m, {"count": 0, "sum": 0, "hist": {}}), shard["times"][t][m]
            a["count"] += b["count"]
            a["sum"] += b["sum"]
            hist = a["hist"]
            for k, v in b["hist"].items():
                hist[k] = hist.get(k, 0) + v


def scalars(shard: dict[str, Any]) -> dict[str, Any]:
    """What the intervals need of one shard: everything but the histograms."""
    return {
        **{k: shard[k] for k in COUNTS},
        "outcomes": dict(shard["outcomes"]),
        "times": {t: {m: (s["count"], s["sum"]) for m, s in shard["times"][t].items()} for t in TIMES},
    }


def percentile(hist: dict[int, int], q: float) -> int | None:
    """Nearest rank on one-minute bins: the lower edge (in seconds) of the bin holding it."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = max(1, -(-int(q * 1000) * total // 1000))  # ceil(q * total), exactly, for q in thousandths
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            return b * BIN
    return max(hist) * BIN  # pragma: no cover - rank <= total
