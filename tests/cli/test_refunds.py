"""Refunds through the CLI (docs/rules.md R14-R16, docs/cli.md "The refund object").

The world starts on Monday 2030-03-04T09:00:00Z. Hand-computed dates used below
(working days = Mon-Fri, UTC, no holidays; docs/rules.md "Adding N working days"):

  cancelled Tue 2030-03-05T09:00 + 15 working days = Tue 2030-03-26T09:00
  cancelled Wed 2030-03-06T09:00 + 15 working days = Wed 2030-03-27T09:00
  cancelled Thu 2030-03-07T09:00 + 15 working days = Thu 2030-03-28T09:00
  cancelled Fri 2030-03-08T15:00 + 15 working days = Fri 2030-03-29T15:00
  cancelled Sat 2030-03-09T12:00 -> Mon 2030-03-11T00:00, + 15 working days = Mon 2030-04-01T00:00
  cancelled Wed 2030-03-13T09:00 + 15 working days = Wed 2030-04-03T09:00
  alipay: + 7 calendar days, whatever the weekday.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

MON = "2030-03-04T09:00:00+00:00"
REFUND_KEYS = {"order_id", "amount", "currency", "method", "status", "initiated_at", "due_by", "refunded_at",
               "overdue"}


# -- helpers -----------------------------------------------------------------------------------------


def refund(cli, oid: str) -> dict:
    return cli.json("refund", "status", oid)


def cancel_by_silence(cli, *extra: str, **kw) -> dict:
    """Placed and requested Monday 09:00; the seller stays silent: cancelled Thursday 2030-03-07T09:00."""
    o = cli.place(*extra, **kw)
    cli.json("cancel", "request", o["id"], "--reason", "second-thought")
    cli.json("clock", "tick", "72h")
    return cli.show(o["id"])


def cancel_by_accept(cli, *extra: str, after: str = "2d", **kw) -> dict:
    """Placed and requested Monday 09:00; the seller accepts `after` later (default Wed 2030-03-06T09:00)."""
    o = cli.place(*extra, **kw)
    cli.json("cancel", "request", o["id"], "--reason", "wrong-product")
    cli.json("clock", "tick", after)
    return cli.json("seller", "respond", o["id"], "accept")


def assert_refund(r: dict, **expected) -> None:
    assert REFUND_KEYS <= set(r), f"refund object lacks {REFUND_KEYS - set(r)}"
    got = {k: r[k] for k in expected}
    assert got == expected


def fresh_pending(r: dict, order: dict, initiated_at: str, due_by: str) -> None:
    assert_refund(
        r, order_id=order["id"], amount=order["amount"], currency=order["currency"],
        method=order["payment_method"], status="pending", initiated_at=initiated_at, due_by=due_by,
        refunded_at=None, overdue=False,
    )


# -- R14: every cancellation path of a paid order creates one refund --------------------------------


def test_seller_accept_creates_pending_refund(world):
    order = cancel_by_accept(world)
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "cancel_accepted"
    assert order["cancelled_at"] == "2030-03-06T09:00:00+00:00"
    r = refund(world, order["id"])
    fresh_pending(r, order, "2030-03-06T09:00:00+00:00", "2030-03-27T09:00:00+00:00")
    assert r["amount"] == "19.99" and r["method"] == "card" and r["currency"] == "USD"
    # the refund printed with the order is the same object
    assert order["refund"] == r


def test_seller_silence_creates_pending_refund(world):
    order = cancel_by_silence(world)
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "seller_silent"
    assert order["cancelled_at"] == "2030-03-07T09:00:00+00:00"
    fresh_pending(refund(world, order["id"]), order, "2030-03-07T09:00:00+00:00", "2030-03-28T09:00:00+00:00")


def test_ship_timeout_creates_pending_refund(world):
    o = world.place()
    assert o["ship_by"] == "2030-03-13T09:00:00+00:00"
    world.json("clock", "set", "2030-03-20T09:00:00Z")
    order = world.show(o["id"])
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "ship_timeout"
    assert order["cancelled_at"] == "2030-03-13T09:00:00+00:00"
    fresh_pending(refund(world, o["id"]), order, "2030-03-13T09:00:00+00:00", "2030-04-03T09:00:00+00:00")


def test_dispute_refund_before_shipment_creates_pending_refund(world):
    o = world.place()
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay")
    world.json("clock", "tick", "1d")
    order = world.json("dispute", "resolve", o["id"], "refund")
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "dispute_refund"
    assert order["cancelled_at"] == "2030-03-05T09:00:00+00:00"
    fresh_pending(refund(world, o["id"]), order, "2030-03-05T09:00:00+00:00", "2030-03-26T09:00:00+00:00")


@pytest.mark.parametrize("method", ["card", "paypal", "bank-transfer"])
def test_due_by_is_15_working_days_for_card_paypal_bank_transfer(world, method):
    order = cancel_by_silence(world, "--payment", method)
    r = refund(world, order["id"])
    assert r["method"] == method
    assert r["due_by"] == "2030-03-28T09:00:00+00:00"  # Thu 09:00 + 15 working days


def test_due_by_is_7_calendar_days_for_alipay(world):
    order = cancel_by_silence(world, "--payment", "alipay")
    r = refund(world, order["id"])
    assert r["method"] == "alipay"
    assert r["due_by"] == "2030-03-14T09:00:00+00:00"


def test_due_by_from_friday_afternoon(world):
    # Friday 15:00 + 15 working days = Friday three weeks later, 15:00
    o = world.place()
    world.json("clock", "set", "2030-03-07T10:00:00Z")  # Thursday: respond_by will be Sunday 10:00
    world.json("cancel", "request", o["id"], "--reason", "second-thought")
    world.json("clock", "set", "2030-03-08T15:00:00Z")
    order = world.json("seller", "respond", o["id"], "accept")
    assert order["cancelled_at"] == "2030-03-08T15:00:00+00:00"
    assert order["refund"]["due_by"] == "2030-03-29T15:00:00+00:00"


def _accept_on_saturday(cli, *extra: str) -> dict:
    o = cli.place(*extra)
    cli.json("clock", "set", "2030-03-07T13:00:00Z")  # Thursday: respond_by will be Sunday 13:00
    cli.json("cancel", "request", o["id"], "--reason", "second-thought")
    cli.json("clock", "set", "2030-03-09T12:00:00Z")  # Saturday
    order = cli.json("seller", "respond", o["id"], "accept")
    assert order["cancelled_at"] == "2030-03-09T12:00:00+00:00"
    return order


def test_due_by_from_a_weekend_starts_at_midnight_of_the_next_working_day(world):
    order = _accept_on_saturday(world)
    assert refund(world, order["id"])["due_by"] == "2030-04-01T00:00:00+00:00"


def test_alipay_due_by_from_a_weekend_is_calendar_days(world):
    order = _accept_on_saturday(world, "--payment", "alipay")
    assert refund(world, order["id"])["due_by"] == "2030-03-16T12:00:00+00:00"


def test_refund_keeps_amount_currency_and_method_of_an_order_paid_later(world):
    o = world.place("--unpaid", "--payment", "paypal", "--currency", "EUR", amount="1234.50")
    assert o["refund"] is None
    world.json("clock", "tick", "1h")
    world.json("orders", "pay", o["id"])
    world.json("cancel", "request", o["id"], "--reason", "other")
    order = world.json("seller", "respond", o["id"], "accept")
    r = refund(world, o["id"])
    assert_refund(r, order_id=o["id"], amount="1234.50", currency="EUR", method="paypal", status="pending",
                  initiated_at="2030-03-04T10:00:00+00:00", refunded_at=None, overdue=False)
    assert isinstance(r["amount"], str) and Decimal(r["amount"]) == Decimal("1234.50")
    assert r["amount"] == order["amount"]


def test_unpaid_order_cancelled_by_buyer_gets_no_refund(world):
    o = world.place("--unpaid")
    order = world.json("cancel", "request", o["id"], "--reason", "second-thought")
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "unpaid_cancelled"
    assert order["refund"] is None
    err = world.json("refund", "status", o["id"], code=3)
    assert err["exit"] == 3
    assert world.json("refund", "list") == []
    assert not [e for e in world.events() if "refund" in e["kind"]]
    assert not [n for n in world.notes() if n["kind"].startswith("refund")]


def test_unpaid_order_cancelled_by_payment_timeout_gets_no_refund(world):
    o = world.place("--unpaid")
    world.json("clock", "tick", "30d")
    order = world.show(o["id"])
    assert order["status"] == "cancelled"
    assert order["end_reason"] == "payment_timeout"
    assert order["refund"] is None
    world.json("refund", "status", o["id"], code=3)
    assert world.json("refund", "list") == []
    assert not [n for n in world.notes() if n["kind"].startswith("refund")]


def test_ship_timeout_while_request_pending_gives_exactly_one_refund(world):
    o = world.place()
    world.json("clock", "set", "2030-03-12T09:00:00Z")  # respond_by (Fri 15th) is after ship_by (Wed 13th)
    world.json("cancel", "request", o["id"], "--reason", "second-thought")
    world.json("clock", "tick", "60d")
    order = world.show(o["id"])
    assert order["end_reason"] == "ship_timeout"
    assert order["cancelled_at"] == "2030-03-13T09:00:00+00:00"
    refunds = world.json("refund", "list")
    assert [r["order_id"] for r in refunds] == [o["id"]]
    assert refunds[0]["status"] == "refunded"
    assert sum(e["kind"] == "refund_started" for e in world.events(o["id"])) == 1
    assert sum(e["kind"] == "refund_completed" for e in world.events(o["id"])) == 1
    started = [n for n in world.notes("alice") if n["kind"] == "refund_started"]
    assert sorted(n["channel"] for n in started) == ["app", "email"]


def test_two_refund_disputes_after_shipment_still_give_one_refund(world):
    o = world.place()
    world.json("seller", "ship", o["id"])
    world.json("dispute", "open", o["id"], "--reason", "damaged")
    first = world.json("dispute", "resolve", o["id"], "refund")["refund"]
    world.json("dispute", "open", o["id"], "--reason", "not-as-described")
    world.json("dispute", "resolve", o["id"], "refund")
    refunds = world.json("refund", "list")
    assert [r["order_id"] for r in refunds] == [o["id"]]
    assert refunds[0]["initiated_at"] == first["initiated_at"]
    assert refunds[0]["amount"] == "19.99"
    assert sum(e["kind"] == "refund_started" for e in world.events(o["id"])) == 1


def test_refund_list_has_one_refund_per_cancelled_paid_order_oldest_first(world):
    a = world.place(buyer="alice", amount="10.00")
    b = world.place("--unpaid", buyer="bob", amount="20.00")
    c = world.place("--payment", "alipay", buyer="carol", amount="30.00")
    d = world.place(buyer="dave", amount="40.00")  # stays awaiting shipment
    for oid in (a["id"], b["id"], c["id"]):
        world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "respond", c["id"], "accept")
    world.json("seller", "respond", a["id"], "accept")
    refunds = world.json("refund", "list")
    assert [(r["order_id"], r["amount"], r["method"]) for r in refunds] == [
        (a["id"], "10.00", "card"), (c["id"], "30.00", "alipay")]
    assert d["id"] not in {r["order_id"] for r in refunds}


# -- R16: settling by itself, hold, release, settle --------------------------------------------------


def test_refund_settles_by_itself_exactly_at_due_by(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    due = "2030-03-28T09:00:00+00:00"  # cancelled Thursday 7th 09:00 + 15 working days (R15)
    assert order["refund"]["due_by"] == due
    world.json("clock", "set", "2030-03-28T08:59:59Z")
    assert_refund(refund(world, oid), status="pending", refunded_at=None, overdue=False)
    assert world.show(oid)["next_deadline"] == {"kind": "due_by", "at": due}
    world.json("clock", "set", "2030-04-20T00:00:00Z")
    r = refund(world, oid)
    assert_refund(r, status="refunded", refunded_at=due, due_by=due, overdue=False)
    assert world.show(oid)["next_deadline"] is None
    done = [e for e in world.events(oid) if e["kind"] == "refund_completed"]
    assert [(e["at"], e["actor"]) for e in done] == [(due, "platform")]
    told = [n for n in world.notes("alice") if n["kind"] == "refund_completed"]
    assert sorted((n["channel"], n["at"]) for n in told) == [("app", due), ("email", due)]


def test_refund_settles_at_due_by_within_one_long_tick(world):
    o = world.place("--payment", "alipay")
    world.json("cancel", "request", o["id"], "--reason", "second-thought")
    move = world.json("clock", "tick", "90d")
    r = refund(world, o["id"])
    assert_refund(r, status="refunded", initiated_at="2030-03-07T09:00:00+00:00",
                  due_by="2030-03-14T09:00:00+00:00", refunded_at="2030-03-14T09:00:00+00:00", overdue=False)
    assert "refund_completed" in [e["kind"] for e in move["fired"]]


def test_clock_next_moves_to_due_by_and_settles(world):
    order = cancel_by_accept(world)
    move = world.json("clock", "next")
    assert move["to"] == "2030-03-27T09:00:00+00:00"
    assert_refund(refund(world, order["id"]), status="refunded", refunded_at="2030-03-27T09:00:00+00:00")


def test_hold_stops_settlement_and_makes_refund_overdue(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    held = world.json("refund", "hold", oid)
    assert_refund(held, order_id=oid, status="held", refunded_at=None, overdue=False,
                  due_by="2030-03-28T09:00:00+00:00")
    assert world.json("refund", "list", "--overdue") == []
    # exactly at due_by it is not yet past due
    world.json("clock", "set", "2030-03-28T09:00:00Z")
    assert_refund(refund(world, oid), status="held", refunded_at=None, overdue=False)
    world.json("clock", "set", "2030-03-28T09:00:01Z")
    assert_refund(refund(world, oid), status="held", refunded_at=None, overdue=True)
    world.json("clock", "tick", "30d")
    r = refund(world, oid)
    assert_refund(r, status="held", refunded_at=None, overdue=True)
    overdue = world.json("refund", "list", "--overdue")
    assert [x["order_id"] for x in overdue] == [oid]
    assert overdue[0]["overdue"] is True and overdue[0]["status"] == "held"
    assert world.show(oid)["refund"]["overdue"] is True
    assert not [e for e in world.events(oid) if e["kind"] == "refund_completed"]


def test_refund_list_overdue_lists_only_overdue_refunds(world):
    held = cancel_by_silence(world, buyer="alice")
    other = world.place(buyer="bob")
    world.json("cancel", "request", other["id"], "--reason", "other")
    world.json("seller", "respond", other["id"], "accept")  # refund due 2030-03-28T09:00 too
    world.json("refund", "hold", held["id"])
    world.json("clock", "set", "2030-04-10T00:00:00Z")
    all_refunds = {r["order_id"]: r for r in world.json("refund", "list")}
    assert all_refunds[held["id"]]["overdue"] is True
    assert all_refunds[other["id"]]["status"] == "refunded"
    assert all_refunds[other["id"]]["overdue"] is False
    assert [r["order_id"] for r in world.json("refund", "list", "--overdue")] == [held["id"]]


def test_release_after_due_by_pays_at_once(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    world.json("refund", "hold", oid)
    world.json("clock", "set", "2030-04-05T10:30:00Z")
    r = world.json("refund", "release", oid)
    assert_refund(r, status="refunded", refunded_at="2030-04-05T10:30:00+00:00", overdue=False,
                  due_by="2030-03-28T09:00:00+00:00")
    assert refund(world, oid) == r
    assert world.json("refund", "list", "--overdue") == []
    assert sum(e["kind"] == "refund_completed" for e in world.events(oid)) == 1


def test_release_before_due_by_settles_at_due_by(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    world.json("refund", "hold", oid)
    world.json("clock", "tick", "1d")
    r = world.json("refund", "release", oid)
    assert_refund(r, status="pending", refunded_at=None, overdue=False)
    world.json("clock", "set", "2030-05-01T00:00:00Z")
    assert_refund(refund(world, oid), status="refunded", refunded_at="2030-03-28T09:00:00+00:00", overdue=False)


def test_settle_pays_a_pending_refund_now(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    world.json("clock", "tick", "2h")
    r = world.json("refund", "settle", oid)
    assert_refund(r, status="refunded", refunded_at="2030-03-07T11:00:00+00:00", overdue=False,
                  due_by="2030-03-28T09:00:00+00:00")
    # passing due_by later doesn't pay it a second time
    world.json("clock", "set", "2030-05-01T00:00:00Z")
    assert refund(world, oid)["refunded_at"] == "2030-03-07T11:00:00+00:00"
    done = [e for e in world.events(oid) if e["kind"] == "refund_completed"]
    assert [e["at"] for e in done] == ["2030-03-07T11:00:00+00:00"]
    told = [n for n in world.notes("alice") if n["kind"] == "refund_completed"]
    assert sorted(n["channel"] for n in told) == ["app", "email"]


def test_settle_pays_a_held_overdue_refund_now(world):
    order = cancel_by_silence(world)
    oid = order["id"]
    world.json("refund", "hold", oid)
    world.json("clock", "set", "2030-04-02T00:00:00Z")
    r = world.json("refund", "settle", oid)
    assert_refund(r, status="refunded", refunded_at="2030-04-02T00:00:00+00:00", overdue=False)


def _refunded(cli) -> str:
    order = cancel_by_silence(cli)
    cli.json("refund", "settle", order["id"])
    return order["id"]


def _held(cli) -> str:
    order = cancel_by_silence(cli)
    cli.json("refund", "hold", order["id"])
    return order["id"]


def _pending(cli) -> str:
    return cancel_by_silence(cli)["id"]


@pytest.mark.parametrize(
    "setup, action",
    [
        (_refunded, "hold"),
        (_held, "hold"),
        (_pending, "release"),
        (_refunded, "release"),
        (_refunded, "settle"),
    ],
    ids=["hold-refunded", "hold-held", "release-pending", "release-refunded", "settle-refunded"],
)
def test_refused_refund_actions_exit_4_and_change_nothing(world, setup, action):
    oid = setup(world)
    before_refund = refund(world, oid)
    before_events = world.events()
    err = world.json("refund", action, oid, code=4)
    assert err["exit"] == 4
    assert err["code"] and err["message"]
    assert refund(world, oid) == before_refund
    assert world.events() == before_events


def test_refund_status_of_order_without_refund_is_not_found(world):
    o = world.place()
    err = world.json("refund", "status", o["id"], code=3)
    assert err["exit"] == 3
    assert o["id"] in err["message"]


@pytest.mark.parametrize("action", ["status", "hold", "release", "settle"])
def test_refund_commands_on_unknown_order_exit_3(world, action):
    world.place()
    err = world.json("refund", action, "ORD-9999", code=3)
    assert err["exit"] == 3


@pytest.mark.parametrize("action", ["hold", "release", "settle"])
@pytest.mark.parametrize("who", ["bob", "alice", "acme"])
def test_refund_actions_as_someone_else_are_refused(world, action, who):
    order = cancel_by_silence(world)
    oid = order["id"]
    if action == "release":
        world.json("refund", "hold", oid)
    before = refund(world, oid)
    before_events = world.events()
    err = world.json("refund", action, oid, "--as", who, code=4)
    assert err["exit"] == 4
    assert refund(world, oid) == before
    assert world.events() == before_events


@pytest.mark.parametrize("action", ["hold", "release", "settle"])
def test_refund_actions_with_an_empty_as_name_are_usage_errors(world, action):
    # docs/cli.md "Input rules": --as must be non-empty: exit 2, naming the option
    oid = cancel_by_silence(world)["id"]
    if action == "release":
        world.json("refund", "hold", oid)
    before = refund(world, oid)
    err = world.json("refund", action, oid, "--as", "", code=2)
    assert "--as" in err["message"]
    assert refund(world, oid) == before


def test_refund_actions_as_the_platform_are_allowed(world):
    oid = cancel_by_silence(world)["id"]
    assert world.json("refund", "hold", oid, "--as", "platform")["status"] == "held"
    assert world.json("refund", "release", oid, "--as", "platform")["status"] == "pending"
    assert world.json("refund", "settle", oid, "--as", "platform")["status"] == "refunded"
    actors = [e["actor"] for e in world.events(oid)
              if e["kind"] in ("refund_held", "refund_released", "refund_completed")]
    assert actors == ["platform", "platform", "platform"]


def test_refund_list_is_empty_in_a_world_without_refunds(world):
    world.place()
    assert world.json("refund", "list") == []
    assert world.json("refund", "list", "--overdue") == []
