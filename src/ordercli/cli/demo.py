"""ordercli demo: the seed guide's story, told on a world of its own and on its own clock."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli.cli import common, render
from ordercli.cli.common import JsonOpt
from ordercli.core import engine, views
from ordercli.core.timecalc import fmt, parse_stored
from ordercli.core.world import World

app = common.group()


@contextmanager
def _demo_world(ctx: typer.Context, db: str | None, policy: str | None) -> Iterator[World]:
    """The demo's own world: a temporary file, or `--db PATH`. Never the user's working world
    (ORDERCLI_DB or the global --db), nor a scenario's."""
    from ordercli.api import Sandbox
    from ordercli.core import presets
    from ordercli.store.file import checked_path

    loaded = presets.load(policy or "aliexpress")
    with tempfile.TemporaryDirectory(prefix="ordercli-demo-") as tmp:
        path = checked_path(db, "--db") if db is not None else Path(tmp) / "demo.json"
        sandbox = Sandbox(path, policy=policy, durable=db is not None)
        if db is not None:  # a kept world: a failure after its write is reported as saved
            common.watch_saves(ctx, sandbox, db)
        with sandbox.transaction() as session:
            w = session.world
            if policy is not None and w.policy.name != loaded.policy.name:
                engine.use_policy(w, loaded.meta(), loaded.policy)  # refused once the world has orders
            yield w


@app.command("demo")
def demo(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Tell the story in this data file and keep it (default: a temporary one).", metavar="PATH"
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option("--policy", help="The policy of a new demo world (a preset or a TOML file).", metavar="NAME|FILE"),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Tell the guide's story on a world of its own: order, request, silent seller, auto-cancel, refund."""
    story: list[dict[str, Any]] = []

    def step(says: str, out: Any) -> None:
        story.append({"step": len(story) + 1, "says": says, "now": fmt(w.now), "output": out})

    with _demo_world(ctx, db, policy) as w:
        # the world may already have history and any policy: the story reads what happens
        pol = w.policy
        order = engine.place_order(w, buyer="alice", seller="acme", item="Blue headset", amount="19.99")
        oid = order["id"]
        step(
            f"alice buys a Blue headset from acme for 19.99 USD by card: {oid}, {order['status']}; "
            f"acme must ship by {order['ship_by']} ({pol.raw['ship_within']})",
            views.order(w, order),
        )
        # a day later, unless the policy closes requests sooner (ebay: 1 hour, R23)
        later = ("half an hour", "30m") if pol.cancel_request_within is not None else ("a day", "24h")
        step(f"{later[0]} later alice has second thoughts", engine.clock_tick(w, later[1]))
        if pol.cancel_requests_max == 0 and not pol.has_free_cancel:
            # R24: buyers can't ask; alice writes to acme, who cancels where the policy lets sellers (R26)
            message = engine.send_message(w, oid, "please cancel, I found it cheaper elsewhere", "alice")
            step(f"under the {pol.name} policy only the seller cancels: alice writes to acme", message)
            if not pol.seller_can_cancel:
                order = w.order(oid)
            else:
                order = engine.seller_cancel(w, oid, "buyer-asked", "cancelled as you asked")
                step(
                    f"acme cancels it (buyer-asked, which does not count against acme): {order['status']} "
                    f"({order['end_reason']})",
                    views.order(w, order),
                )
        else:
            order = engine.cancel_request(w, oid, "second-thought", "found it cheaper elsewhere")
        if order["status"] == "cancelled" and order["end_reason"] == "buyer_cancelled":
            step(
                f"alice cancels: under the {pol.name} policy that is free at this point (no seller involved), "
                f"{order['status']} ({order['end_reason']})",
                views.order(w, order),
            )
        elif order["status"] == "cancel_requested":
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
                step(
                    f"acme stays silent: at {order['cancelled_at']} the platform cancels ({order['end_reason']}) "
                    f"and starts a refund due by {order['refund']['due_by']}",
                    move,
                )
        refund = order["refund"]
        if refund is not None and refund["status"] != "refunded":
            move = engine.clock_set(w, parse_stored(refund["due_by"]))  # type: ignore[arg-type]
            step(
                f"the refund settles by itself on its due date: {refund['status']} at {refund['refunded_at']}",
                move,
            )
        final = views.order(w, order)
        notes = [n for n in w.find_notifications(to="alice", order_id=oid) if n["channel"] == "app"]
        times = {1: "once", 2: "twice"}.get(len(notes), f"{len(notes)} times")
        step(f"alice was told {times} on each channel: " + "; ".join(n["kind"] for n in notes), final)
    if json_:
        render.emit_json(story)
        return
    for s in story:
        render.echo(f"{s['step']}. [{s['now']}] {s['says']}")
    if db is None:
        render.echo("\nThat world was temporary: `ordercli demo --db demo.json` keeps it, to look around with")
        render.echo(f"ordercli --db demo.json orders show {oid}; ordercli --db demo.json events list --order {oid}")
    else:
        render.echo(f"\nSee it all: ordercli --db {db} orders show {oid}; ordercli --db {db} events list --order {oid}")
