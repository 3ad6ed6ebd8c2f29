"""`orders place|pay|list|show|confirm` and `clock show|set|tick|next` through the CLI:
exact exit codes, the JSON fields of docs/cli.md and the rules of docs/rules.md (R2, R3, R17, R20)."""

from __future__ import annotations

import pytest

START = "2030-03-04T09:00:00+00:00"  # the `world` fixture's clock: a Monday

ORDER_KEYS = {
    "id", "buyer", "seller", "item", "quantity", "amount", "currency", "payment_method", "status",
    "placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at", "end_reason",
    "cancellation", "refund", "dispute", "next_deadline", "actions",
}
EVENT_KEYS = {"seq", "at", "order_id", "kind", "actor", "details"}


# -- helpers ------------------------------------------------------------------------------------


# -- orders place -------------------------------------------------------------------------------


def test_place_paid_at_once_has_every_field(world):
    order = world.place()
    assert ORDER_KEYS <= set(order)
    assert order["id"] == "ORD-0001"
    assert order["buyer"] == "alice"
    assert order["seller"] == "acme"
    assert order["item"] == "Blue headset"
    assert order["quantity"] == 1
    assert order["amount"] == "19.99"
    assert order["currency"] == "USD"
    assert order["payment_method"] == "card"
    assert order["status"] == "awaiting_shipment"
    assert order["placed_at"] == START
    assert order["paid_at"] == START
    # R3: Monday 09:00 + 7 working days = next Wednesday 09:00
    assert order["ship_by"] == "2030-03-13T09:00:00+00:00"
    for key in ("shipped_at", "completed_at", "cancelled_at", "end_reason", "cancellation", "refund", "dispute"):
        assert order[key] is None, key
    assert order["next_deadline"] == {"kind": "ship_by", "at": "2030-03-13T09:00:00+00:00"}
    assert set(order["actions"]) == {"buyer", "seller"}
    assert "cancel request" in order["actions"]["buyer"]
    assert "orders pay" not in order["actions"]["buyer"]
    assert "orders confirm" not in order["actions"]["buyer"]
    assert order["actions"]["seller"] == ["seller ship"]


def test_place_is_what_show_returns(world):
    order = world.place()
    assert world.show(order["id"]) == order


def test_place_options_are_kept(world):
    order = world.place("--currency", "EUR", "--payment", "alipay", "--quantity", "3", amount="42.50")
    assert order["currency"] == "EUR"
    assert order["payment_method"] == "alipay"
    assert order["quantity"] == 3 and isinstance(order["quantity"], int)
    assert order["amount"] == "42.50"
    assert isinstance(order["amount"], str)


@pytest.mark.parametrize("method", ["card", "paypal", "alipay", "bank-transfer"])
def test_place_accepts_every_payment_method(world, method):
    assert world.place("--payment", method)["payment_method"] == method


@pytest.mark.parametrize(("amount", "stored"), [("0.01", "0.01"), ("5", "5.00"), ("1234567.8", "1234567.80")])
def test_place_accepts_positive_amounts_up_to_two_places_in_cents(world, amount, stored):
    order = world.place(amount=amount)
    assert order["amount"] == stored


def test_place_ids_are_sequential(world):
    assert [world.place()["id"] for _ in range(3)] == ["ORD-0001", "ORD-0002", "ORD-0003"]


@pytest.mark.parametrize(
    "start, ship_by",
    [
        # docs/rules.md's own example: Friday 15:00 + 7 working days = the Tuesday 11 days later, 15:00
        ("2030-03-08T15:00:00Z", "2030-03-19T15:00:00+00:00"),
        # a non-working start moves to 00:00 of the next working day first
        ("2030-03-09T10:00:00Z", "2030-03-20T00:00:00+00:00"),
        ("2030-03-10T23:59:59Z", "2030-03-20T00:00:00+00:00"),
        ("2030-03-04T00:00:00Z", "2030-03-13T00:00:00+00:00"),
    ],
)
def test_place_ship_by_counts_working_days(cli, start, ship_by):
    cli.json("clock", "set", start)
    assert cli.place()["ship_by"] == ship_by


def test_place_unpaid_awaits_payment(world):
    order = world.place("--unpaid")
    assert ORDER_KEYS <= set(order)
    assert order["status"] == "awaiting_payment"
    assert order["placed_at"] == START
    assert order["paid_at"] is None
    assert order["ship_by"] is None
    assert order["refund"] is None
    assert order["end_reason"] is None
    # R2: pay within 24 h
    assert order["next_deadline"] == {"kind": "pay_by", "at": "2030-03-05T09:00:00+00:00"}
    assert "orders pay" in order["actions"]["buyer"]
    assert "cancel request" in order["actions"]["buyer"]
    assert "seller ship" not in order["actions"]["seller"]


def test_place_quiet_prints_only_the_id(world):
    result = world("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "x", "--amount", "1", "-q")
    assert result.stdout == "ORD-0001\n"
    result = world("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "x", "--amount", "1",
                   "--quiet")
    assert result.stdout == "ORD-0002\n"
    assert world.show("ORD-0002")["status"] == "awaiting_shipment"


BASE = {"--buyer": "alice", "--seller": "acme", "--item": "Blue headset", "--amount": "19.99"}


@pytest.mark.parametrize(
    "option, value, code",
    [
        ("--amount", "0", "bad_amount"),
        ("--amount", "0.00", "bad_amount"),
        ("--amount", "-1", "bad_amount"),
        ("--amount", "1.234", "bad_amount"),
        ("--amount", "abc", "bad_amount"),
        ("--amount", "1e3", "bad_amount"),
        ("--amount", "", "bad_amount"),
        ("--currency", "usd", "bad_currency"),
        ("--currency", "US", "bad_currency"),
        ("--currency", "USDX", "bad_currency"),
        ("--quantity", "0", "bad_quantity"),
        ("--quantity", "-2", "bad_quantity"),
        ("--quantity", "1.5", "bad_quantity"),
        ("--quantity", "abc", "bad_quantity"),
        ("--buyer", "", None),
        ("--buyer", "   ", None),
        ("--seller", "s" * 201, None),
        ("--item", "", None),
        ("--buyer", "ali\x07ce", None),
        ("--seller", "ac\nme", None),
        ("--item", "Blue\theadset", None),
        ("--item", "x\x7f", None),
        ("--payment", "bitcoin", "bad_payment"),
        ("--payment", "Card", "bad_payment"),
    ],
)
def test_place_input_rules(world, db, option, value, code):
    opts = {**BASE, option: value}
    args = [a for k, v in opts.items() for a in (k, v)]
    err = world.refused_unchanged(db, "orders", "place", *args, code=2)
    assert option in err["message"]
    if code is not None:
        assert err["code"] == code
    assert world.json("orders", "list") == []


def test_place_names_of_200_characters_are_accepted(world):
    order = world.place(seller="s" * 200, buyer="b" * 200)
    assert order["seller"] == "s" * 200
    assert order["buyer"] == "b" * 200


def test_place_without_a_required_option_is_usage(world, db):
    err = world.refused_unchanged(db, "orders", "place", "--buyer", "alice", "--seller", "acme", "--amount", "1",
                            code=2)
    assert "--item" in err["message"]


def test_place_as_someone_else_is_refused(world, db):
    err = world.refused_unchanged(db, "orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "x",
                            "--amount", "1", "--as", "mallory", code=4)
    assert err["code"] == "not_party"
    assert world.json("orders", "list") == []


# -- orders pay (R2, R3) ------------------------------------------------------------------------


def test_pay_sets_paid_at_and_ship_by_from_the_payment(world):
    order = world.place("--unpaid")
    world.json("clock", "tick", "5h")
    paid = world.json("orders", "pay", order["id"])
    assert paid["status"] == "awaiting_shipment"
    assert paid["placed_at"] == START
    assert paid["paid_at"] == "2030-03-04T14:00:00+00:00"
    assert paid["ship_by"] == "2030-03-13T14:00:00+00:00"  # R3: from paid_at, not placed_at
    assert paid["next_deadline"] == {"kind": "ship_by", "at": "2030-03-13T14:00:00+00:00"}
    assert world.show(order["id"]) == paid


def test_pay_on_friday_evening_counts_working_days(cli):
    cli.json("clock", "set", "2030-03-08T15:00:00Z")
    order = cli.place("--unpaid")
    cli.json("clock", "tick", "3h")
    paid = cli.json("orders", "pay", order["id"])
    assert paid["paid_at"] == "2030-03-08T18:00:00+00:00"
    assert paid["ship_by"] == "2030-03-19T18:00:00+00:00"


def test_pay_twice_is_refused(world, db):
    order = world.place()
    err = world.refused_unchanged(db, "orders", "pay", order["id"], code=4)
    assert err["code"] == "already_paid"
    assert world.show(order["id"])["paid_at"] == START


def test_pay_unknown_order_is_not_found(world, db):
    err = world.refused_unchanged(db, "orders", "pay", "ORD-0042", code=3)
    assert err["code"] == "order_not_found"


def test_pay_just_before_the_timeout_works(world):
    order = world.place("--unpaid")
    world.json("clock", "tick", "23h59m59s")
    paid = world.json("orders", "pay", order["id"])
    assert paid["status"] == "awaiting_shipment"
    assert paid["paid_at"] == "2030-03-05T08:59:59+00:00"


def test_payment_timeout_after_24h(world):
    order = world.place("--unpaid")
    move = world.json("clock", "tick", "24h")
    assert move["from"] == START
    assert move["to"] == "2030-03-05T09:00:00+00:00"
    cancelled = [e for e in move["fired"] if e["kind"] == "order_cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0]["order_id"] == order["id"]
    assert cancelled[0]["at"] == "2030-03-05T09:00:00+00:00"
    assert cancelled[0]["actor"] == "platform"
    assert cancelled[0]["details"]["end_reason"] == "payment_timeout"
    assert not [e for e in move["fired"] if e["kind"].startswith("refund")]
    after = world.show(order["id"])
    assert after["status"] == "cancelled"
    assert after["end_reason"] == "payment_timeout"
    assert after["cancelled_at"] == "2030-03-05T09:00:00+00:00"
    assert after["refund"] is None
    assert after["paid_at"] is None
    assert after["next_deadline"] is None
    assert after["actions"] == {"buyer": [], "seller": []}


def test_payment_timeout_not_one_second_early(world):
    order = world.place("--unpaid")
    move = world.json("clock", "tick", "23h59m59s")
    assert move["fired"] == []
    assert world.show(order["id"])["status"] == "awaiting_payment"


def test_pay_after_the_timeout_is_refused(world, db):
    order = world.place("--unpaid")
    world.json("clock", "tick", "1d")
    err = world.refused_unchanged(db, "orders", "pay", order["id"], code=4)
    assert err["code"] == "order_cancelled"
    assert world.show(order["id"])["paid_at"] is None


def test_pay_as_someone_else_is_refused_and_changes_nothing(world, db):
    order = world.place("--unpaid")
    for other in ("mallory", "acme"):
        err = world.refused_unchanged(db, "orders", "pay", order["id"], "--as", other, code=4)
        assert err["code"] == "not_party"
    assert world.show(order["id"])["status"] == "awaiting_payment"
    paid = world.json("orders", "pay", order["id"], "--as", "alice")
    assert paid["status"] == "awaiting_shipment"


# -- orders list ------------------------------------------------------------------------------


def test_list_empty_world(cli, db):
    assert cli.json("orders", "list") == []
    assert not db.exists()  # reading commands create nothing


def test_list_oldest_first_with_filters(world):
    a = world.place(buyer="alice", seller="acme")
    world.json("clock", "tick", "1h")
    b = world.place("--unpaid", buyer="bob", seller="acme")
    world.json("clock", "tick", "1h")
    c = world.place(buyer="alice", seller="globex")
    world.json("clock", "tick", "1h")
    d = world.place(buyer="bob", seller="globex")
    world.json("seller", "ship", d["id"])

    everything = world.json("orders", "list")
    assert [o["id"] for o in everything] == [a["id"], b["id"], c["id"], d["id"]]
    assert [o["placed_at"] for o in everything] == sorted(o["placed_at"] for o in everything)
    assert all(ORDER_KEYS <= set(o) for o in everything)

    assert [o["id"] for o in world.json("orders", "list", "--buyer", "alice")] == [a["id"], c["id"]]
    assert [o["id"] for o in world.json("orders", "list", "--buyer", "bob")] == [b["id"], d["id"]]
    assert [o["id"] for o in world.json("orders", "list", "--seller", "globex")] == [c["id"], d["id"]]
    assert [o["id"] for o in world.json("orders", "list", "--status", "awaiting_payment")] == [b["id"]]
    assert [o["id"] for o in world.json("orders", "list", "--status", "awaiting_shipment")] == [a["id"], c["id"]]
    assert [o["id"] for o in world.json("orders", "list", "--status", "shipped")] == [d["id"]]
    assert world.json("orders", "list", "--status", "cancelled") == []
    assert [o["id"] for o in world.json("orders", "list", "--buyer", "alice", "--seller", "globex")] == [c["id"]]
    assert world.json("orders", "list", "--buyer", "carol") == []
    assert world.json("orders", "list", "--buyer", "Alice") == []  # exact match


def test_list_unknown_status_is_usage(world):
    world.place()
    world.fail("orders", "list", "--status", "lost", code=2)


def test_list_row_is_the_order_object(world):
    order = world.place()
    assert world.json("orders", "list") == [order]


# -- orders show ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["ORD-0002", "ord-0001", "ORD-1", "ORD-00001", "1", " ORD-0001", "nope"])
def test_show_unknown_id_is_not_found(world, bad_id):
    world.place()
    err = world.fail("orders", "show", bad_id, code=3)
    assert err["code"] == "order_not_found"
    assert bad_id in err["message"]


def test_show_on_a_missing_file_creates_nothing(cli, db):
    err = cli.fail("orders", "show", "ORD-0001", code=3)
    assert err["code"] == "order_not_found"
    assert not db.exists()


def test_show_error_without_json_is_one_line(world):
    result = world("orders", "show", "ORD-0009", code=3)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


# -- orders confirm -------------------------------------------------------------------------


def test_confirm_a_shipped_order_completes_it(world):
    order = world.place()
    world.json("clock", "tick", "1d")
    world.json("seller", "ship", order["id"])
    world.json("clock", "tick", "2d")
    done = world.json("orders", "confirm", order["id"])
    assert done["status"] == "completed"
    assert done["completed_at"] == "2030-03-07T09:00:00+00:00"
    assert done["shipped_at"] == "2030-03-05T09:00:00+00:00"
    assert done["cancelled_at"] is None and done["end_reason"] is None and done["refund"] is None
    assert done["next_deadline"] is None
    assert world.show(order["id"]) == done


@pytest.mark.parametrize("state", ["awaiting_payment", "awaiting_shipment", "cancel_requested", "cancelled",
                                   "completed"])
def test_confirm_anything_but_shipped_is_refused(world, db, state):
    order = world.place(*(["--unpaid"] if state == "awaiting_payment" else []))
    oid = order["id"]
    if state == "cancel_requested":
        world.json("cancel", "request", oid, "--reason", "second-thought")
    elif state == "cancelled":
        world.json("cancel", "request", oid, "--reason", "second-thought")
        world.json("seller", "respond", oid, "accept")
    elif state == "completed":
        world.json("seller", "ship", oid)
        world.json("orders", "confirm", oid)
    before = world.show(oid)
    assert before["status"] == state
    world.refused_unchanged(db, "orders", "confirm", oid, code=4)
    assert world.show(oid) == before


def test_confirm_unknown_order_is_not_found(world, db):
    err = world.refused_unchanged(db, "orders", "confirm", "ORD-0001", code=3)
    assert err["code"] == "order_not_found"


def test_confirm_as_someone_else_is_refused(world, db):
    order = world.place()
    world.json("seller", "ship", order["id"])
    for other in ("mallory", "acme"):
        err = world.refused_unchanged(db, "orders", "confirm", order["id"], "--as", other, code=4)
        assert err["code"] == "not_party"
    assert world.show(order["id"])["status"] == "shipped"
    assert world.json("orders", "confirm", order["id"], "--as", "alice")["status"] == "completed"


# -- clock show|set|tick|next ----------------------------------------------------------------


def test_clock_show(world):
    assert world.json("clock", "show") == {"now": START}


def test_clock_show_on_a_new_world_creates_nothing(cli, db):
    out = cli.json("clock", "show")
    assert set(out) == {"now"}
    assert out["now"].endswith("+00:00")
    assert not db.exists()


@pytest.mark.parametrize(
    "instant, expected",
    [
        ("2030-03-05T10:00:00Z", "2030-03-05T10:00:00+00:00"),
        ("2030-03-05T10:00:00", "2030-03-05T10:00:00+00:00"),  # no offset: UTC
        ("2030-03-05T12:00:00+02:00", "2030-03-05T10:00:00+00:00"),
    ],
)
def test_clock_set_forward(world, instant, expected):
    move = world.json("clock", "set", instant)
    assert move == {"from": START, "to": expected, "fired": []}
    assert world.now() == expected


def test_clock_set_backwards_on_an_empty_world_is_allowed(world):
    move = world.json("clock", "set", "2029-01-01T00:00:00Z")
    assert move["to"] == "2029-01-01T00:00:00+00:00"
    assert move["fired"] == []
    assert world.now() == "2029-01-01T00:00:00+00:00"


def test_clock_set_backwards_with_history_is_refused(world, db):
    world.place()
    world.json("clock", "tick", "1h")
    err = world.refused_unchanged(db, "clock", "set", "2030-03-04T09:30:00Z", code=4)
    assert err["code"] == "clock_backwards"
    assert world.now() == "2030-03-04T10:00:00+00:00"


def test_clock_set_bad_instant_is_usage(world, db):
    world.refused_unchanged(db, "clock", "set", "next tuesday", code=2)


def test_clock_set_fires_deadlines_on_the_way(world):
    order = world.place("--unpaid")
    move = world.json("clock", "set", "2030-03-10T00:00:00Z")
    kinds = [(e["kind"], e["at"]) for e in move["fired"]]
    assert ("order_cancelled", "2030-03-05T09:00:00+00:00") in kinds
    assert world.show(order["id"])["end_reason"] == "payment_timeout"


def test_clock_tick_output(world):
    order = world.place("--unpaid")
    move = world.json("clock", "tick", "1d12h")
    assert set(move) == {"from", "to", "fired"}
    assert move["from"] == START
    assert move["to"] == "2030-03-05T21:00:00+00:00"
    assert move["fired"], "the payment timeout must fire"
    for event in move["fired"]:
        assert set(event) == EVENT_KEYS
        assert event["order_id"] == order["id"]
        assert isinstance(event["details"], dict)
    seqs = [e["seq"] for e in move["fired"]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert seqs[0] > 1  # order_placed came first
    assert world.now() == "2030-03-05T21:00:00+00:00"


@pytest.mark.parametrize("duration, to", [("72h", "2030-03-07T09:00:00+00:00"), ("3d", "2030-03-07T09:00:00+00:00"),
                                          ("2w", "2030-03-18T09:00:00+00:00"), ("90m", "2030-03-04T10:30:00+00:00"),
                                          ("1h30m15s", "2030-03-04T10:30:15+00:00")])
def test_clock_tick_durations(world, duration, to):
    assert world.json("clock", "tick", duration) == {"from": START, "to": to, "fired": []}


@pytest.mark.parametrize("duration", ["5x", "72", "-1h", "h", "1.5h", "3 d", "72H"])
def test_clock_tick_bad_duration_is_usage(world, db, duration):
    world.place()
    world.refused_unchanged(db, "clock", "tick", duration, code=2)
    assert world.now() == START


def test_clock_tick_bad_duration_code(world):
    assert world.fail("clock", "tick", "5x", code=2)["code"] == "bad_duration"


def test_clock_next_moves_exactly_to_the_next_deadline(world):
    unpaid = world.place("--unpaid")
    paid = world.place()
    move = world.json("clock", "next")
    assert move["from"] == START
    assert move["to"] == "2030-03-05T09:00:00+00:00"  # pay_by, earlier than ship_by
    assert [e["order_id"] for e in move["fired"]] == [unpaid["id"]]
    assert world.show(unpaid["id"])["status"] == "cancelled"
    assert world.show(paid["id"])["status"] == "awaiting_shipment"
    move = world.json("clock", "next")
    assert move["to"] == "2030-03-13T09:00:00+00:00"  # ship_by of the paid order
    assert world.show(paid["id"])["end_reason"] == "ship_timeout"


def test_clock_next_with_nothing_pending_is_refused(world, db):
    err = world.refused_unchanged(db, "clock", "next", code=4)
    assert err["code"] == "no_pending_deadline"
    order = world.place()
    world.json("seller", "ship", order["id"])
    world.json("orders", "confirm", order["id"])
    world.refused_unchanged(db, "clock", "next", code=4)
    assert world.now() == START


def test_clock_next_on_a_new_world_is_refused_and_creates_nothing(cli, db):
    cli.fail("clock", "next", code=4)
    assert not db.exists()


def test_a_long_tick_equals_many_short_ones(world, db, tmp_path):
    def script(c, *prefix):
        c.json(*prefix, "clock", "set", "2030-03-04T09:00:00Z")
        c.json(*prefix, "orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "a", "--amount", "5",
               "--unpaid")
        c.json(*prefix, "orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "b", "--amount", "6")
        c.json(*prefix, "orders", "place", "--buyer", "carol", "--seller", "acme", "--item", "c", "--amount", "7",
               "--payment", "alipay")
        c.json(*prefix, "cancel", "request", "ORD-0003", "--reason", "second-thought")

    other = tmp_path / "other.json"
    script(world)
    script(world, "--db", str(other))
    long_move = world.json("clock", "tick", "30d")
    fired_short = []
    for _ in range(30):
        fired_short += world.json("--db", str(other), "clock", "tick", "1d")["fired"]
    assert long_move["fired"] == fired_short
    assert len(long_move["fired"]) >= 6
    ats = [e["at"] for e in long_move["fired"]]
    assert ats == sorted(ats)
    assert world.json("orders", "list") == world.json("--db", str(other), "orders", "list")
