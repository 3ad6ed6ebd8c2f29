"""`seller stats` (issue 19, docs/rules.md "Seller metrics"): per seller, over the orders paid in the
window ending at the world's now; seller-fault cancellations, late shipments and requests answered in
time, each against the policy's ceiling."""

from __future__ import annotations

from ordercli.core.metrics import requests_answered, seller_fault


def _amazon(world) -> None:
    world.json("policy", "use", "amazon")


def test_rates_and_ceilings_under_amazon(world) -> None:
    _amazon(world)
    ids = [world.place()["id"] for _ in range(4)]
    other = world.place(seller="zed")["id"]
    world.json("clock", "tick", "1h")  # past the free window
    world.json("seller", "cancel", ids[0], "--reason", "out-of-stock")  # counts
    world.json("seller", "cancel", ids[1], "--reason", "buyer-asked")  # does not count
    world.json("cancel", "request", ids[2], "--reason", "other")
    world.json("seller", "respond", ids[2], "reject")
    world.json("seller", "ship", ids[2])
    world.json("clock", "tick", "3d")  # past ship_by (2 working days): ids[3] in its grace
    world.json("seller", "ship", ids[3])
    world.json("seller", "ship", other)
    rows = world.json("seller", "stats")
    acme, zed = rows
    assert acme["seller"] == "acme" and zed["seller"] == "zed"
    assert (acme["orders"], acme["seller_cancellations"], acme["cancel_rate"]) == (4, 1, 0.25)
    assert (acme["cancel_rate_max"], acme["cancel_rate_status"]) == (0.025, "over")
    assert (acme["shipments"], acme["late_shipments"], acme["late_shipment_rate"]) == (2, 1, 0.5)
    assert acme["late_shipment_rate_status"] == "over"
    assert (acme["requests"], acme["requests_answered_in_time"], acme["answered_in_time_rate"]) == (1, 1, 1.0)
    assert (zed["cancel_rate"], zed["cancel_rate_status"], zed["late_shipment_rate"]) == (0.0, "ok", 1.0)
    assert zed["answered_in_time_rate"] is None
    assert world.json("seller", "stats", "zed") == [zed]
    assert acme["to"] == world.json("clock", "show")["now"]


def test_the_window_counts_orders_paid_in_it(world) -> None:
    world.place()
    world.json("clock", "tick", "2d")
    world.place()
    assert world.json("seller", "stats")[0]["orders"] == 2
    assert world.json("seller", "stats", "--window", "1d")[0]["orders"] == 1
    assert world.json("seller", "stats", "--window", "1d", "nobody") == []
    assert world.json("seller", "stats", "--window", "5x", code=2)["code"] == "bad_duration"


def test_silence_and_ship_timeouts_count_a_lapse_does_not_and_no_ceiling_is_no_status(world) -> None:
    silent = world.place()["id"]
    world.place()  # never shipped: a ship timeout
    world.json("cancel", "request", silent, "--reason", "other")
    world.json("clock", "tick", "30d")
    (row,) = world.json("seller", "stats")
    assert (row["orders"], row["seller_cancellations"]) == (2, 2)
    assert (row["requests"], row["requests_answered_in_time"], row["answered_in_time_rate"]) == (1, 0, 0.0)
    assert row["cancel_rate_max"] is None and row["cancel_rate_status"] is None
    assert row["late_shipment_rate"] is None
    lapsed = {"end_reason": None, "seller_cancel": None}
    assert not seller_fault(lapsed) and seller_fault({"end_reason": "ship_timeout"})
    assert not seller_fault({"end_reason": "seller_cancelled", "seller_cancel": {"counts": False}})


def test_requests_answered_reads_one_orders_history() -> None:
    def e(kind: str, **details: object) -> dict:
        return {"kind": kind, "details": details}

    asked = e("cancel_requested", respond_by="2030-03-07T09:00:00+00:00")
    history = [e("order_placed"), asked, e("cancel_rejected"), asked, e("cancel_withdrawn"), asked,
               e("cancel_timed_out"), asked, e("seller_cancelled"), e("order_cancelled")]
    assert requests_answered(history) == (2, 3)
    assert requests_answered([e("cancel_requested", respond_by=None), e("order_cancelled")]) == (0, 0)  # R1


def test_text_table_and_csv(world) -> None:
    world.place()
    out = world("seller", "stats").stdout
    assert out.splitlines()[0].split()[:3] == ["seller", "orders", "seller_cancellations"]
    csv = world("seller", "stats", "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("seller,from,to,orders,")


def test_a_seller_cancel_answers_a_pending_request_and_tells_both_sides(world) -> None:
    """R26 on an order whose buyer asked to cancel: the request is accepted by the cancel, the event
    carries the reason, and the buyer and the seller are each told (what the seller's rate counts)."""
    _amazon(world)
    oid = world.place()["id"]
    world.json("clock", "tick", "1h")  # past the free window
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "cancel", oid, "--reason", "out-of-stock", "--message", "sorry")
    order = world.show(oid)
    assert order["status"] == "cancelled" and order["end_reason"] == "seller_cancelled"
    assert order["cancellation"]["status"] == "accepted"
    assert order["cancellation"]["responded_at"] == world.json("clock", "show")["now"]
    cancelled = [e for e in world.events(oid) if e["kind"] == "seller_cancelled"]
    assert [e["details"] for e in cancelled] == [{"reason": "out-of-stock", "counts": True, "message": "sorry"}]
    told = {(n["role"], n["kind"]) for n in world.notes() if n["order_id"] == oid}
    assert {("buyer", "seller_cancelled"), ("seller", "seller_cancelled")} <= told
    seller_note = [n for n in world.notes("acme") if n["kind"] == "seller_cancelled"]
    assert seller_note and seller_note[0]["message"].endswith("it counts in your cancellation rate")


def test_an_order_is_packed_once(world) -> None:
    """R22 under a policy with packing: a second `seller pack` is refused, already_packed (exit 4)."""
    world.json("policy", "use", "shopee-my")
    oid = world.place()["id"]
    world.json("seller", "pack", oid)
    assert world.show(oid)["packed_at"] == world.json("clock", "show")["now"]
    err = world.fail("seller", "pack", oid, code=4)
    assert err["code"] == "already_packed"
