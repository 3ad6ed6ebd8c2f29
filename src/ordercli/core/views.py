"""The JSON objects of docs/cli.md, built from the stored world. Derived fields (next_deadline,
actions, overdue) are computed here against the virtual now, never stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from ordercli.core import policy as P
from ordercli.core.model import DisputeRow, Message, Order, Reason, Refund
from ordercli.core.timecalc import fmt
from ordercli.core.world import StoredMessage, StoredOrder, StoredRefund, World

ORDER_FIELDS = (
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
    "pay_by",
    "paid_at",
    "ship_by",
    "shipped_at",
    "tracking",
    "completed_at",
    "cancelled_at",
    "end_reason",
)


def refund(r: StoredRefund | None, now: datetime) -> Refund | None:
    return None if r is None else _refund_view(r, now)


def _refund_view(r: StoredRefund, now: datetime) -> Refund:
    return cast(Refund, {**r, "overdue": P.refund_overdue(r, now)})


def order(world: World, o: StoredOrder) -> Order:
    now = world.now
    out: dict[str, Any] = {k: o.get(k) for k in ORDER_FIELDS}
    out["cancellation"] = dict(o["cancellation"]) if o.get("cancellation") else None
    out["refund"] = refund(o.get("refund"), now)
    disputes = o.get("disputes") or []
    out["dispute"] = dict(disputes[-1]) if disputes else None
    nd = P.next_deadline(o)
    out["next_deadline"] = {"kind": nd["kind"], "at": fmt(nd["at"])} if nd else None
    out["actions"] = P.actions(o, world.policy, now)
    out["packed_at"] = o.get("packed_at")
    out["shipped_late"] = o.get("shipped_late", False)
    out["auto_cancel_by"] = o.get("auto_cancel_by")
    sc = o.get("seller_cancel")
    out["seller_cancel"] = dict(sc) if sc else None
    return cast(Order, out)


def disputes(world: World) -> list[DisputeRow]:
    return [
        cast(DisputeRow, {"order_id": o["id"], "buyer": o["buyer"], "seller": o["seller"], **d})
        for o in world.orders_with_disputes()
        for d in (o.get("disputes") or [])
    ]


def refunds(world: World, overdue_only: bool = False) -> list[Refund]:
    now = world.now
    out: list[Refund] = []
    for o in world.orders_with_refund():
        r = o.get("refund")
        if r is None:
            continue
        view = _refund_view(r, now)
        if overdue_only and not view["overdue"]:
            continue
        out.append(view)
    return out


def reasons() -> list[Reason]:
    return [{"code": c, "meaning": m, "fault": f} for c, (m, f) in P.CANCEL_REASONS.items()]


def policy(world: World) -> dict[str, Any]:
    """`policy show`: every value in force, and where each came from (a preset or a file)."""
    meta = world.meta["policy"]
    origins = meta.get("origins") or {}
    values = world.policy.describe()
    default_origin = f"{meta.get('source', 'preset')} {meta['name']}"
    sources: dict[str, str] = {}
    for key in (k for k in values if k != "name"):
        if isinstance(values[key], dict):
            for sub in values[key]:
                sources[f"{key}.{sub}"] = origins.get(f"{key}.{sub}", default_origin)
        else:
            sources[key] = origins.get(key, default_origin)
    return {**values, "source": meta.get("source", "preset"), "sources": sources}


def message(order_id: str, m: StoredMessage) -> Message:
    """A message of an order's thread, with the order it belongs to."""
    return cast(Message, {"order_id": order_id, **m})
