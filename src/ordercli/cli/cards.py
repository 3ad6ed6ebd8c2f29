"""Text for people: the order card, the refund card, countdowns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordercli.cli.render import paint
from ordercli.core.timecalc import parse_stored

_DEADLINE_WORDS = {
    "pay_by": "buyer must pay",
    "ship_by": "seller must ship",
    "auto_cancel_by": "seller must ship (late) or the platform cancels",
    "respond_by": "seller must answer",
    "due_by": "refund will be paid",
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


def _event_words(e: dict[str, Any]) -> str:
    d = e["details"]
    words = e["kind"].replace("_", " ")
    extra = [
        str(d[k])
        for k in ("reason", "end_reason", "outcome", "message", "tracking", "amount", "method")
        if d.get(k) is not None
    ]
    return f"{e['actor']}: {words}" + (f" ({', '.join(extra)})" if extra else "")


def order_card(
    o: dict[str, Any], now: datetime, events: list[dict[str, Any]], deadlines: list[tuple[str, datetime]]
) -> str:
    """The order for a person: what happened, what is pending with a countdown, who can do what."""
    lines = [
        f"{o['id']}  {paint(o['status'])}" + (f" ({o['end_reason']})" if o["end_reason"] else ""),
        f"  {o['quantity']} x {o['item']}  {o['amount']} {o['currency']} by {o['payment_method']}",
        f"  buyer {o['buyer']}, seller {o['seller']}; virtual now {now.isoformat()}",
        "  what happened:",
    ]
    lines += [f"    {e['at']}  {_event_words(e)}" for e in events]
    if deadlines:
        lines.append("  what is pending:")
        for kind, at in sorted(deadlines, key=lambda d: d[1]):
            stamp = at.isoformat()
            lines.append(f"    {stamp}  {_DEADLINE_WORDS.get(kind, kind)} {countdown(stamp, now)}")
    r = o.get("refund")
    if r and r.get("overdue"):
        lines.append(f"  {paint('refund overdue', '31')}: due by {r['due_by']}, {r['status']}")
    acts = o.get("actions") or {}
    lines.append("  what each party can do now:")
    lines.append(f"    {o['buyer']} (buyer): {', '.join(acts.get('buyer') or []) or 'nothing'}")
    lines.append(f"    {o['seller']} (seller): {', '.join(acts.get('seller') or []) or 'nothing'}")
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
