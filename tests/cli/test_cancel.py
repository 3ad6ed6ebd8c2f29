"""`cancel request|withdraw|reasons` and `seller respond|ship` through the CLI: R1, R4-R12,
R17 (final statuses) and R20 (acting for another party), with exact exit codes and JSON fields."""

from __future__ import annotations

import json

import pytest

START = "2030-03-04T09:00:00+00:00"  # the `world` fixture's clock: a Monday
SHIP_BY = "2030-03-13T09:00:00+00:00"  # START + 7 working days
RESPOND_BY = "2030-03-07T09:00:00+00:00"  # START + 72 h
CANCELLATION_KEYS = {"reason", "fault", "note", "requested_at", "respond_by", "status", "responded_at", "requests"}
REFUND_KEYS = {"order_id", "amount", "currency", "method", "status", "initiated_at", "due_by", "refunded_at",
               "overdue"}


# -- helpers ------------------------------------------------------------------------------------


def request(cli, order_id: str, reason: str = "second-thought", *extra: str) -> dict:
    return cli.json("cancel", "request", order_id, "--reason", reason, *extra)


# -- cancel reasons (R6) -----------------------------------------------------------------------


def test_cancel_reasons_lists_the_five_codes_with_fault(cli):
    reasons = cli.json("cancel", "reasons")
    assert [(r["code"], r["fault"]) for r in reasons] == [
        ("second-thought", "buyer"),
        ("wrong-product", "buyer"),
        ("shipping-delay", "seller"),
        ("seller-unresponsive", "seller"),
        ("other", "buyer"),
    ]
    assert all(isinstance(r.get("meaning"), str) and r["meaning"] for r in reasons)


# -- R1: an unpaid order ------------------------------------------------------------------------


def test_r1_unpaid_order_is_cancelled_at_once(world):
    order = world.place("--unpaid")
    out = request(world, order["id"])
    assert out["status"] == "cancelled"
    assert out["end_reason"] == "unpaid_cancelled"
    assert out["cancelled_at"] == START
    assert out["refund"] is None
    assert out["paid_at"] is None
    assert out["next_deadline"] is None
    assert out["actions"] == {"buyer": [], "seller": []}
    assert world.show(order["id"]) == out


def test_r1_no_seller_involved_and_nothing_fires_later(world):
    order = world.place("--unpaid")
    request(world, order["id"])
    move = world.json("clock", "tick", "30d")
    assert move["fired"] == []
    after = world.show(order["id"])
    assert after["end_reason"] == "unpaid_cancelled"
    assert after["refund"] is None
    assert world.json("notifications", "list", "--to", "acme") == []
    assert world.json("refund", "list") == []


# -- R5: after shipment only a dispute --------------------------------------------------------


@pytest.mark.parametrize("state", ["shipped", "completed"])
def test_r5_request_after_shipment_is_refused(world, db, state):
    order = world.place()
    world.json("seller", "ship", order["id"])
    if state == "completed":
        world.json("orders", "confirm", order["id"])
    err = world.refused_unchanged(db, "cancel", "request", order["id"], "--reason", "second-thought", code=4)
    assert "only a dispute is possible" in err["message"]
    after = world.show(order["id"])
    assert after["status"] == state
    assert after["cancellation"] is None


def test_r5_request_while_one_is_pending_is_refused(world, db):
    order = world.place()
    request(world, order["id"])
    err = world.refused_unchanged(db, "cancel", "request", order["id"], "--reason", "other", code=4)
    assert err["code"] == "request_pending"
    assert world.show(order["id"])["cancellation"]["requests"] == 1


# -- R6: unknown reason -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["because", "Second-thought", "", "shipping_delay"])
def test_r6_unknown_reason_is_usage(world, db, reason):
    order = world.place()
    err = world.refused_unchanged(db, "cancel", "request", order["id"], "--reason", reason, code=2)
    assert err["code"] == "unknown_reason"
    assert world.show(order["id"])["status"] == "awaiting_shipment"


def test_r6_missing_reason_is_usage(world, db):
    order = world.place()
    err = world.refused_unchanged(db, "cancel", "request", order["id"], code=2)
    assert "--reason" in err["message"]


def test_request_unknown_order_is_not_found(world, db):
    err = world.refused_unchanged(db, "cancel", "request", "ORD-0007", "--reason", "other", code=3)
    assert err["code"] == "order_not_found"


# -- R7: the request --------------------------------------------------------------------------


def test_r7_request_opens_72_hours_for_the_seller(world):
    order = world.place()
    world.json("clock", "tick", "5h")
    out = request(world, order["id"], "wrong-product", "--note", "wrong colour")
    assert out["status"] == "cancel_requested"
    c = out["cancellation"]
    assert set(c) == CANCELLATION_KEYS
    assert c == {
        "reason": "wrong-product",
        "fault": "buyer",
        "note": "wrong colour",
        "requested_at": "2030-03-04T14:00:00+00:00",
        "respond_by": "2030-03-07T14:00:00+00:00",
        "status": "pending",
        "responded_at": None,
        "requests": 1,
    }
    assert out["ship_by"] == SHIP_BY
    assert out["next_deadline"] == {"kind": "respond_by", "at": "2030-03-07T14:00:00+00:00"}
    assert out["actions"]["seller"] == ["seller respond"]
    assert "cancel withdraw" in out["actions"]["buyer"]
    assert "cancel request" not in out["actions"]["buyer"]
    assert world.show(order["id"]) == out


def test_r7_respond_by_is_calendar_hours_over_a_weekend(cli):
    cli.json("clock", "set", "2030-03-08T15:00:00Z")  # a Friday
    order = cli.place()
    out = request(cli, order["id"])
    assert out["cancellation"]["respond_by"] == "2030-03-11T15:00:00+00:00"


def test_r7_the_seller_is_told(world):
    order = world.place()
    request(world, order["id"])
    notes = world.json("notifications", "list", "--to", "acme")
    assert notes and all(n["order_id"] == order["id"] for n in notes)


@pytest.mark.parametrize("reason", ["shipping-delay", "seller-unresponsive"])
def test_seller_fault_reason_hints_at_a_dispute_on_stderr(world, reason):
    order = world.place()
    result = world("cancel", "request", order["id"], "--reason", reason, "--json")
    out = json.loads(result.stdout)  # stdout is exactly one JSON value, the hint is not there
    assert out["status"] == "cancel_requested"
    assert out["cancellation"]["fault"] == "seller"
    assert out["cancellation"]["reason"] == reason
    assert "hint:" not in result.stdout
    assert out == world.show(order["id"])  # nothing extra on stdout
    assert "dispute" in result.stderr
    assert result.stderr.strip() and not result.stderr.lstrip().startswith("{")


@pytest.mark.parametrize("reason", ["second-thought", "wrong-product", "other"])
def test_buyer_fault_reason_gives_no_hint(world, reason):
    order = world.place()
    result = world("cancel", "request", order["id"], "--reason", reason, "--json")
    assert json.loads(result.stdout)["cancellation"]["fault"] == "buyer"
    assert result.stderr == ""


# -- R11: withdraw ------------------------------------------------------------------------------


def test_r11_withdraw_returns_to_awaiting_shipment(world):
    order = world.place()
    request(world, order["id"])
    world.json("clock", "tick", "1h")
    out = world.json("cancel", "withdraw", order["id"])
    assert out["status"] == "awaiting_shipment"
    assert out["cancellation"]["status"] == "withdrawn"
    assert out["cancellation"]["requests"] == 1
    assert out["ship_by"] == SHIP_BY
    assert out["next_deadline"] == {"kind": "ship_by", "at": SHIP_BY}
    assert out["end_reason"] is None and out["refund"] is None
    assert "seller ship" in out["actions"]["seller"]
    # the seller's deadline is gone: nothing fires at respond_by
    move = world.json("clock", "tick", "72h")
    assert move["fired"] == []
    assert world.show(order["id"])["status"] == "awaiting_shipment"


def test_r11_withdraw_without_a_pending_request_is_refused(world, db):
    order = world.place()
    err = world.refused_unchanged(db, "cancel", "withdraw", order["id"], code=4)
    assert err["code"] == "no_pending_request"


# -- R8: accept -------------------------------------------------------------------------------


def test_r8_accept_cancels_and_starts_the_refund(world):
    order = world.place(amount="42.50")
    request(world, order["id"])
    world.json("clock", "tick", "2h")
    out = world.json("seller", "respond", order["id"], "accept", "--message", "sorry")
    assert out["status"] == "cancelled"
    assert out["end_reason"] == "cancel_accepted"
    assert out["cancelled_at"] == "2030-03-04T11:00:00+00:00"
    assert out["cancellation"]["status"] == "accepted"
    assert out["cancellation"]["responded_at"] == "2030-03-04T11:00:00+00:00"
    refund = out["refund"]
    assert set(refund) == REFUND_KEYS
    assert refund["order_id"] == order["id"]
    assert refund["amount"] == order["amount"] == "42.50"
    assert refund["currency"] == "USD"
    assert refund["method"] == "card"
    assert refund["status"] == "pending"
    assert refund["initiated_at"] == "2030-03-04T11:00:00+00:00"
    assert refund["due_by"] == "2030-03-25T11:00:00+00:00"  # R15: 15 working days for a card
    assert refund["refunded_at"] is None
    assert refund["overdue"] is False
    assert out["next_deadline"] == {"kind": "due_by", "at": "2030-03-25T11:00:00+00:00"}
    assert out["actions"]["seller"] == []
    assert world.show(order["id"]) == out
    assert world.json("refund", "status", order["id"]) == refund


@pytest.mark.parametrize("method, due_by", [("alipay", "2030-03-11T09:00:00+00:00"),
                                            ("paypal", "2030-03-25T09:00:00+00:00"),
                                            ("bank-transfer", "2030-03-25T09:00:00+00:00")])
def test_r8_refund_goes_back_to_the_payment_method(world, method, due_by):
    order = world.place("--payment", method)
    request(world, order["id"])
    refund = world.json("seller", "respond", order["id"], "accept")["refund"]
    assert refund["method"] == method
    assert refund["amount"] == "19.99"
    assert refund["due_by"] == due_by


def test_respond_without_a_pending_request_is_refused(world, db):
    order = world.place()
    err = world.refused_unchanged(db, "seller", "respond", order["id"], "accept", code=4)
    assert err["code"] == "no_pending_request"


def test_respond_bad_answer_is_usage(world, db):
    order = world.place()
    request(world, order["id"])
    world.refused_unchanged(db, "seller", "respond", order["id"], "maybe", code=2)
    assert world.show(order["id"])["cancellation"]["status"] == "pending"


# -- R9: reject -------------------------------------------------------------------------------


def test_r9_reject_returns_to_awaiting_shipment_with_ship_by_unchanged(world):
    order = world.place()
    world.json("clock", "tick", "1d")
    request(world, order["id"], "shipping-delay")
    world.json("clock", "tick", "1d")
    out = world.json("seller", "respond", order["id"], "reject", "--message", "already packed")
    assert out["status"] == "awaiting_shipment"
    assert out["ship_by"] == SHIP_BY == order["ship_by"]
    assert out["next_deadline"] == {"kind": "ship_by", "at": SHIP_BY}
    assert out["cancellation"]["status"] == "rejected"
    assert out["cancellation"]["responded_at"] == "2030-03-06T09:00:00+00:00"
    assert out["cancellation"]["requests"] == 1
    assert out["end_reason"] is None and out["refund"] is None and out["cancelled_at"] is None
    assert "cancel request" in out["actions"]["buyer"]
    assert world.show(order["id"]) == out


def test_r9_the_buyer_may_ask_three_times_and_no_more(world, db):
    order = world.place()
    oid = order["id"]
    for n in (1, 2, 3):
        out = request(world, oid, "other")
        assert out["status"] == "cancel_requested"
        assert out["cancellation"]["requests"] == n
        assert out["cancellation"]["status"] == "pending"
        out = world.json("seller", "respond", oid, "reject")
        assert out["status"] == "awaiting_shipment"
        world.json("clock", "tick", "1h")
    assert "cancel request" not in out["actions"]["buyer"]
    err = world.refused_unchanged(db, "cancel", "request", oid, "--reason", "other", code=4)
    assert err["code"] == "request_limit"
    assert "3" in err["message"]
    after = world.show(oid)
    assert after["status"] == "awaiting_shipment"
    assert after["cancellation"]["requests"] == 3
    assert after["cancellation"]["status"] == "rejected"


def test_r9_a_withdrawn_request_counts_towards_the_limit(world, db):
    order = world.place()
    oid = order["id"]
    for _ in range(3):
        request(world, oid)
        world.json("cancel", "withdraw", oid)
    world.refused_unchanged(db, "cancel", "request", oid, "--reason", "other", code=4)


# -- R10: seller silent -------------------------------------------------------------------------


def test_r10_silence_for_72h_cancels_and_refunds(world):
    order = world.place()
    request(world, order["id"])
    move = world.json("clock", "tick", "72h")
    assert move["to"] == RESPOND_BY
    cancelled = [e for e in move["fired"] if e["kind"] == "order_cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0]["at"] == RESPOND_BY
    assert cancelled[0]["actor"] == "platform"
    assert cancelled[0]["details"]["end_reason"] == "seller_silent"
    out = world.show(order["id"])
    assert out["status"] == "cancelled"
    assert out["end_reason"] == "seller_silent"
    assert out["cancelled_at"] == RESPOND_BY
    assert out["cancellation"]["status"] == "timed_out"
    assert out["refund"]["status"] == "pending"
    assert out["refund"]["amount"] == "19.99"
    assert out["refund"]["method"] == "card"
    assert out["refund"]["initiated_at"] == RESPOND_BY


def test_r10_not_one_second_early(world):
    order = world.place()
    request(world, order["id"])
    assert world.json("clock", "tick", "71h59m59s")["fired"] == []
    out = world.show(order["id"])
    assert out["status"] == "cancel_requested"
    assert out["cancellation"]["status"] == "pending"
    # the seller can still answer in the last second
    assert world.json("seller", "respond", order["id"], "reject")["status"] == "awaiting_shipment"


def test_r10_fires_at_respond_by_even_on_a_long_tick(world):
    order = world.place()
    world.json("clock", "tick", "90m")
    request(world, order["id"])
    respond_by = "2030-03-07T10:30:00+00:00"
    move = world.json("clock", "tick", "60d")
    assert move["to"] == "2030-05-03T10:30:00+00:00"
    by_kind = {e["kind"]: e for e in move["fired"]}
    assert by_kind["order_cancelled"]["at"] == respond_by
    assert by_kind["refund_started"]["at"] == respond_by
    # the refund created on the way settles on its own due_by within the same tick (R16)
    due_by = "2030-03-28T10:30:00+00:00"
    assert by_kind["refund_completed"]["at"] == due_by
    assert [e["at"] for e in move["fired"]] == sorted(e["at"] for e in move["fired"])
    out = world.show(order["id"])
    assert out["cancelled_at"] == respond_by
    assert out["refund"]["status"] == "refunded"
    assert out["refund"]["refunded_at"] == due_by
    assert "ship_timeout" not in json.dumps(move)


def test_respond_after_the_silence_is_refused(world, db):
    order = world.place()
    request(world, order["id"])
    world.json("clock", "tick", "3d")
    err = world.refused_unchanged(db, "seller", "respond", order["id"], "accept", code=4)
    assert err["code"] == "order_cancelled"


# -- R12 and shipping ---------------------------------------------------------------------------


def test_r12_ship_refused_while_a_request_is_pending(world, db):
    order = world.place()
    request(world, order["id"])
    err = world.refused_unchanged(db, "seller", "ship", order["id"], "--tracking", "LP123", code=4)
    assert err["code"] == "request_pending"
    out = world.show(order["id"])
    assert out["status"] == "cancel_requested"
    assert out["shipped_at"] is None


def test_r12_ship_works_after_a_reject(world):
    order = world.place()
    request(world, order["id"])
    world.json("seller", "respond", order["id"], "reject")
    world.json("clock", "tick", "1h")
    out = world.json("seller", "ship", order["id"], "--tracking", "LP123")
    assert out["status"] == "shipped"
    assert out["shipped_at"] == "2030-03-04T10:00:00+00:00"
    assert out["next_deadline"] is None
    assert "orders confirm" in out["actions"]["buyer"]
    assert "cancel request" not in out["actions"]["buyer"]
    assert out["actions"]["seller"] == []
    assert world.show(order["id"]) == out


def test_ship_sets_shipped_at_and_stops_the_ship_timeout(world):
    order = world.place()
    world.json("clock", "tick", "2d3h")
    out = world.json("seller", "ship", order["id"])
    assert out["status"] == "shipped"
    assert out["shipped_at"] == "2030-03-06T12:00:00+00:00"
    assert out["ship_by"] == SHIP_BY
    assert world.json("clock", "tick", "30d")["fired"] == []
    assert world.show(order["id"])["status"] == "shipped"


def test_ship_twice_is_refused(world, db):
    order = world.place()
    world.json("seller", "ship", order["id"])
    err = world.refused_unchanged(db, "seller", "ship", order["id"], code=4)
    assert err["code"] == "already_shipped"


def test_ship_an_unpaid_order_is_refused(world, db):
    order = world.place("--unpaid")
    err = world.refused_unchanged(db, "seller", "ship", order["id"], code=4)
    assert err["code"] == "not_paid"


def test_ship_unknown_order_is_not_found(world, db):
    err = world.refused_unchanged(db, "seller", "ship", "ORD-0001", code=3)
    assert err["code"] == "order_not_found"


# -- R4: ship_by passes ---------------------------------------------------------------------


def test_r4_unshipped_by_ship_by_is_cancelled_and_refunded(world):
    order = world.place()
    move = world.json("clock", "tick", "9d")  # Monday -> Wednesday of the next week, 09:00
    assert move["to"] == SHIP_BY
    cancelled = [e for e in move["fired"] if e["kind"] == "order_cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["at"] == SHIP_BY
    assert cancelled[0]["details"]["end_reason"] == "ship_timeout"
    out = world.show(order["id"])
    assert out["status"] == "cancelled"
    assert out["end_reason"] == "ship_timeout"
    assert out["cancelled_at"] == SHIP_BY
    assert out["refund"]["status"] == "pending"
    assert out["refund"]["amount"] == "19.99"
    assert out["refund"]["initiated_at"] == SHIP_BY


def test_r4_the_seller_can_ship_in_the_last_second(world):
    order = world.place()
    assert world.json("clock", "tick", "8d23h59m59s")["fired"] == []
    assert world.json("seller", "ship", order["id"])["status"] == "shipped"


def test_r4_ship_by_passing_during_a_pending_request(world):
    order = world.place()
    world.json("clock", "set", "2030-03-13T08:00:00Z")  # one hour before ship_by
    request(world, order["id"])
    world.json("clock", "tick", "72h")
    out = world.show(order["id"])
    assert out["status"] == "cancelled"
    assert out["end_reason"] == "ship_timeout"
    assert out["cancelled_at"] == SHIP_BY
    assert out["cancellation"]["status"] == "timed_out"
    assert out["refund"]["status"] == "pending"
    kinds = [e["kind"] for e in world.events(order["id"])]
    assert kinds.count("order_cancelled") == 1
    assert kinds.count("refund_started") == 1  # R14: never two refunds


# -- R20: acting for someone else ---------------------------------------------------------------


def _setup(cli, state: str) -> str:
    order = cli.place(*(["--unpaid"] if state == "awaiting_payment" else []))
    oid = order["id"]
    if state == "cancel_requested":
        request(cli, oid)
    elif state == "shipped":
        cli.json("seller", "ship", oid)
    return oid


R20_CASES = [
    # (state, command, role)
    ("awaiting_payment", ["orders", "pay"], "buyer"),
    ("awaiting_payment", ["cancel", "request", "--reason", "other"], "buyer"),
    ("awaiting_shipment", ["cancel", "request", "--reason", "second-thought"], "buyer"),
    ("cancel_requested", ["cancel", "withdraw"], "buyer"),
    ("shipped", ["orders", "confirm"], "buyer"),
    ("cancel_requested", ["seller", "respond", "accept"], "seller"),
    ("cancel_requested", ["seller", "respond", "reject"], "seller"),
    ("awaiting_shipment", ["seller", "ship"], "seller"),
]


def _args(command: list[str], oid: str) -> list[str]:
    # the id goes right after the subcommand
    return [command[0], command[1], oid, *command[2:]]


@pytest.mark.parametrize("state, command, role", R20_CASES, ids=[" ".join(c[1]) + "-" + c[0] for c in R20_CASES])
@pytest.mark.parametrize("other", ["mallory", "wrong-party"])
def test_r20_acting_for_someone_else_is_refused(world, db, state, command, role, other):
    oid = _setup(world, state)
    if other == "wrong-party":  # the buyer acting as seller, or the seller as buyer
        other = "acme" if role == "buyer" else "alice"
    before = world.show(oid)
    err = world.refused_unchanged(db, *_args(command, oid), "--as", other, code=4)
    assert err["code"] == "not_party"
    assert world.show(oid) == before


@pytest.mark.parametrize("state, command, role", R20_CASES, ids=[" ".join(c[1]) + "-" + c[0] for c in R20_CASES])
def test_r20_acting_as_the_right_party_works(world, state, command, role):
    oid = _setup(world, state)
    party = "alice" if role == "buyer" else "acme"
    out = world.json(*_args(command, oid), "--as", party)
    assert out["id"] == oid
    assert out["status"] != state


def test_r20_refused_actor_is_not_recorded(world):
    oid = _setup(world, "cancel_requested")
    before = world.events(oid)
    world.fail("seller", "respond", oid, "accept", "--as", "mallory", code=4)
    assert world.events(oid) == before
    out = world.json("seller", "respond", oid, "accept", "--as", "acme")
    assert out["status"] == "cancelled"
    accepted = [e for e in world.events(oid) if e["kind"] == "cancel_accepted"]
    assert [e["actor"] for e in accepted] == ["acme"]


@pytest.mark.parametrize("bad", ["", "x" * 201, "mal\x07lory"])
def test_r20_bad_as_value_is_usage(world, db, bad):
    oid = _setup(world, "awaiting_shipment")
    err = world.refused_unchanged(db, "seller", "ship", oid, "--as", bad, code=2)
    assert "--as" in err["message"]


# -- R17: final statuses ------------------------------------------------------------------------


def _final(cli, how: str) -> str:
    if how == "completed":
        oid = cli.place()["id"]
        cli.json("seller", "ship", oid)
        cli.json("orders", "confirm", oid)
    elif how == "unpaid_cancelled":
        oid = cli.place("--unpaid")["id"]
        request(cli, oid)
    elif how == "cancel_accepted":
        oid = cli.place()["id"]
        request(cli, oid)
        cli.json("seller", "respond", oid, "accept")
    elif how == "seller_silent":
        oid = cli.place()["id"]
        request(cli, oid)
        cli.json("clock", "tick", "72h")
    else:  # payment_timeout
        oid = cli.place("--unpaid")["id"]
        cli.json("clock", "tick", "24h")
    return oid


FINAL_ACTIONS = [
    ["orders", "pay"],
    ["seller", "ship"],
    ["cancel", "request", "--reason", "second-thought"],
    ["cancel", "withdraw"],
    ["seller", "respond", "accept"],
    ["seller", "respond", "reject"],
    ["orders", "confirm"],
]


@pytest.mark.parametrize("how", ["completed", "unpaid_cancelled", "cancel_accepted", "seller_silent",
                                 "payment_timeout"])
def test_r17_no_action_moves_a_final_order(world, db, how):
    oid = _final(world, how)
    before = world.show(oid)
    assert before["status"] in ("cancelled", "completed")
    assert before["actions"]["seller"] == []
    for command in FINAL_ACTIONS:
        world.refused_unchanged(db, *_args(command, oid), code=4)
    assert world.show(oid) == before


# -- the failure contract -------------------------------------------------------------------


def test_failure_without_json_is_one_error_line(world, db):
    order = world.place()
    request(world, order["id"])
    before = db.read_bytes()
    result = world("seller", "ship", order["id"], code=4)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before


def test_success_writes_and_stdout_is_one_json_value(world, db):
    order = world.place()
    before = db.read_bytes()
    result = world("cancel", "request", order["id"], "--reason", "other", "--json")
    assert json.loads(result.stdout)["status"] == "cancel_requested"
    assert db.read_bytes() != before
