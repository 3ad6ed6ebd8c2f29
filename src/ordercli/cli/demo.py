"""ordercli demo: the seed guide's story, told on the world's own clock."""

from __future__ import annotations

from typing import Any

from ordercli import engine, render, views
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.timecalc import fmt

app = common.group()


@app.command("demo")
def demo(json_: JsonOpt = False) -> None:
    """Tell the guide's story: order, request, silent seller, auto-cancel, refund."""
    story: list[dict[str, Any]] = []

    def step(says: str, out: Any) -> None:
        story.append({"step": len(story) + 1, "says": says, "now": fmt(w.now), "output": out})

    with common.writing() as w:
        order = engine.place_order(w, buyer="alice", seller="acme", item="Blue headset", amount="19.99")
        oid = order["id"]
        step(
            f"alice buys a Blue headset from acme for 19.99 USD by card: {oid}, {order['status']}, "
            f"acme must ship by {order['ship_by']} (7 working days)",
            views.order(w, order),
        )
        step("a day later alice has second thoughts", engine.clock_tick(w, "24h"))
        order, _ = engine.cancel_request(w, oid, "second-thought", "found it cheaper elsewhere")
        step(
            f"alice asks to cancel (second-thought): acme must answer by "
            f"{order['cancellation']['respond_by']} (72 hours)",
            views.order(w, order),
        )
        move = engine.clock_tick(w, "72h")
        step(
            f"acme stays silent for 72 hours: at {order['cancelled_at']} the platform cancels "
            f"({order['end_reason']}) and starts a refund due by {order['refund']['due_by']}",
            move,
        )
        move = engine.clock_next(w)
        step(
            f"the refund settles by itself on its due date: {order['refund']['status']} at "
            f"{order['refund']['refunded_at']}",
            move,
        )
        final = views.order(w, order)
        notes = [
            n for n in w.notifications.values() if n["to"] == "alice" and n["order_id"] == oid and n["channel"] == "app"
        ]
        step(f"alice was told {len(notes)} times on each channel: " + "; ".join(n["kind"] for n in notes), final)
    if json_:
        render.emit_json(story)
        return
    for s in story:
        render.echo(f"{s['step']}. [{s['now']}] {s['says']}")
    render.echo(f"\nSee it all: ordercli orders show {oid}; ordercli events list --order {oid}")
