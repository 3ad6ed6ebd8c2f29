"""R19 and R18 story by story: the exact events (kind, actor, instant) and notifications
(recipient, kind) each story produces, in order.

Every expectation here is written from docs/rules.md and docs/cli.md alone, never read back from the
program: the world starts on a Monday, 2030-03-04 09:00 UTC, with the aliexpress preset
(pay_within 24 h, ship_within 7 working days, seller_response_within 72 h, card refunds
within 15 working days, alipay within 7 days). The actors: the buyer and seller by name,
`platform` for what the clock fires and the simulated payment processor, `support` for
dispute outcomes.
"""

from __future__ import annotations

import shlex

import pytest

S = "2030-03-04T09:00:00+00:00"  # START, a Monday
S_1H = "2030-03-04T10:00:00+00:00"
PAY_BY = "2030-03-05T09:00:00+00:00"  # S + 24 h
RESPOND_BY = "2030-03-07T09:00:00+00:00"  # S + 72 h (Thursday)
SHIP_BY = "2030-03-13T09:00:00+00:00"  # S + 7 working days: Tue..Fri, Mon..Wed
CARD_DUE_FROM_S = "2030-03-25T09:00:00+00:00"  # S + 15 working days: three whole weeks
CARD_DUE_FROM_RESPOND_BY = "2030-03-28T09:00:00+00:00"  # Thu 7th + 15 working days
CARD_DUE_FROM_SHIP_BY = "2030-04-03T09:00:00+00:00"  # Wed 13th + 15 working days
ALIPAY_DUE_FROM_S = "2030-03-11T09:00:00+00:00"  # S + 7 calendar days

A, ACME, PF, SUP = "alice", "acme", "platform", "support"
PLACED, PAID = ("order_placed", A, S), ("order_paid", A, S)
SHIPPED = ("order_shipped", ACME, S)
REQUESTED = ("cancel_requested", A, S)

# story -> (commands, events as (kind, actor, at), notifications as (to, kind)); every notice
# goes out on both channels, email and app.
STORIES: dict[str, tuple[list[str], list[tuple[str, str, str]], list[tuple[str, str]]]] = {
    "r1_unpaid_cancel": (
        ["orders place --unpaid", "cancel request {id} --reason second-thought"],
        [PLACED, REQUESTED, ("order_cancelled", A, S)],
        [],
    ),
    "r2_payment_timeout": (
        ["orders place --unpaid", "clock tick 2d"],
        [PLACED, ("order_cancelled", PF, PAY_BY)],
        [(A, "auto_cancelled")],
    ),
    "pay_ship_confirm": (
        ["orders place --unpaid", "clock tick 1h", "orders pay {id}", "seller ship {id}", "orders confirm {id}"],
        [PLACED, ("order_paid", A, S_1H), ("order_shipped", ACME, S_1H), ("order_completed", A, S_1H)],
        [],
    ),
    "r4_ship_timeout_then_refund_settles_at_due_by": (
        ["orders place", "clock tick 30d"],
        [PLACED, PAID, ("order_cancelled", PF, SHIP_BY), ("refund_started", PF, SHIP_BY),
         ("refund_completed", PF, CARD_DUE_FROM_SHIP_BY)],
        [(A, "auto_cancelled"), (A, "refund_started"), (A, "refund_completed")],
    ),
    "r8_accept_then_settle": (
        ["orders place", "cancel request {id} --reason second-thought", "seller respond {id} accept",
         "refund settle {id}"],
        [PLACED, PAID, REQUESTED, ("cancel_accepted", ACME, S), ("order_cancelled", ACME, S),
         ("refund_started", PF, S), ("refund_completed", PF, S)],
        [(ACME, "request_received"), (A, "request_answered"), (A, "refund_started"), (A, "refund_completed")],
    ),
    "r9_reject": (
        ["orders place", "cancel request {id} --reason shipping-delay", "seller respond {id} reject"],
        [PLACED, PAID, REQUESTED, ("cancel_rejected", ACME, S)],
        [(ACME, "request_received"), (A, "request_answered")],
    ),
    "r10_silence_cancels": (
        ["orders place", "cancel request {id} --reason other", "clock tick 72h"],
        [PLACED, PAID, REQUESTED, ("cancel_timed_out", PF, RESPOND_BY), ("order_cancelled", PF, RESPOND_BY),
         ("refund_started", PF, RESPOND_BY)],
        [(ACME, "request_received"), (A, "auto_cancelled"), (A, "refund_started")],
    ),
    "r10_silence_then_refund_settles": (
        ["orders place", "cancel request {id} --reason other", "clock tick 30d"],
        [PLACED, PAID, REQUESTED, ("cancel_timed_out", PF, RESPOND_BY), ("order_cancelled", PF, RESPOND_BY),
         ("refund_started", PF, RESPOND_BY), ("refund_completed", PF, CARD_DUE_FROM_RESPOND_BY)],
        [(ACME, "request_received"), (A, "auto_cancelled"), (A, "refund_started"), (A, "refund_completed")],
    ),
    "r10_silence_lapses_under_ebay": (
        ["policy use ebay", "orders place", "cancel request {id} --reason other", "clock tick 3d"],
        [PLACED, PAID, REQUESTED, ("cancel_timed_out", PF, RESPOND_BY)],
        [(ACME, "request_received"), (A, "request_lapsed")],
    ),
    "r11_withdraw": (
        ["orders place", "cancel request {id} --reason wrong-product", "cancel withdraw {id}"],
        [PLACED, PAID, REQUESTED, ("cancel_withdrawn", A, S)],
        [(ACME, "request_received")],
    ),
    "r13a_dispute_refund_before_shipment": (
        ["orders place", "dispute open {id} --reason shipping-delay", "dispute resolve {id} refund"],
        [PLACED, PAID, ("dispute_opened", A, S), ("dispute_resolved", SUP, S), ("order_cancelled", SUP, S),
         ("refund_started", PF, S)],
        [(ACME, "dispute_opened"), (A, "dispute_outcome"), (A, "refund_started")],
    ),
    "r13b_dispute_refund_after_shipment": (
        ["orders place", "seller ship {id}", "dispute open {id} --reason not-received", "dispute resolve {id} refund"],
        [PLACED, PAID, SHIPPED, ("dispute_opened", A, S), ("dispute_resolved", SUP, S), ("refund_started", PF, S)],
        [(ACME, "dispute_opened"), (A, "dispute_outcome"), (A, "refund_started")],
    ),
    "r13_dispute_rejected": (
        ["orders place", "seller ship {id}", "orders confirm {id}", "dispute open {id} --reason damaged",
         "dispute resolve {id} reject"],
        [PLACED, PAID, SHIPPED, ("order_completed", A, S), ("dispute_opened", A, S), ("dispute_resolved", SUP, S)],
        [(ACME, "dispute_opened"), (A, "dispute_outcome")],
    ),
    "r16_hold_release_settle": (
        ["orders place --payment alipay", "cancel request {id} --reason other", "seller respond {id} accept",
         "refund hold {id}", "refund release {id}", "refund settle {id}"],
        [PLACED, PAID, REQUESTED, ("cancel_accepted", ACME, S), ("order_cancelled", ACME, S),
         ("refund_started", PF, S), ("refund_held", PF, S), ("refund_released", PF, S), ("refund_completed", PF, S)],
        [(ACME, "request_received"), (A, "request_answered"), (A, "refund_started"), (A, "refund_completed")],
    ),
    "r16_held_refund_released_late_pays_at_once": (
        ["orders place --payment alipay", "cancel request {id} --reason other", "seller respond {id} accept",
         "refund hold {id}", "clock tick 8d", "refund release {id}"],
        [PLACED, PAID, REQUESTED, ("cancel_accepted", ACME, S), ("order_cancelled", ACME, S),
         ("refund_started", PF, S), ("refund_held", PF, S), ("refund_released", PF, "2030-03-12T09:00:00+00:00"),
         ("refund_completed", PF, "2030-03-12T09:00:00+00:00")],
        [(ACME, "request_received"), (A, "request_answered"), (A, "refund_started"), (A, "refund_completed")],
    ),
    "r13c_overdue_refund_dispute_pays_it": (
        ["orders place", "seller ship {id}", "dispute open {id} --reason not-received", "dispute resolve {id} refund",
         "refund hold {id}", "clock tick 22d", "dispute open {id} --reason refund-not-received",
         "dispute resolve {id} refund"],
        [PLACED, PAID, SHIPPED, ("dispute_opened", A, S), ("dispute_resolved", SUP, S), ("refund_started", PF, S),
         ("refund_held", PF, S), ("dispute_opened", A, "2030-03-26T09:00:00+00:00"),
         ("dispute_resolved", SUP, "2030-03-26T09:00:00+00:00"),
         ("refund_completed", SUP, "2030-03-26T09:00:00+00:00")],
        [(ACME, "dispute_opened"), (A, "dispute_outcome"), (A, "refund_started"), (ACME, "dispute_opened"),
         (A, "dispute_outcome"), (A, "refund_completed")],
    ),
    # R14: one refund. A second dispute resolved `refund` on an order whose refund is paid
    # records its outcome and pays nothing more.
    "r14_second_dispute_refund_pays_nothing_twice": (
        ["orders place", "seller ship {id}", "dispute open {id} --reason not-received", "dispute resolve {id} refund",
         "refund settle {id}", "clock tick 1h", "dispute open {id} --reason damaged", "dispute resolve {id} refund"],
        [PLACED, PAID, SHIPPED, ("dispute_opened", A, S), ("dispute_resolved", SUP, S), ("refund_started", PF, S),
         ("refund_completed", PF, S), ("dispute_opened", A, S_1H), ("dispute_resolved", SUP, S_1H)],
        [(ACME, "dispute_opened"), (A, "dispute_outcome"), (A, "refund_started"), (A, "refund_completed"),
         (ACME, "dispute_opened"), (A, "dispute_outcome")],
    ),
    # The processor pays while the refund-not-received dispute is open; support's `refund`
    # outcome then finds the refund paid.
    "r14_refund_paid_while_its_dispute_is_open": (
        ["orders place", "seller ship {id}", "dispute open {id} --reason not-received", "dispute resolve {id} refund",
         "refund hold {id}", "clock tick 22d", "dispute open {id} --reason refund-not-received", "refund release {id}",
         "dispute resolve {id} refund"],
        [PLACED, PAID, SHIPPED, ("dispute_opened", A, S), ("dispute_resolved", SUP, S), ("refund_started", PF, S),
         ("refund_held", PF, S), ("dispute_opened", A, "2030-03-26T09:00:00+00:00"),
         ("refund_released", PF, "2030-03-26T09:00:00+00:00"), ("refund_completed", PF, "2030-03-26T09:00:00+00:00"),
         ("dispute_resolved", SUP, "2030-03-26T09:00:00+00:00")],
        [(ACME, "dispute_opened"), (A, "dispute_outcome"), (A, "refund_started"), (ACME, "dispute_opened"),
         (A, "refund_completed"), (A, "dispute_outcome")],
    ),
}  # fmt: skip

PLACE_ARGS = ["--buyer", A, "--seller", ACME, "--item", "Blue headset", "--amount", "19.99"]


def run_story(world, commands: list[str]) -> str:
    oid = ""
    for command in commands:
        args = shlex.split(command.format(id=oid))
        if args[:2] == ["orders", "place"]:
            args[2:2] = PLACE_ARGS
        out = world.json(*args)
        if args[:2] == ["orders", "place"]:
            oid = out["id"]
    return oid


@pytest.mark.parametrize("story", list(STORIES))
def test_each_story_records_exactly_its_events_in_order(world, story):
    commands, expected, _ = STORIES[story]
    oid = run_story(world, commands)
    events = world.json("events", "list")
    assert [(e["kind"], e["actor"], e["at"]) for e in events] == expected
    assert [e["seq"] for e in events] == list(range(1, len(expected) + 1))
    assert {e["order_id"] for e in events} == {oid}


@pytest.mark.parametrize("story", list(STORIES))
def test_each_story_sends_exactly_its_notifications_on_both_channels(world, story):
    commands, _, expected = STORIES[story]
    oid = run_story(world, commands)
    notes = world.json("notifications", "list")
    assert [(n["to"], n["kind"], n["channel"]) for n in notes] == [
        (to, kind, channel) for to, kind in expected for channel in ("email", "app")
    ]
    assert {n["order_id"] for n in notes} <= {oid}


def test_a_second_refund_outcome_leaves_the_paid_refund_as_it_was(world):
    commands = STORIES["r14_second_dispute_refund_pays_nothing_twice"][0]
    oid = run_story(world, commands)
    order = world.json("orders", "show", oid)
    assert order["status"] == "shipped"
    assert order["refund"]["status"] == "refunded"
    assert order["refund"]["refunded_at"] == S  # settled at once, an hour before the second outcome
    assert order["refund"]["amount"] == "19.99"
    assert [(d["reason"], d["status"], d["outcome"]) for d in world.json("dispute", "list")] == [
        ("not-received", "resolved", "refund"),
        ("damaged", "resolved", "refund"),
    ]


def test_events_carry_the_facts_of_their_transition(world):
    """The details of the central events, written from the rules (R3, R7, R15)."""
    oid = run_story(world, ["orders place", "cancel request {id} --reason shipping-delay --note late",
                            "clock tick 72h"])  # fmt: skip
    by_kind = {e["kind"]: e["details"] for e in world.json("events", "list", "--order", oid)}
    assert by_kind["order_placed"] == {"item": "Blue headset", "quantity": 1, "amount": "19.99", "currency": "USD",
                                       "payment_method": "card"}  # fmt: skip
    assert by_kind["order_paid"] == {"amount": "19.99", "ship_by": SHIP_BY}
    assert by_kind["cancel_requested"] == {"reason": "shipping-delay", "fault": "seller", "note": "late",
                                           "respond_by": RESPOND_BY, "request": 1}  # fmt: skip
    assert by_kind["cancel_timed_out"] == {"on_seller_silence": "cancel"}
    assert by_kind["order_cancelled"] == {"end_reason": "seller_silent"}
    assert by_kind["refund_started"] == {"amount": "19.99", "currency": "USD", "method": "card",
                                         "due_by": CARD_DUE_FROM_RESPOND_BY}  # fmt: skip


def test_unpaid_cancel_event_details(world):
    oid = run_story(world, ["orders place --unpaid", "cancel request {id} --reason wrong-product"])
    evs = world.json("events", "list", "--order", oid)
    assert evs[1]["details"] == {"reason": "wrong-product", "fault": "buyer", "note": None, "request": 1}
    assert evs[2]["details"] == {"end_reason": "unpaid_cancelled"}


def test_alipay_refund_due_in_seven_calendar_days(world):
    oid = run_story(world, ["orders place --payment alipay", "cancel request {id} --reason other",
                            "seller respond {id} accept"])  # fmt: skip
    assert world.json("refund", "status", oid)["due_by"] == ALIPAY_DUE_FROM_S
    assert world.json("refund", "status", oid)["initiated_at"] == S
    card = run_story(world, ["orders place", "cancel request {id} --reason other", "seller respond {id} accept"])
    assert world.json("refund", "status", card)["due_by"] == CARD_DUE_FROM_S


def test_the_other_events_carry_their_facts(world):
    oid = run_story(world, ["orders place", "cancel request {id} --reason other", "seller respond {id} reject",
                            "seller ship {id} --tracking LP00123", "dispute open {id} --reason damaged",
                            "dispute resolve {id} refund", "refund settle {id}"])  # fmt: skip
    details = [(e["kind"], e["details"]) for e in world.json("events", "list", "--order", oid)][3:]
    assert details == [
        ("cancel_rejected", {"message": None}),
        ("order_shipped", {"tracking": "LP00123"}),
        ("dispute_opened", {"reason": "damaged"}),
        ("dispute_resolved", {"outcome": "refund", "reason": "damaged"}),
        ("refund_started", {"amount": "19.99", "currency": "USD", "method": "card",
                            "due_by": CARD_DUE_FROM_S}),
        ("refund_completed", {"amount": "19.99", "method": "card"}),
    ]  # fmt: skip
    order = world.json("orders", "show", oid)
    assert order["tracking"] == "LP00123" and order["shipped_at"] == S


def test_paying_clears_pay_by_and_sets_ship_by(world):
    oid = run_story(world, ["orders place --unpaid"])
    assert world.json("orders", "show", oid)["pay_by"] == PAY_BY
    world.json("clock", "tick", "1h")
    paid = world.json("orders", "pay", oid)
    assert (paid["pay_by"], paid["paid_at"], paid["status"]) == (None, S_1H, "awaiting_shipment")
    assert paid["ship_by"] == "2030-03-13T10:00:00+00:00"  # paid Monday 10:00 + 7 working days
    assert paid["next_deadline"] == {"kind": "ship_by", "at": "2030-03-13T10:00:00+00:00"}


def test_a_rejection_tells_the_buyer_what_is_left(world):
    """R9: the buyer may ask again (at most 3 requests) or, for a seller-fault reason, dispute."""
    oid = run_story(world, ["orders place"])
    told = []
    for _ in range(3):
        world.json("cancel", "request", oid, "--reason", "shipping-delay")
        world.json("seller", "respond", oid, "reject", "--message", "no")
        told.append([x["message"] for x in world.json("notifications", "list", "--to", A)][-1])
    assert told == [
        f"acme refused to cancel order {oid}: no; you may ask again (2 left) or open a dispute",
        f"acme refused to cancel order {oid}: no; you may ask again (1 left) or open a dispute",
        f"acme refused to cancel order {oid}: no; you may open a dispute",  # R9's limit reached: R13a is left
    ]
    oid2 = run_story(world, ["orders place"])
    world.json("cancel", "request", oid2, "--reason", "other")
    world.json("seller", "respond", oid2, "reject")
    last = [x["message"] for x in world.json("notifications", "list", "--to", A)][-1]
    assert last == f"acme refused to cancel order {oid2}; you may ask again (2 left)"


def test_a_seller_fault_request_points_to_a_dispute(world):
    oid = run_story(world, ["orders place"])
    hinted = world("cancel", "request", oid, "--reason", "seller-unresponsive")
    assert "dispute" in hinted.stderr and f"dispute open {oid} --reason seller-unresponsive" in hinted.stderr
    world.json("cancel", "withdraw", oid)
    plain = world("cancel", "request", oid, "--reason", "second-thought")
    assert plain.stderr == ""


def test_an_empty_world_clock_may_go_back_and_fires_nothing(cli):
    cli.json("clock", "set", S)
    move = cli.json("clock", "set", "2020-01-01T00:00:00Z")
    assert move == {"from": S, "to": "2020-01-01T00:00:00+00:00", "fired": []}
    assert cli.json("clock", "show") == {"now": "2020-01-01T00:00:00+00:00"}


def test_clock_next_goes_to_the_earliest_deadline_of_all_orders(world):
    run_story(world, ["orders place"])  # ship_by Wed 13th
    run_story(world, ["orders place --unpaid"])  # pay_by Tue 5th
    move = world.json("clock", "next")
    assert move["to"] == PAY_BY
    assert [(e["order_id"], e["kind"]) for e in move["fired"]] == [("ORD-0002", "order_cancelled")]
    move = world.json("clock", "next")
    assert move["to"] == SHIP_BY
    assert [e["kind"] for e in move["fired"]] == ["order_cancelled", "refund_started"]


@pytest.mark.parametrize(
    "duration, says",
    [("3000000d", "past the year 9999"), ("99999999999999d", "too large"), ("5x", "bad duration '5x'")],
)
def test_a_bad_tick_says_why(world, duration, says):
    err = world.json("clock", "tick", duration, code=2)
    assert err["code"] == "bad_duration" and says in err["message"]


def test_respond_by_and_ship_by_at_one_instant_fire_respond_by_first(world):
    """Ties at one instant go by kind (docs/rules.md): respond_by before ship_by, so the silent
    seller's request decides the end (seller_silent), and ship_by finds the order cancelled."""
    oid = run_story(world, ["orders place"])  # ship_by Wednesday 13th 09:00
    world.json("clock", "set", "2030-03-10T09:00:00Z")
    world.json("cancel", "request", oid, "--reason", "other")  # respond_by = +72 h = ship_by
    order = world.json("orders", "show", oid)
    assert order["cancellation"]["respond_by"] == order["ship_by"] == SHIP_BY
    assert order["next_deadline"] == {"kind": "respond_by", "at": SHIP_BY}
    move = world.json("clock", "tick", "3d")
    assert [(e["kind"], e["at"]) for e in move["fired"]] == [
        ("cancel_timed_out", SHIP_BY), ("order_cancelled", SHIP_BY), ("refund_started", SHIP_BY)]
    assert world.json("orders", "show", oid)["end_reason"] == "seller_silent"


def test_ties_between_orders_go_by_order_id(world):
    first = run_story(world, ["orders place --unpaid"])
    second = run_story(world, ["orders place --unpaid"])
    move = world.json("clock", "tick", "1d")
    assert [e["order_id"] for e in move["fired"]] == [first, second]


def test_each_party_may_name_itself_with_as(world):
    """R20 refuses acting for someone else; naming yourself is the same as not naming anyone."""
    oid = run_story(world, ["orders place --unpaid --as alice", "orders pay {id} --as alice",
                            "seller ship {id} --as acme", "dispute open {id} --reason damaged --as alice",
                            "dispute resolve {id} refund --as support",
                            "refund hold {id} --as platform"])  # fmt: skip
    events = world.json("events", "list", "--order", oid)
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("order_placed", A), ("order_paid", A), ("order_shipped", ACME), ("dispute_opened", A),
        ("dispute_resolved", SUP), ("refund_started", PF), ("refund_held", PF),
    ]  # fmt: skip


def test_an_import_fires_what_is_due_at_once_like_orders_place(world, tmp_path):
    """Under a policy with pay_within = "0s", an unpaid order is due the instant it is placed
    (R2): imported or placed, it is cancelled at once, payment_timeout, by the platform."""
    policy = tmp_path / "instant.toml"
    policy.write_text('pay_within = "0s"\n')
    world.json("policy", "use", str(policy))
    rows = tmp_path / "orders.ndjson"
    rows.write_text('{"buyer": "alice", "seller": "acme", "item": "x", "amount": "1", "unpaid": true}\n')
    world.json("orders", "import", str(rows))
    run_story(world, ["orders place --unpaid"])
    for oid in ("ORD-0001", "ORD-0002"):
        order = world.json("orders", "show", oid)
        assert (order["status"], order["end_reason"], order["cancelled_at"]) == ("cancelled", "payment_timeout", S)
        assert [(e["kind"], e["actor"]) for e in world.json("events", "list", "--order", oid)] == [
            ("order_placed", A), ("order_cancelled", PF)]


def test_a_message_thread_records_and_notifies_each_message(world):
    oid = run_story(world, ["orders place", "clock tick 1h"])
    first = world.json("messages", "send", oid, "is it in stock?", "--as", A)
    assert first == {"order_id": oid, "n": 1, "at": S_1H, "from": A, "role": "buyer", "to": ACME,
                     "text": "is it in stock?"}  # fmt: skip
    reply = world.json("messages", "send", oid, "yes", "--as", ACME)
    assert reply == {"order_id": oid, "n": 2, "at": S_1H, "from": ACME, "role": "seller", "to": A, "text": "yes"}
    assert world.json("messages", "list", oid) == [first, reply]
    events = world.json("events", "list", "--order", oid)[2:]
    assert [(e["kind"], e["actor"], e["details"]) for e in events] == [
        ("message_sent", A, {"to": ACME, "n": 1, "message": "is it in stock?"}),
        ("message_sent", ACME, {"to": A, "n": 2, "message": "yes"}),
    ]
    notes = world.json("notifications", "list")
    assert [(n["to"], n["kind"], n["channel"]) for n in notes] == [
        (ACME, "message_received", "email"), (ACME, "message_received", "app"),
        (A, "message_received", "email"), (A, "message_received", "app"),
    ]  # fmt: skip
    assert world.json("orders", "show", oid)["status"] == "awaiting_shipment"  # a message changes no state
