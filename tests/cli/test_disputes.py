"""Disputes through the CLI (docs/rules.md R13, R14, R18, R20; docs/cli.md `dispute open|resolve|list`).

The world starts on Monday 2030-03-04T09:00:00Z; a card refund started on Tuesday
2030-03-05T09:00 is due 15 working days later, Tuesday 2030-03-26T09:00.
"""

from __future__ import annotations

import pytest

SELLER_FAULT = ["shipping-delay", "seller-unresponsive"]
POST_SHIPMENT = ["not-received", "not-as-described", "damaged"]
DISPUTE_KEYS = {"reason", "status", "opened_at", "resolved_at", "outcome"}


# -- helpers -----------------------------------------------------------------------------------------


def shipped(cli, **kw) -> dict:
    o = cli.place(**kw)
    return cli.json("seller", "ship", o["id"])


def completed(cli, **kw) -> dict:
    o = shipped(cli, **kw)
    return cli.json("orders", "confirm", o["id"])


def cancelled_with_refund(cli, **kw) -> dict:
    """Cancelled by seller silence on Thursday 2030-03-07T09:00; card refund due 2030-03-28T09:00."""
    o = cli.place(**kw)
    cli.json("cancel", "request", o["id"], "--reason", "second-thought")
    cli.json("clock", "tick", "72h")
    return cli.show(o["id"])


def overdue_refund(cli, **kw) -> dict:
    order = cancelled_with_refund(cli, **kw)
    cli.json("refund", "hold", order["id"])
    cli.json("clock", "set", "2030-04-02T09:00:00Z")
    order = cli.show(order["id"])
    assert order["refund"]["overdue"] is True
    return order


def assert_open(order: dict, reason: str, at: str) -> None:
    d = order["dispute"]
    assert DISPUTE_KEYS <= set(d)
    assert {k: d[k] for k in DISPUTE_KEYS} == {
        "reason": reason, "status": "open", "opened_at": at, "resolved_at": None, "outcome": None}


def without_volatile(order: dict) -> dict:
    """An order minus the parts a dispute is allowed to change."""
    return {k: v for k, v in order.items() if k not in ("dispute", "actions")}


# -- (a) before shipment ---------------------------------------------------------------------------


@pytest.mark.parametrize("reason", SELLER_FAULT)
def test_open_before_shipment_with_seller_fault_reason(world, reason):
    o = world.place()
    order = world.json("dispute", "open", o["id"], "--reason", reason)
    assert_open(order, reason, "2030-03-04T09:00:00+00:00")
    assert order["status"] == "awaiting_shipment"
    assert order["refund"] is None
    assert world.show(o["id"])["dispute"] == order["dispute"]


@pytest.mark.parametrize("reason", ["second-thought", "wrong-product", "other", "because"])
def test_open_with_a_reason_that_is_not_a_dispute_reason_is_a_usage_error(world, reason):
    o = world.place()
    err = world.json("dispute", "open", o["id"], "--reason", reason, code=2)
    assert err["exit"] == 2
    assert reason in err["message"]
    assert world.show(o["id"])["dispute"] is None
    assert world.json("dispute", "list") == []


@pytest.mark.parametrize("reason", POST_SHIPMENT)
def test_open_before_shipment_with_post_shipment_reason_is_refused(world, reason):
    o = world.place()
    err = world.json("dispute", "open", o["id"], "--reason", reason, code=4)
    assert err["exit"] == 4
    assert world.show(o["id"])["dispute"] is None
    assert world.json("dispute", "list") == []


# -- (b) after shipment ----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", POST_SHIPMENT)
@pytest.mark.parametrize("make", [shipped, completed], ids=["shipped", "completed"])
def test_open_after_shipment_with_post_shipment_reason(world, make, reason):
    o = make(world)
    world.json("clock", "tick", "1d")
    order = world.json("dispute", "open", o["id"], "--reason", reason)
    assert_open(order, reason, "2030-03-05T09:00:00+00:00")
    assert order["status"] == o["status"]


@pytest.mark.parametrize("reason", SELLER_FAULT)
@pytest.mark.parametrize("make", [shipped, completed], ids=["shipped", "completed"])
def test_open_after_shipment_with_seller_fault_reason_is_refused(world, make, reason):
    o = make(world)
    err = world.json("dispute", "open", o["id"], "--reason", reason, code=4)
    assert err["exit"] == 4
    assert world.show(o["id"])["dispute"] is None


# -- (c) refund-not-received ---------------------------------------------------------------------------


def test_refund_not_received_on_overdue_refund(world):
    order = overdue_refund(world)
    opened = world.json("dispute", "open", order["id"], "--reason", "refund-not-received")
    assert_open(opened, "refund-not-received", "2030-04-02T09:00:00+00:00")
    assert opened["status"] == "cancelled"


def _no_refund(cli) -> str:
    return cli.place()["id"]


def _shipped_no_refund(cli) -> str:
    return shipped(cli)["id"]


def _pending_refund(cli) -> str:
    return cancelled_with_refund(cli)["id"]


def _refunded_refund(cli) -> str:
    oid = cancelled_with_refund(cli)["id"]
    cli.json("clock", "set", "2030-04-10T00:00:00Z")
    assert cli.json("refund", "status", oid)["status"] == "refunded"
    return oid


def _held_not_yet_overdue(cli) -> str:
    oid = cancelled_with_refund(cli)["id"]
    cli.json("refund", "hold", oid)
    cli.json("clock", "set", "2030-03-28T09:00:00Z")  # at due_by: not past it
    assert cli.json("refund", "status", oid)["overdue"] is False
    return oid


@pytest.mark.parametrize(
    "setup", [_no_refund, _shipped_no_refund, _pending_refund, _refunded_refund, _held_not_yet_overdue],
    ids=["no-refund", "shipped-no-refund", "pending", "refunded", "held-not-overdue"],
)
def test_refund_not_received_without_overdue_refund_is_refused(world, setup):
    oid = setup(world)
    err = world.json("dispute", "open", oid, "--reason", "refund-not-received", code=4)
    assert err["exit"] == 4
    assert world.show(oid)["dispute"] is None


def test_seller_fault_reason_on_a_cancelled_order_is_refused(world):
    order = cancelled_with_refund(world)
    world.json("dispute", "open", order["id"], "--reason", "shipping-delay", code=4)
    assert world.show(order["id"])["dispute"] is None


# -- at most one open dispute -----------------------------------------------------------------------


def test_second_open_dispute_before_shipment_is_refused(world):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    err = world.json("dispute", "open", o["id"], "--reason", "seller-unresponsive", code=4)
    assert err["exit"] == 4
    assert_open(world.show(o["id"]), "shipping-delay", "2030-03-04T09:00:00+00:00")
    assert len(world.json("dispute", "list")) == 1


def test_second_open_dispute_after_shipment_is_refused(world):
    o = shipped(world)
    world.json("dispute", "open", o["id"], "--reason", "not-received")
    world.json("dispute", "open", o["id"], "--reason", "damaged", code=4)
    assert world.show(o["id"])["dispute"]["reason"] == "not-received"
    assert len(world.json("dispute", "list")) == 1


def test_second_open_refund_dispute_is_refused(world):
    order = overdue_refund(world)
    world.json("dispute", "open", order["id"], "--reason", "refund-not-received")
    world.json("dispute", "open", order["id"], "--reason", "refund-not-received", code=4)
    assert len(world.json("dispute", "list")) == 1


def test_a_new_dispute_may_open_once_the_first_is_resolved(world):
    o = shipped(world)
    world.json("dispute", "open", o["id"], "--reason", "not-received")
    world.json("dispute", "resolve", o["id"], "reject")
    world.json("clock", "tick", "1h")
    order = world.json("dispute", "open", o["id"], "--reason", "damaged")
    assert_open(order, "damaged", "2030-03-04T10:00:00+00:00")
    listed = world.json("dispute", "list")
    assert [(d["order_id"], d["reason"], d["status"], d["outcome"]) for d in listed] == [
        (o["id"], "not-received", "resolved", "reject"),
        (o["id"], "damaged", "open", None),
    ]


# -- resolving --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", SELLER_FAULT)
def test_resolve_refund_before_shipment_cancels_and_refunds(world, reason):
    o = world.place(amount="42.50")
    world.json("dispute", "open", o["id"], "--reason", reason)
    world.json("clock", "tick", "1d")
    order = world.json("dispute", "resolve", o["id"], "refund")
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "dispute_refund"
    assert order["cancelled_at"] == "2030-03-05T09:00:00+00:00"
    d = order["dispute"]
    assert (d["status"], d["outcome"], d["resolved_at"], d["reason"]) == (
        "resolved", "refund", "2030-03-05T09:00:00+00:00", reason)
    r = order["refund"]
    assert {k: r[k] for k in ("order_id", "amount", "currency", "method", "status", "initiated_at", "due_by",
                              "refunded_at", "overdue")} == {
        "order_id": o["id"], "amount": "42.50", "currency": "USD", "method": "card", "status": "pending",
        "initiated_at": "2030-03-05T09:00:00+00:00", "due_by": "2030-03-26T09:00:00+00:00",
        "refunded_at": None, "overdue": False}
    assert world.json("refund", "status", o["id"]) == r
    # the order is final: the ship_by deadline is gone, the seller can't ship
    world.json("seller", "ship", o["id"], code=4)


@pytest.mark.parametrize("make", [shipped, completed], ids=["shipped", "completed"])
def test_resolve_refund_after_shipment_refunds_without_changing_status(world, make):
    o = make(world, amount="5.00")
    world.json("dispute", "open", o["id"], "--reason", "not-as-described")
    world.json("clock", "tick", "1d")
    order = world.json("dispute", "resolve", o["id"], "refund")
    assert order["status"] == o["status"]
    assert order["end_reason"] is None
    assert order["cancelled_at"] is None
    assert order["dispute"]["status"] == "resolved"
    assert order["dispute"]["outcome"] == "refund"
    told = sorted((n["to"], n["kind"], n["channel"]) for n in world.notes() if n["kind"] == "refund_started")
    assert told == [("alice", "refund_started", "app"), ("alice", "refund_started", "email")]
    r = world.json("refund", "status", o["id"])
    assert {k: r[k] for k in ("order_id", "amount", "currency", "method", "status", "initiated_at",
                              "refunded_at", "overdue")} == {
        "order_id": o["id"], "amount": "5.00", "currency": "USD", "method": "card", "status": "pending",
        "initiated_at": "2030-03-05T09:00:00+00:00", "refunded_at": None, "overdue": False}
    assert r["due_by"] == "2030-03-26T09:00:00+00:00"
    # and it settles by itself at due_by, the order still not cancelled
    world.json("clock", "set", "2030-04-30T00:00:00Z")
    after = world.show(o["id"])
    assert after["status"] == o["status"]
    assert after["refund"]["status"] == "refunded"
    assert after["refund"]["refunded_at"] == "2030-03-26T09:00:00+00:00"


def test_resolve_refund_on_overdue_held_refund_pays_it(world):
    order = overdue_refund(world)
    oid = order["id"]
    world.json("dispute", "open", oid, "--reason", "refund-not-received")
    world.json("clock", "tick", "3h")
    resolved = world.json("dispute", "resolve", oid, "refund")
    assert resolved["status"] == "cancelled"
    assert resolved["end_reason"] == "seller_silent"
    assert resolved["dispute"]["outcome"] == "refund"
    r = world.json("refund", "status", oid)
    assert r["status"] == "refunded"
    assert r["refunded_at"] == "2030-04-02T12:00:00+00:00"
    assert r["overdue"] is False
    assert r["initiated_at"] == order["refund"]["initiated_at"]
    assert world.json("refund", "list", "--overdue") == []
    assert len(world.json("refund", "list")) == 1
    told = sorted((n["kind"], n["channel"]) for n in world.notes("alice")
                  if n["kind"] in ("dispute_outcome", "refund_completed"))
    assert told == [("dispute_outcome", "app"), ("dispute_outcome", "email"),
                    ("refund_completed", "app"), ("refund_completed", "email")]


def test_reject_before_shipment_leaves_the_order_as_it_was(world):
    o = world.place()
    before = world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    world.json("clock", "tick", "1d")
    order = world.json("dispute", "resolve", o["id"], "reject")
    assert without_volatile(order) == without_volatile(before)
    assert order["status"] == "awaiting_shipment"
    assert order["ship_by"] == o["ship_by"]
    assert order["refund"] is None
    d = order["dispute"]
    assert (d["status"], d["outcome"], d["resolved_at"]) == ("resolved", "reject", "2030-03-05T09:00:00+00:00")
    assert world.json("refund", "list") == []
    # the order goes on: the seller may still ship
    assert world.json("seller", "ship", o["id"])["status"] == "shipped"


@pytest.mark.parametrize("make", [shipped, completed], ids=["shipped", "completed"])
def test_reject_after_shipment_leaves_the_order_as_it_was(world, make):
    o = make(world)
    before = world.json("dispute", "open", o["id"], "--reason", "not-received")
    order = world.json("dispute", "resolve", o["id"], "reject")
    assert without_volatile(order) == without_volatile(before)
    assert order["status"] == o["status"]
    assert order["refund"] is None
    assert order["dispute"]["outcome"] == "reject"
    assert world.json("refund", "list") == []


def test_reject_on_refund_dispute_leaves_the_refund_held_and_overdue(world):
    order = overdue_refund(world)
    world.json("dispute", "open", order["id"], "--reason", "refund-not-received")
    resolved = world.json("dispute", "resolve", order["id"], "reject")
    assert resolved["refund"]["status"] == "held"
    assert resolved["refund"]["overdue"] is True
    assert resolved["refund"]["refunded_at"] is None
    assert [r["order_id"] for r in world.json("refund", "list", "--overdue")] == [order["id"]]


def test_resolve_without_any_dispute_is_refused(world):
    o = world.place()
    err = world.json("dispute", "resolve", o["id"], "refund", code=4)
    assert err["exit"] == 4
    order = world.show(o["id"])
    assert order["status"] == "awaiting_shipment"
    assert order["refund"] is None


def test_resolve_an_already_resolved_dispute_is_refused(world):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    world.json("dispute", "resolve", o["id"], "reject")
    before_events = world.events()
    world.json("dispute", "resolve", o["id"], "refund", code=4)
    order = world.show(o["id"])
    assert order["status"] == "awaiting_shipment"
    assert order["dispute"]["outcome"] == "reject"
    assert order["refund"] is None
    assert world.events() == before_events


def test_resolve_with_a_bad_outcome_is_a_usage_error(world):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    world.json("dispute", "resolve", o["id"], "maybe", code=2)
    assert world.show(o["id"])["dispute"]["status"] == "open"


def test_dispute_commands_on_unknown_order_exit_3(world):
    world.place()
    assert world.json("dispute", "open", "ORD-9999", "--reason", "shipping-delay", code=3)["exit"] == 3
    assert world.json("dispute", "resolve", "ORD-9999", "refund", code=3)["exit"] == 3


# -- who may act (R20) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "acme", "bob"])
def test_only_support_resolves(world, who):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    before_events = world.events()
    err = world.json("dispute", "resolve", o["id"], "refund", "--as", who, code=4)
    assert err["exit"] == 4
    order = world.show(o["id"])
    assert order["dispute"]["status"] == "open"
    assert order["status"] == "awaiting_shipment"
    assert order["refund"] is None
    assert world.events() == before_events


def test_support_may_resolve_as_itself(world):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    order = world.json("dispute", "resolve", o["id"], "reject", "--as", "support")
    assert order["dispute"]["outcome"] == "reject"
    resolved = [e for e in world.events(o["id"]) if e["kind"] == "dispute_resolved"]
    assert [e["actor"] for e in resolved] == ["support"]


@pytest.mark.parametrize("who", ["bob", "acme"])
def test_only_the_orders_buyer_opens_a_dispute(world, who):
    o = world.place(buyer="alice")
    world.place(buyer="bob")
    err = world.json("dispute", "open", o["id"], "--reason", "shipping-delay", "--as", who, code=4)
    assert err["exit"] == 4
    assert world.show(o["id"])["dispute"] is None
    assert world.json("dispute", "list") == []
    assert not [n for n in world.notes() if n["kind"] == "dispute_opened"]


def test_the_buyer_opens_as_herself(world):
    o = world.place(buyer="alice")
    order = world.json("dispute", "open", o["id"], "--reason", "shipping-delay", "--as", "alice")
    assert order["dispute"]["status"] == "open"
    opened = [e for e in world.events(o["id"]) if e["kind"] == "dispute_opened"]
    assert [e["actor"] for e in opened] == ["alice"]


# -- dispute list -------------------------------------------------------------------------------------


def test_dispute_list_lists_every_dispute_with_its_order(world):
    a = world.place(buyer="alice", seller="acme")
    b = shipped(world, buyer="bob", seller="bolt")
    c = world.place(buyer="carol")
    assert world.json("dispute", "list") == []
    world.json("dispute", "open", b["id"], "--reason", "damaged")
    world.json("clock", "tick", "1h")
    world.json("dispute", "open", a["id"], "--reason", "seller-unresponsive")
    world.json("dispute", "resolve", a["id"], "refund")
    listed = world.json("dispute", "list")
    assert isinstance(listed, list) and len(listed) == 2
    by_order = {d["order_id"]: d for d in listed}
    assert set(by_order) == {a["id"], b["id"]}
    assert c["id"] not in by_order
    da, db = by_order[a["id"]], by_order[b["id"]]
    assert (da["reason"], da["status"], da["outcome"], da["opened_at"], da["resolved_at"]) == (
        "seller-unresponsive", "resolved", "refund", "2030-03-04T10:00:00+00:00", "2030-03-04T10:00:00+00:00")
    assert (db["reason"], db["status"], db["outcome"], db["opened_at"], db["resolved_at"]) == (
        "damaged", "open", None, "2030-03-04T09:00:00+00:00", None)


# -- notifications of disputes (R18) -------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["refund", "reject"])
def test_dispute_notifies_seller_on_open_and_buyer_on_outcome(world, outcome):
    o = world.place(buyer="alice", seller="acme")
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    seller_notes = world.notes("acme")
    assert sorted((n["kind"], n["channel"], n["order_id"]) for n in seller_notes) == [
        ("dispute_opened", "app", o["id"]), ("dispute_opened", "email", o["id"])]
    assert not [n for n in world.notes("alice") if n["kind"] == "dispute_opened"]
    world.json("dispute", "resolve", o["id"], outcome)
    outcome_notes = [n for n in world.notes() if n["kind"] == "dispute_outcome"]
    assert sorted((n["to"], n["channel"]) for n in outcome_notes) == [("alice", "app"), ("alice", "email")]
    buyer_kinds = sorted(n["kind"] for n in world.notes("alice"))
    if outcome == "refund":
        assert buyer_kinds == ["dispute_outcome", "dispute_outcome", "refund_started", "refund_started"]
    else:
        assert buyer_kinds == ["dispute_outcome", "dispute_outcome"]
    # the seller is told nothing more
    assert len(world.notes("acme")) == 2


@pytest.mark.parametrize("bad", ["", "x" * 201, "ali\x07ce"], ids=["empty", "too-long", "control-char"])
def test_dispute_commands_with_a_broken_as_name_are_usage_errors(world, bad):
    # docs/cli.md "Input rules": --as must be non-empty, at most 200 characters, no control characters: exit 2
    o = world.place()
    err = world.json("dispute", "open", o["id"], "--reason", "shipping-delay", "--as", bad, code=2)
    assert "--as" in err["message"]
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    err = world.json("dispute", "resolve", o["id"], "refund", "--as", bad, code=2)
    assert "--as" in err["message"]
    assert world.show(o["id"])["dispute"]["status"] == "open"
