"""Text for people: the order card, the refund card, countdowns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordercli.render import paint
from ordercli.timecalc import parse_stored

_DEADLINE_WORDS = {
    "pay_by": "buyer must pay",
    "ship_by": "seller must ship",
    "respond_by": "seller must answer",
    "due_by": "refund is due",
}


def countdown(at: str | None, now: datetime) -> str:
    if at is None:
        return ""
    secs = int((parse_stored(at) - now).total_seconds())  # type: ignore[operator]
    past = secs < 0
    secs = abs(secs)
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes and not days:
        parts.append(f"{minutes}m")
    span = " ".join(parts) or "now"
    if span == "now":
        return "now"
    return f"{span} ago" if past else f"in {span}"


def order_card(o: dict[str, Any], now: datetime) -> str:
    lines = [
        f"{o['id']}  {paint(o['status'])}" + (f" ({o['end_reason']})" if o["end_reason"] else ""),
        f"  {o['quantity']} x {o['item']}  {o['amount']} {o['currency']} by {o['payment_method']}",
        f"  buyer {o['buyer']}, seller {o['seller']}",
        f"  now {now.isoformat()}",
        "  timeline:",
    ]
    steps: list[tuple[str, str]] = [("placed", o["placed_at"])]
    for field, label in (("paid_at", "paid"), ("shipped_at", "shipped"), ("completed_at", "completed")):
        if o.get(field):
            steps.append((label, o[field]))
    c = o.get("cancellation")
    if c:
        steps.append(
            (f"cancellation requested ({c['reason']}, {c['fault']} fault, request {c['requests']})", c["requested_at"])
        )
        if c.get("responded_at") and c["status"] in ("accepted", "rejected"):
            steps.append((f"request {c['status']}", c["responded_at"]))
    if o.get("cancelled_at"):
        steps.append((f"cancelled: {o['end_reason']}", o["cancelled_at"]))
    r = o.get("refund")
    if r:
        steps.append((f"refund of {r['amount']} {r['currency']} to {r['method']} started", r["initiated_at"]))
        if r.get("refunded_at"):
            steps.append(("refund paid", r["refunded_at"]))
    d = o.get("dispute")
    if d:
        steps.append((f"dispute opened ({d['reason']})", d["opened_at"]))
        if d.get("resolved_at"):
            steps.append((f"dispute resolved: {d['outcome']}", d["resolved_at"]))
    steps.sort(key=lambda s: s[1])
    lines += [f"    {at}  {label}" for label, at in steps]
    nd = o.get("next_deadline")
    if nd:
        lines.append(f"  next: {_DEADLINE_WORDS.get(nd['kind'], nd['kind'])} {countdown(nd['at'], now)} ({nd['at']})")
    if r and r.get("overdue"):
        lines.append(f"  {paint('refund overdue', '31')} since {r['due_by']}")
    acts = o.get("actions") or {}
    lines.append(f"  buyer can: {', '.join(acts.get('buyer') or []) or 'nothing'}")
    lines.append(f"  seller can: {', '.join(acts.get('seller') or []) or 'nothing'}")
    return "\n".join(lines)


def refund_card(r: dict[str, Any]) -> str:
    state = paint(r["status"]) + (" (overdue)" if r["overdue"] else "")
    lines = [
        f"refund of {r['order_id']}: {r['amount']} {r['currency']} to {r['method']}, {state}",
        f"  started {r['initiated_at']}, due by {r['due_by']}",
    ]
    if r.get("refunded_at"):
        lines.append(f"  paid {r['refunded_at']}")
    return "\n".join(lines)
