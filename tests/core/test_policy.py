"""Unit tests of the pure policy module (docs/rules.md R1-R20), with orders built by the engine
on an in-memory World."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta

import pytest

from ordercli.core import engine, presets
from ordercli.core import policy as P
from ordercli.core.errors import Refused, UsageError
from ordercli.core.timecalc import UTC, WorkingDays, fmt, parse_stored
from ordercli.core.world import World
from ordercli.store import new_world_tables

START = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def fresh(start: datetime = START, **policy_overrides) -> World:
    """A new in-memory world on the default (aliexpress) policy, with some values overridden."""
    tables = new_world_tables(start)
    tables["meta"]["1"]["policy"]["values"].update(policy_overrides)
    return World(tables)


def load_policy(name_or_file: str) -> P.Policy:
    loaded = presets.load(name_or_file)
    return loaded.policy if hasattr(loaded, "policy") else loaded[2]


def place(w: World, **kw) -> dict:
    args = {"buyer": "alice", "seller": "acme", "item": "Blue headset", "amount": "19.99"}
    args.update(kw)
    return engine.place_order(w, **args)


def refused(code: str, fn, *args, **kw) -> Refused:
    with pytest.raises(Refused) as exc:
        fn(*args, **kw)
    assert exc.value.code == code, exc.value.message
    assert exc.value.exit_code == 4
    return exc.value


# -- states reached through the engine ---------------------------------------------------------------


def st_unpaid(w: World) -> dict:
    return place(w, unpaid=True)


def st_paid(w: World, **kw) -> dict:
    return place(w, **kw)


def st_requested(w: World, reason: str = "second-thought", **kw) -> dict:
    o = place(w, **kw)
    engine.clock_tick(w, "1d")
    engine.cancel_request(w, o["id"], reason)
    return o


def st_shipped(w: World) -> dict:
    o = place(w)
    engine.clock_tick(w, "1d")
    engine.seller_ship(w, o["id"], "TRK1")
    return o


def st_completed(w: World) -> dict:
    o = st_shipped(w)
    engine.clock_tick(w, "2d")
    engine.confirm(w, o["id"])
    return o


def st_cancelled_unpaid(w: World) -> dict:
    o = place(w, unpaid=True)
    engine.cancel_request(w, o["id"], "wrong-product")
    return o


def st_cancelled_refund(w: World, payment: str = "card") -> dict:
    o = st_requested(w, payment=payment)
    engine.seller_respond(w, o["id"], "accept")
    return o


def st_overdue_refund(w: World) -> dict:
    o = st_cancelled_refund(w)
    engine.refund_hold(w, o["id"])
    engine.clock_tick(w, "30d")
    return o


# -- the reason table -------------------------------------------------------------------------------


def test_cancel_reason_codes_and_faults_are_policy_md():
    assert {c: f for c, (_, f) in P.CANCEL_REASONS.items()} == {
        "second-thought": "buyer",
        "wrong-product": "buyer",
        "shipping-delay": "seller",
        "seller-unresponsive": "seller",
        "other": "buyer",
    }
    reasons = ["second-thought", "wrong-product", "shipping-delay", "seller-unresponsive", "other"]
    assert list(P.CANCEL_REASONS) == reasons


def test_seller_fault_reasons():
    assert set(P.SELLER_FAULT_REASONS) == {"shipping-delay", "seller-unresponsive"}


def test_dispute_reasons():
    assert set(P.POST_SHIPMENT_DISPUTE_REASONS) == {"not-received", "not-as-described", "damaged"}
    assert P.REFUND_DISPUTE_REASON == "refund-not-received"
    assert set(P.DISPUTE_REASONS) == {
        "shipping-delay", "seller-unresponsive", "not-received", "not-as-described", "damaged", "refund-not-received",
    }


def test_end_reasons_and_statuses():
    assert set(P.END_REASONS) == {
        "unpaid_cancelled", "payment_timeout", "cancel_accepted", "seller_silent", "ship_timeout", "dispute_refund",
        "buyer_cancelled", "seller_cancelled",  # issue 19: R21/R22 free cancels, R26 seller cancels
    }
    assert set(P.STATUSES) == {
        "awaiting_payment", "awaiting_shipment", "cancel_requested", "shipped", "completed", "cancelled",
    }
    assert set(P.FINAL_STATUSES) == {"cancelled", "completed"}


def test_request_records_the_reason_fault():
    w = fresh()
    o = st_requested(w, reason="shipping-delay")
    assert o["cancellation"]["fault"] == "seller"
    o2 = st_requested(w, reason="other")
    assert o2["cancellation"]["fault"] == "buyer"


# -- default policy values -------------------------------------------------------------------------


def test_aliexpress_preset_values():
    pol = fresh().policy
    assert pol.name == "aliexpress"
    assert pol.timezone == "UTC"
    assert pol.holidays == ""
    assert pol.pay_within == timedelta(hours=24)
    assert pol.ship_within == WorkingDays(7)
    assert pol.seller_response_within == timedelta(hours=72)
    assert pol.on_seller_silence == "cancel"
    assert pol.cancel_requests_max == 3
    assert pol.ewallets == ("alipay",)
    assert pol.refund_within == {
        "alipay": timedelta(days=7),
        "card": WorkingDays(15),
        "paypal": WorkingDays(15),
        "bank-transfer": WorkingDays(15),
    }


def test_ebay_preset_values():
    pol = load_policy("ebay")
    assert pol.seller_response_within == timedelta(days=3)
    assert pol.on_seller_silence == "lapse"
    assert pol.ship_within == WorkingDays(7)
    assert pol.cancel_requests_max == 3


def test_policy_add_with_zone_and_holiday_calendar():
    w = fresh(timezone="Asia/Shanghai", holidays="CN")
    pol = w.policy
    # Tue 2030-12-31 10:00 Shanghai (02:00 UTC); Wed 2031-01-01 is New Year's Day in CN
    assert pol.add(utc(2030, 12, 31, 2), WorkingDays(1)) == utc(2031, 1, 2, 2)
    # the same sum with no calendar lands on the holiday
    assert fresh(timezone="Asia/Shanghai").policy.add(utc(2030, 12, 31, 2), WorkingDays(1)) == utc(2031, 1, 1, 2)
    # calendar durations ignore the calendar
    assert pol.add(utc(2030, 12, 31, 2), timedelta(days=1)) == utc(2031, 1, 1, 2)


# -- pending_deadlines / next_deadline ---------------------------------------------------------------


def test_deadlines_awaiting_payment():
    w = fresh()
    o = st_unpaid(w)
    assert o["status"] == "awaiting_payment"
    assert P.pending_deadlines(o) == [("pay_by", START + timedelta(hours=24))]
    assert P.next_deadline(o) == {"kind": "pay_by", "at": START + timedelta(hours=24)}


def test_deadlines_awaiting_shipment_ship_by_is_7_working_days():
    w = fresh()
    o = st_paid(w)
    assert o["status"] == "awaiting_shipment"
    assert o["ship_by"] == "2030-03-13T09:00:00+00:00"  # Monday 09:00 + 7 working days
    assert P.pending_deadlines(o) == [("ship_by", utc(2030, 3, 13, 9))]
    assert P.next_deadline(o) == {"kind": "ship_by", "at": utc(2030, 3, 13, 9)}


def test_ship_by_from_friday_afternoon_is_tuesday_11_days_later():
    w = fresh(utc(2030, 3, 8, 15))
    o = st_paid(w)
    assert o["paid_at"] == "2030-03-08T15:00:00+00:00"
    assert o["ship_by"] == "2030-03-19T15:00:00+00:00"


def test_deadlines_cancel_requested():
    w = fresh()
    o = st_requested(w)
    requested = START + timedelta(days=1)
    assert o["status"] == "cancel_requested"
    assert o["cancellation"]["respond_by"] == fmt(requested + timedelta(hours=72))
    assert P.pending_deadlines(o) == [("respond_by", requested + timedelta(hours=72)), ("ship_by", utc(2030, 3, 13, 9))]
    assert P.next_deadline(o) == {"kind": "respond_by", "at": requested + timedelta(hours=72)}


def test_next_deadline_is_the_earliest():
    w = fresh()
    o = place(w)
    engine.clock_tick(w, "6d")  # Sunday 09:00; ship_by Wednesday 09:00
    engine.cancel_request(w, o["id"], "other")  # respond_by Wednesday 09:00 too
    assert o["cancellation"]["respond_by"] == o["ship_by"]
    # tie: by kind, respond_by before ship_by
    assert P.next_deadline(o) == {"kind": "respond_by", "at": utc(2030, 3, 13, 9)}
    o2 = place(w)  # Sunday: ship_by = Monday 00:00 + 7 wd
    engine.clock_tick(w, "1d")
    engine.cancel_request(w, o2["id"], "other")
    d = copy.deepcopy(o2)
    d["ship_by"] = fmt(utc(2030, 3, 14, 0))  # earlier than respond_by (Thursday 09:00)
    assert P.next_deadline(d) == {"kind": "ship_by", "at": utc(2030, 3, 14, 0)}


@pytest.mark.parametrize("make", [st_shipped, st_completed, st_cancelled_unpaid])
def test_no_deadlines_when_nothing_waits(make):
    w = fresh()
    o = make(w)
    assert P.pending_deadlines(o) == []
    assert P.next_deadline(o) is None


def test_deadlines_cancelled_with_pending_card_refund():
    w = fresh()
    o = st_cancelled_refund(w)  # accepted Tuesday 2030-03-05 09:00
    assert o["status"] == "cancelled" and o["end_reason"] == "cancel_accepted"
    due = utc(2030, 3, 26, 9)  # + 15 working days = three weeks
    assert o["refund"]["due_by"] == fmt(due)
    assert P.pending_deadlines(o) == [("due_by", due)]
    assert P.next_deadline(o) == {"kind": "due_by", "at": due}


def test_deadlines_alipay_refund_is_7_calendar_days():
    w = fresh()
    o = st_cancelled_refund(w, payment="alipay")
    due = utc(2030, 3, 12, 9)
    assert o["refund"]["due_by"] == fmt(due)
    assert P.pending_deadlines(o) == [("due_by", due)]


def test_held_or_paid_refund_has_no_deadline():
    w = fresh()
    o = st_cancelled_refund(w)
    engine.refund_hold(w, o["id"])
    assert o["refund"]["status"] == "held"
    assert P.pending_deadlines(o) == []
    engine.refund_release(w, o["id"])
    engine.refund_settle(w, o["id"])
    assert o["refund"]["status"] == "refunded"
    assert P.pending_deadlines(o) == []
    assert P.next_deadline(o) is None


def test_shipped_order_with_dispute_refund_has_due_by():
    w = fresh()
    o = st_shipped(w)
    engine.dispute_open(w, o["id"], "not-received")
    engine.dispute_resolve(w, o["id"], "refund")
    assert o["status"] == "shipped"
    assert P.pending_deadlines(o) == [("due_by", parse_stored(o["refund"]["due_by"]))]
    assert o["refund"]["due_by"] == fmt(utc(2030, 3, 26, 9))


# -- refund_overdue --------------------------------------------------------------------------------


def test_refund_overdue():
    w = fresh()
    o = st_cancelled_refund(w)
    r = o["refund"]
    due = parse_stored(r["due_by"])
    assert P.refund_overdue(None, due) is False
    assert P.refund_overdue(r, due - timedelta(seconds=1)) is False
    assert P.refund_overdue(r, due) is False  # "past" due_by, not at it
    assert P.refund_overdue(r, due + timedelta(seconds=1)) is True
    held = {**r, "status": "held"}
    assert P.refund_overdue(held, due + timedelta(days=1)) is True
    paid = {**r, "status": "refunded"}
    assert P.refund_overdue(paid, due + timedelta(days=1)) is False


def test_pending_refund_settles_at_due_by_so_it_never_becomes_overdue():
    w = fresh()
    o = st_cancelled_refund(w)
    engine.clock_tick(w, "30d")
    assert o["refund"]["status"] == "refunded"
    assert o["refund"]["refunded_at"] == o["refund"]["due_by"]
    assert P.refund_overdue(o["refund"], w.now) is False


def test_held_refund_becomes_overdue():
    w = fresh()
    o = st_overdue_refund(w)
    assert o["refund"]["status"] == "held"
    assert P.refund_overdue(o["refund"], w.now) is True


# -- gates ---------------------------------------------------------------------------------------


def test_gate_pay():
    w = fresh()
    assert P.gate_pay(st_unpaid(w), w.policy, w.now) is None
    refused("already_paid", P.gate_pay, st_paid(w), w.policy, w.now)
    refused("order_cancelled", P.gate_pay, st_cancelled_unpaid(w), w.policy, w.now)
    refused("order_completed", P.gate_pay, st_completed(w), w.policy, w.now)


def test_gate_confirm():
    w = fresh()
    assert P.gate_confirm(st_shipped(w), w.policy, w.now) is None
    refused("not_shipped", P.gate_confirm, st_paid(w), w.policy, w.now)
    refused("not_shipped", P.gate_confirm, st_unpaid(w), w.policy, w.now)
    refused("not_shipped", P.gate_confirm, st_requested(w), w.policy, w.now)
    refused("order_completed", P.gate_confirm, st_completed(w), w.policy, w.now)
    refused("order_cancelled", P.gate_confirm, st_cancelled_refund(w), w.policy, w.now)


def test_gate_cancel_request_allowed_before_shipment():
    w = fresh()
    assert P.gate_cancel_request(st_unpaid(w), w.policy, w.now) is None  # R1
    assert P.gate_cancel_request(st_paid(w), w.policy, w.now) is None  # R5


@pytest.mark.parametrize("make", [st_shipped, st_completed])
def test_gate_cancel_request_after_shipment_points_to_dispute(make):
    w = fresh()
    o = make(w)
    err = refused("cancel_after_shipment", P.gate_cancel_request, o, w.policy, w.now)
    assert "after shipment only a dispute is possible" in err.message


def test_gate_cancel_request_refusals():
    w = fresh()
    refused("request_pending", P.gate_cancel_request, st_requested(w), w.policy, w.now)
    refused("order_cancelled", P.gate_cancel_request, st_cancelled_unpaid(w), w.policy, w.now)
    refused("order_cancelled", P.gate_cancel_request, st_cancelled_refund(w), w.policy, w.now)


def test_gate_cancel_request_refused_with_open_dispute():
    w = fresh()
    o = place(w)
    engine.dispute_open(w, o["id"], "shipping-delay")
    refused("dispute_open", P.gate_cancel_request, o, w.policy, w.now)


def test_cancel_request_limit_default_3():
    w = fresh()
    o = place(w)
    for n in (1, 2, 3):
        assert P.gate_cancel_request(o, w.policy, w.now) is None
        engine.cancel_request(w, o["id"], "second-thought")
        assert o["cancellation"]["requests"] == n
        engine.seller_respond(w, o["id"], "reject")
        assert o["status"] == "awaiting_shipment"
        assert o["ship_by"] == "2030-03-13T09:00:00+00:00"  # R9: unchanged
    err = refused("request_limit", P.gate_cancel_request, o, w.policy, w.now)
    assert "3" in err.message
    with pytest.raises(Refused):
        engine.cancel_request(w, o["id"], "second-thought")
    assert o["cancellation"]["requests"] == 3


def test_cancel_request_limit_from_policy():
    w = fresh(cancel_requests_max=1)
    o = place(w)
    engine.cancel_request(w, o["id"], "other")
    engine.cancel_withdraw(w, o["id"])  # a withdrawn request still counts
    refused("request_limit", P.gate_cancel_request, o, w.policy, w.now)


def test_lapsed_requests_count_towards_the_limit():
    w = fresh(on_seller_silence="lapse", cancel_requests_max=2, ship_within="30 working days")
    o = place(w)
    for _ in range(2):
        engine.cancel_request(w, o["id"], "other")
        engine.clock_tick(w, "72h")
        assert o["status"] == "awaiting_shipment"
        assert o["cancellation"]["status"] == "timed_out"
    refused("request_limit", P.gate_cancel_request, o, w.policy, w.now)


def test_gate_withdraw_and_gate_respond():
    w = fresh()
    for gate in (P.gate_withdraw, P.gate_respond):
        assert gate(st_requested(w), w.policy, w.now) is None
        refused("no_pending_request", gate, st_paid(w), w.policy, w.now)
        refused("no_pending_request", gate, st_unpaid(w), w.policy, w.now)
        refused("no_pending_request", gate, st_shipped(w), w.policy, w.now)
        refused("order_cancelled", gate, st_cancelled_refund(w), w.policy, w.now)
        refused("order_completed", gate, st_completed(w), w.policy, w.now)


def test_gate_ship_r12_pending_request_must_be_answered_first():
    w = fresh()
    o = st_requested(w)
    err = refused("request_pending", P.gate_ship, o, w.policy, w.now)
    assert "answer it first" in err.message
    before = copy.deepcopy(o)
    with pytest.raises(Refused):
        engine.seller_ship(w, o["id"])
    assert o == before
    engine.seller_respond(w, o["id"], "reject")
    assert P.gate_ship(o, w.policy, w.now) is None
    engine.seller_ship(w, o["id"])
    assert o["status"] == "shipped"
    assert o["shipped_at"] == fmt(w.now)


def test_gate_ship_other_states():
    w = fresh()
    assert P.gate_ship(st_paid(w), w.policy, w.now) is None
    refused("not_paid", P.gate_ship, st_unpaid(w), w.policy, w.now)
    refused("already_shipped", P.gate_ship, st_shipped(w), w.policy, w.now)
    refused("order_completed", P.gate_ship, st_completed(w), w.policy, w.now)
    refused("order_cancelled", P.gate_ship, st_cancelled_refund(w), w.policy, w.now)


# R13 (a): before shipment only with a seller-fault reason
@pytest.mark.parametrize("reason", ["shipping-delay", "seller-unresponsive"])
def test_gate_dispute_open_a_before_shipment_seller_fault(reason):
    w = fresh()
    assert P.gate_dispute_open(st_paid(w), reason, w.policy, w.now) is None


@pytest.mark.parametrize("reason", ["not-received", "not-as-described", "damaged"])
def test_gate_dispute_open_a_post_shipment_reason_before_shipment_refused(reason):
    w = fresh()
    refused("not_shipped", P.gate_dispute_open, st_paid(w), reason, w.policy, w.now)


@pytest.mark.parametrize("reason", ["second-thought", "wrong-product", "other", "because"])
def test_gate_dispute_open_buyer_fault_reason_is_not_a_dispute_reason(reason):
    w = fresh()
    with pytest.raises(UsageError) as exc:
        P.gate_dispute_open(st_paid(w), reason, w.policy, w.now)
    assert exc.value.exit_code == 2
    with pytest.raises(UsageError):
        engine.dispute_open(w, "ORD-0001", reason)


def test_gate_dispute_open_a_refusals():
    w = fresh()
    refused("request_pending", P.gate_dispute_open, st_requested(w), "shipping-delay", w.policy, w.now)
    refused("not_paid", P.gate_dispute_open, st_unpaid(w), "shipping-delay", w.policy, w.now)
    refused("order_cancelled", P.gate_dispute_open, st_cancelled_refund(w), "shipping-delay", w.policy, w.now)


# R13 (b): after shipment with a post-shipment reason
@pytest.mark.parametrize("make", [st_shipped, st_completed])
@pytest.mark.parametrize("reason", ["not-received", "not-as-described", "damaged"])
def test_gate_dispute_open_b_after_shipment(make, reason):
    w = fresh()
    assert P.gate_dispute_open(make(w), reason, w.policy, w.now) is None


@pytest.mark.parametrize("make", [st_shipped, st_completed])
def test_gate_dispute_open_b_seller_fault_reason_after_shipment_refused(make):
    w = fresh()
    refused("wrong_dispute_reason", P.gate_dispute_open, make(w), "shipping-delay", w.policy, w.now)


# R13 (c): refund-not-received on an overdue refund
def test_gate_dispute_open_c_overdue_refund():
    w = fresh()
    o = st_overdue_refund(w)
    assert P.gate_dispute_open(o, "refund-not-received", w.policy, w.now) is None
    for reason in ("not-received", "shipping-delay"):
        with pytest.raises(Refused):
            P.gate_dispute_open(o, reason, w.policy, w.now)


def test_gate_dispute_open_c_refused_when_not_overdue():
    w = fresh()
    refused("refund_not_overdue", P.gate_dispute_open, st_cancelled_refund(w), "refund-not-received", w.policy, w.now)
    refused("refund_not_overdue", P.gate_dispute_open, st_cancelled_unpaid(w), "refund-not-received", w.policy, w.now)
    refused("refund_not_overdue", P.gate_dispute_open, st_shipped(w), "refund-not-received", w.policy, w.now)
    o = st_overdue_refund(w)
    engine.refund_settle(w, o["id"])
    refused("refund_not_overdue", P.gate_dispute_open, o, "refund-not-received", w.policy, w.now)


def test_at_most_one_open_dispute():
    w = fresh()
    o = st_shipped(w)
    engine.dispute_open(w, o["id"], "not-received")
    for reason in ("not-received", "damaged", "not-as-described"):
        refused("dispute_open", P.gate_dispute_open, o, reason, w.policy, w.now)
    with pytest.raises(Refused):
        engine.dispute_open(w, o["id"], "damaged")
    assert len(o["disputes"]) == 1
    engine.dispute_resolve(w, o["id"], "reject")
    assert o["disputes"][0]["status"] == "resolved" and o["disputes"][0]["outcome"] == "reject"
    assert P.gate_dispute_open(o, "damaged", w.policy, w.now) is None


def test_overdue_refund_with_open_dispute_cannot_get_a_second():
    w = fresh()
    o = st_overdue_refund(w)
    engine.dispute_open(w, o["id"], "refund-not-received")
    refused("dispute_open", P.gate_dispute_open, o, "refund-not-received", w.policy, w.now)


def test_dispute_refund_before_shipment_cancels_with_one_refund():
    w = fresh()
    o = place(w)
    engine.dispute_open(w, o["id"], "seller-unresponsive")
    engine.dispute_resolve(w, o["id"], "refund")
    assert o["status"] == "cancelled"
    assert o["end_reason"] == "dispute_refund"
    assert o["refund"]["status"] == "pending"
    assert o["refund"]["amount"] == "19.99"
    assert o["refund"]["method"] == "card"


# -- check_party / check_role (R20) -------------------------------------------------------------------


def test_check_party():
    w = fresh()
    o = place(w)
    assert P.check_party(o, "buyer", None) == "alice"
    assert P.check_party(o, "buyer", "alice") == "alice"
    assert P.check_party(o, "seller", None) == "acme"
    assert P.check_party(o, "seller", "acme") == "acme"
    err = refused("not_party", P.check_party, o, "buyer", "mallory")
    assert "mallory" in err.message and "alice" in err.message
    refused("not_party", P.check_party, o, "buyer", "acme")  # the seller cannot act as buyer
    refused("not_party", P.check_party, o, "seller", "alice")  # nor the buyer as seller


def test_check_role():
    assert P.check_role("platform", None) == "platform"
    assert P.check_role("platform", "platform") == "platform"
    assert P.check_role("support", None) == "support"
    refused("not_party", P.check_role, "support", "alice")
    refused("not_party", P.check_role, "platform", "support")


def test_engine_refuses_acting_for_another_party_and_changes_nothing():
    w = fresh()
    o = place(w, unpaid=True)
    before = copy.deepcopy(w.tables)
    with pytest.raises(Refused) as exc:
        engine.pay(w, o["id"], actor="acme")
    assert exc.value.code == "not_party"
    with pytest.raises(Refused):
        engine.cancel_request(w, o["id"], "other", actor="mallory")
    assert w.tables == before
    o2 = place(w)
    engine.cancel_request(w, o2["id"], "other")
    with pytest.raises(Refused):
        engine.seller_respond(w, o2["id"], "accept", actor="alice")
    with pytest.raises(Refused):
        engine.cancel_withdraw(w, o2["id"], actor="acme")
    assert o2["status"] == "cancel_requested"


# -- actions ---------------------------------------------------------------------------------------


def test_actions_awaiting_payment():
    w = fresh()
    assert P.actions(st_unpaid(w), w.policy, w.now) == {"buyer": ["orders pay", "cancel request"], "seller": []}


def test_actions_awaiting_shipment():
    w = fresh()
    assert P.actions(st_paid(w), w.policy, w.now) == {
        "buyer": ["cancel request", "dispute open"], "seller": ["seller ship"],
    }


def test_actions_cancel_requested():
    w = fresh()
    assert P.actions(st_requested(w), w.policy, w.now) == {"buyer": ["cancel withdraw"], "seller": ["seller respond"]}


def test_actions_shipped():
    w = fresh()
    assert P.actions(st_shipped(w), w.policy, w.now) == {"buyer": ["orders confirm", "dispute open"], "seller": []}


def test_actions_completed():
    w = fresh()
    assert P.actions(st_completed(w), w.policy, w.now) == {"buyer": ["dispute open"], "seller": []}


@pytest.mark.parametrize("make", [st_cancelled_unpaid, st_cancelled_refund])
def test_actions_cancelled(make):
    w = fresh()
    assert P.actions(make(w), w.policy, w.now) == {"buyer": [], "seller": []}


def test_actions_cancelled_with_overdue_refund_offers_a_dispute():
    w = fresh()
    assert P.actions(st_overdue_refund(w), w.policy, w.now) == {"buyer": ["dispute open"], "seller": []}


def test_actions_after_request_limit():
    w = fresh(cancel_requests_max=1)
    o = place(w)
    engine.cancel_request(w, o["id"], "other")
    engine.seller_respond(w, o["id"], "reject")
    assert P.actions(o, w.policy, w.now) == {"buyer": ["dispute open"], "seller": ["seller ship"]}


def test_actions_with_open_dispute():
    w = fresh()
    o = place(w)
    engine.dispute_open(w, o["id"], "shipping-delay")
    assert P.actions(o, w.policy, w.now) == {"buyer": [], "seller": ["seller ship"]}


# -- policy_from_mapping -----------------------------------------------------------------------------


def base_values() -> dict:
    return copy.deepcopy(new_world_tables(START)["meta"]["1"]["policy"]["values"])


def test_policy_from_mapping_accepts_the_preset_values():
    pol = P.policy_from_mapping(base_values(), "mine")
    assert pol.name == "mine"
    assert pol.pay_within == timedelta(hours=24)
    assert pol.ship_within == WorkingDays(7)
    assert pol.refund_within["card"] == WorkingDays(15)


def test_policy_from_mapping_accepts_every_key_of_the_example():
    values = {
        "extends": "aliexpress",
        "timezone": "Asia/Shanghai",
        "holidays": "CN",
        "pay_within": "24h",
        "ship_within": "7 working days",
        "seller_response_within": "48h",
        "on_seller_silence": "lapse",
        "cancel_requests_max": 2,
        "ewallets": ["alipay", "paypal"],
        "refund_within": {"alipay": "7d", "card": "15 working days", "paypal": "1w", "bank-transfer": "1 working day"},
    }
    pol = P.policy_from_mapping(values, "cn")
    assert pol.timezone == "Asia/Shanghai"
    assert pol.holidays == "CN"
    assert pol.seller_response_within == timedelta(hours=48)
    assert pol.on_seller_silence == "lapse"
    assert pol.cancel_requests_max == 2
    assert pol.ewallets == ("alipay", "paypal")
    assert pol.refund_within["paypal"] == timedelta(weeks=1)
    assert pol.refund_within["bank-transfer"] == WorkingDays(1)


def test_policy_from_mapping_refuses_an_unknown_key():
    values = base_values()
    values["pay_whenever"] = "24h"
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert exc.value.exit_code == 2
    assert "pay_whenever" in exc.value.message


@pytest.mark.parametrize(
    "key, value",
    [
        ("pay_within", "5x"),
        ("pay_within", "-1h"),
        ("pay_within", 24),
        ("ship_within", "7 workdays"),
        ("seller_response_within", "72 h"),
        ("on_seller_silence", "ignore"),
        ("on_seller_silence", None),
        ("cancel_requests_max", -1),
        ("cancel_requests_max", True),
        ("cancel_requests_max", "3"),
        ("cancel_requests_max", 2.5),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", ""),
        ("timezone", 8),
        ("holidays", "ZZ"),
        ("holidays", 1),
        ("ewallets", ["bitcoin"]),
        ("ewallets", ["alipay", "bitcoin"]),
        ("ewallets", "alipay"),
        ("refund_within", "7d"),
    ],
)
def test_policy_from_mapping_refuses_a_bad_value_naming_the_key(key, value):
    values = base_values()
    values[key] = value
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert exc.value.exit_code == 2
    assert exc.value.code == "bad_policy"
    # the key's path, between the source and what was expected (a list item by its index)
    assert re.search(rf"^policy: {key}(\[\d+\])?: ", exc.value.message), exc.value.message


@pytest.mark.parametrize(
    "change, named",
    [
        ({"card": "soon"}, "refund_within.card"),
        ({"alipay": "7 days"}, "refund_within.alipay"),
        ({"Cash": "1d"}, "refund_within.Cash"),  # issue 19: any method, spelt as a name
    ],
)
def test_policy_from_mapping_refund_within_names_the_method(change, named):
    values = base_values()
    values["refund_within"].update(change)
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert exc.value.exit_code == 2
    assert exc.value.message.startswith(f"policy: {named}: "), exc.value.message


def test_policy_from_mapping_refund_within_names_the_payment_methods():
    # issue 19 (R27): the methods orders may be paid with are the keys of refund_within
    values = base_values()
    del values["refund_within"]["paypal"]
    values["refund_within"]["gift-card"] = "3h"
    pol = P.policy_from_mapping(values, "x")
    assert pol.payment_methods == ("alipay", "card", "bank-transfer", "gift-card")


def test_policy_from_mapping_refund_within_empty_is_refused():
    values = base_values()
    values["refund_within"] = {}
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert "refund_within" in exc.value.message


def test_policy_file_unknown_key_is_refused_naming_it(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('extends = "ebay"\nship_within = "3 working days"\nrefund_whenever = "1d"\n')
    with pytest.raises(UsageError) as exc:
        presets.load(str(f))
    assert exc.value.exit_code == 2
    assert "refund_whenever" in exc.value.message


def test_policy_file_falls_back_to_its_preset(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('extends = "ebay"\nship_within = "3 working days"\n[refund_within]\ncard = "10 working days"\n')
    pol = load_policy(str(f))
    assert pol.name == "p"
    assert pol.ship_within == WorkingDays(3)
    assert pol.on_seller_silence == "lapse"  # from ebay
    assert pol.seller_response_within == timedelta(days=3)  # from ebay
    assert pol.refund_within["card"] == WorkingDays(10)
    assert pol.refund_within["alipay"] == timedelta(days=7)  # from aliexpress


def test_ship_by_counts_working_days_in_the_policy_zone():
    # Friday 20:00 UTC is Saturday 04:00 in Shanghai: Monday 00:00 Shanghai, then 7 working days
    w = fresh(utc(2030, 3, 8, 20), timezone="Asia/Shanghai")
    o = place(w)
    assert o["ship_by"] == "2030-03-19T16:00:00+00:00"  # Wednesday 2030-03-20 00:00 Shanghai
    # the same instant under the UTC default is a working Friday evening
    assert place(fresh(utc(2030, 3, 8, 20)))["ship_by"] == "2030-03-19T20:00:00+00:00"


@pytest.mark.parametrize("key", ["pay_within", "ship_within", "seller_response_within"])
def test_a_bad_duration_names_its_own_key(key):
    values = base_values()
    values[key] = "soon"
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert exc.value.message == f"policy: {key}: expected a duration like \"72h\" or \"7 working days\", found 'soon'"


def test_refund_within_that_is_not_a_table_is_called_a_bad_value():
    values = base_values()
    values["refund_within"] = "7d"
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping(values, "x")
    assert exc.value.message == "policy: refund_within: expected a table of payment methods and durations, found '7d'"


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Z"])
def test_utc_by_any_of_its_names(zone):
    from ordercli.core.timecalc import UTC

    values = base_values()
    values["timezone"] = zone
    pol = P.policy_from_mapping(values, "x")
    friday = datetime(2030, 3, 8, 15, tzinfo=UTC)
    assert pol.add(friday, pol.ship_within) == datetime(2030, 3, 19, 15, tzinfo=UTC)  # Friday + 7 working days


def test_a_file_policy_that_extends_another_shows_its_values_never_extends(tmp_path, db, cli) -> None:
    """`policy show` of a file extending ebay: ebay's values with the file's own on top, each value's
    source named, and no `extends` (a policy's parent is where values came from, not a value in force),
    even when a world's stored values hold one (a file an older or hand-made writer left)."""
    import json

    from ordercli import Sandbox

    fast = tmp_path / "fast.toml"
    fast.write_text('extends = "ebay"\nship_within = "2 working days"\n')
    shown = Sandbox(start="2030-03-04T09:00:00Z", policy=str(fast)).policy()
    ebay = presets.load("ebay").policy.describe()
    assert "extends" not in shown and "extends" not in shown["sources"]
    assert shown["name"] == "fast" and shown["ship_within"] == "2 working days"
    assert {k: v for k, v in shown.items() if k not in ("name", "ship_within", "source", "sources")} == {
        k: v for k, v in ebay.items() if k not in ("name", "ship_within")
    }
    assert shown["sources"]["ship_within"] == f"file {fast}" and "preset ebay" in shown["sources"].values()

    values = {**presets.load("ebay").values, "extends": "ebay"}
    assert "extends" not in P.policy_from_mapping(values, "ebay").describe()
    cli.json("policy", "use", str(fast))
    data = json.loads(db.read_bytes())
    data["meta"]["1"]["policy"]["values"]["extends"] = "ebay"
    data["meta"]["1"].pop("seal", None)
    db.write_text(json.dumps(data))
    stored = cli.json("policy", "show")
    assert "extends" not in stored and stored["ship_within"] == "2 working days"


# -- what a policy's switches imply, and the bounds of its numbers (mutants the issue-18 re-run found alive)


@pytest.mark.parametrize(
    ("switches", "packs", "free"),
    [
        ({}, False, False),
        ({"pack_before_ship": True}, True, False),  # packing exists, but no free cancellation with it
        ({"free_cancel_until_packed": True}, True, True),
        ({"free_cancel_within": "30m"}, False, True),
    ],
)
def test_a_policy_packs_and_cancels_freely_only_where_a_switch_says_so(switches, packs, free):
    values = {**base_values(), **switches}
    pol = P.policy_from_mapping(values, "x")
    assert (pol.uses_packing, pol.has_free_cancel) == (packs, free)


@pytest.mark.parametrize("key", ["seller_cancel_rate_max", "late_shipment_rate_max"])
def test_a_rate_limit_runs_from_0_to_1_inclusive(key):
    for rate in (0, 0.5, 1):
        assert getattr(P.policy_from_mapping({**base_values(), key: rate}, "x"), key) == rate
    for rate in (-0.01, 1.01, True, "0.5"):
        with pytest.raises(UsageError) as exc:
            P.policy_from_mapping({**base_values(), key: rate}, "x")
        assert exc.value.code == "bad_policy" and key in exc.value.message


def test_cancel_requests_max_holds_a_64_bit_integer_and_no_more():
    top = 2**63 - 1  # what the data file (JSON through orjson) can hold
    assert P.policy_from_mapping({**base_values(), "cancel_requests_max": top}, "x").cancel_requests_max == top
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping({**base_values(), "cancel_requests_max": top + 1}, "x")
    assert exc.value.code == "bad_policy"


def test_a_name_list_holding_a_number_is_a_bad_policy_not_a_crash():
    with pytest.raises(UsageError) as exc:
        P.policy_from_mapping({**base_values(), "ewallets": [5]}, "x")
    assert exc.value.code == "bad_policy" and "ewallets" in exc.value.message


def test_a_policy_duration_of_more_working_days_than_any_calendar_holds_is_refused_at_once():
    from ordercli.core.timecalc import parse_policy_duration

    assert parse_policy_duration("9999999 working days", "x") == WorkingDays(9999999)
    with pytest.raises(UsageError) as exc:
        parse_policy_duration("10000000 working days", "x")
    assert exc.value.code == "bad_duration" and "too large" in exc.value.message
