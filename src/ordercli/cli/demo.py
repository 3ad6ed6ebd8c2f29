"""ordercli demo: the seed guide's story, told on the world's own clock."""

from __future__ import annotations

from typing import Any

import typer

from ordercli import engine, render, views
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.timecalc import fmt, parse_stored

app = common.group()


@app.command("demo")
def demo(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Tell the guide's story: order, request, silent seller, auto-cancel, refund."""
    story: list[dict[str, Any]] = []

    def step(says: str, out: Any) -> None:
        story.append({"step": len(story) + 1, "says": says, "now": fmt(w.now), "output": out})

    with common.writing(ctx) as session:
        w = session.world
        # the world may already have history and any policy: the story reads what happens
        pol = w.policy
        order = engine.place_order(w, buyer="alice", seller="acme", item="Blue headset", amount="19.99")
        oid = order["id"]
        step(
            f"alice buys a Blue headset from acme for 19.99 USD by card: {oid}, {order['status']}; "
            f"acme must ship by {order['ship_by']} ({pol.raw['ship_within']})",
            views.order(w, order),
        )
        step("a day later alice has second thoughts", engine.clock_tick(w, "24h"))
        order = engine.cancel_request(w, oid, "second-thought", "found it cheaper elsewhere")
        respond_by = order["cancellation"]["respond_by"]
        step(
            f"alice asks to cancel (second-thought): acme must answer by {respond_by} "
            f"({pol.raw['seller_response_within']})",
            views.order(w, order),
        )
        move = engine.clock_set(w, parse_stored(respond_by))  # type: ignore[arg-type]
        if order["status"] != "cancelled":
            step(
                f"acme stays silent: under the {pol.name} policy the request lapses at {respond_by} "
                f"and the order goes on ({order['status']})",
                move,
            )
        else:
            refund = order["refund"]
            step(
                f"acme stays silent: at {order['cancelled_at']} the platform cancels ({order['end_reason']}) "
                f"and starts a refund due by {refund['due_by']}",
                move,
            )
            move = engine.clock_set(w, parse_stored(refund["due_by"]))  # type: ignore[arg-type]
            step(
                f"the refund settles by itself on its due date: {refund['status']} at {refund['refunded_at']}",
                move,
            )
        final = views.order(w, order)
        notes = [
            n for n in w.notifications.values() if n["to"] == "alice" and n["order_id"] == oid and n["channel"] == "app"
        ]
        times = {1: "once", 2: "twice"}.get(len(notes), f"{len(notes)} times")
        step(f"alice was told {times} on each channel: " + "; ".join(n["kind"] for n in notes), final)
    if json_:
        render.emit_json(story)
        return
    for s in story:
        render.echo(f"{s['step']}. [{s['now']}] {s['says']}")
    render.echo(f"\nSee it all: ordercli orders show {oid}; ordercli events list --order {oid}")
