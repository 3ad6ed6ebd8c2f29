"""Every error code the program raises, asserted exactly, with its exit code (docs/cli.md) and
the file left as it was.

Scripts branch on `error.code`: a renamed code breaks them as surely as a renamed field.
Each case is (setup commands, the failing command, exit, code); `{id}` is the order the
setup placed. The codes that need a damaged file, a full disk or a busy lock are in
tests/store/test_data_file_stress.py and tests/store/test_durability.py.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

PLACE = "orders place --buyer alice --seller acme --item Blue-headset --amount 19.99"
ACCEPTED = [PLACE, "cancel request {id} --reason other", "seller respond {id} accept"]

CASES: list[tuple[str, list[str], str, int, str]] = [
    # R16: the processor's own actions on a refund
    ("hold a held refund", [*ACCEPTED, "refund hold {id}"], "refund hold {id}", 4, "refund_held"),
    ("hold a paid refund", [*ACCEPTED, "refund settle {id}"], "refund hold {id}", 4, "refund_paid"),
    ("settle a paid refund", [*ACCEPTED, "refund settle {id}"], "refund settle {id}", 4, "refund_paid"),
    ("release a pending refund", ACCEPTED, "refund release {id}", 4, "refund_not_held"),
    ("release a paid refund", [*ACCEPTED, "refund settle {id}"], "refund release {id}", 4, "refund_not_held"),
    ("refund of an order without one", [PLACE], "refund status {id}", 3, "refund_not_found"),
    ("hold the refund of an order without one", [PLACE], "refund hold {id}", 3, "refund_not_found"),
    ("refund of no order", [], "refund status ORD-9999", 3, "order_not_found"),
    ("settle as someone else", ACCEPTED, "refund settle {id} --as alice", 4, "not_party"),
    # R13
    ("resolve without a dispute", [PLACE], "dispute resolve {id} refund", 4, "no_open_dispute"),
    ("resolve as the buyer", [PLACE, "dispute open {id} --reason shipping-delay"],
     "dispute resolve {id} refund --as alice", 4, "not_party"),
    ("second open dispute", [PLACE, "dispute open {id} --reason shipping-delay"],
     "dispute open {id} --reason seller-unresponsive", 4, "dispute_open"),
    ("refund-not-received on a refund not overdue", ACCEPTED, "dispute open {id} --reason refund-not-received",
     4, "refund_not_overdue"),
    ("post-shipment reason before shipment", [PLACE], "dispute open {id} --reason damaged", 4, "not_shipped"),
    ("seller-fault reason after shipment", [PLACE, "seller ship {id}"], "dispute open {id} --reason shipping-delay",
     4, "wrong_dispute_reason"),
    ("seller-fault dispute on an unpaid order", [PLACE + " --unpaid"], "dispute open {id} --reason shipping-delay",
     4, "not_paid"),
    ("seller-fault dispute with a request pending", [PLACE, "cancel request {id} --reason other"],
     "dispute open {id} --reason shipping-delay", 4, "request_pending"),
    ("seller-fault dispute on a cancelled order", ACCEPTED, "dispute open {id} --reason shipping-delay",
     4, "order_cancelled"),
    ("cancel request while a dispute is open", [PLACE, "dispute open {id} --reason shipping-delay"],
     "cancel request {id} --reason other", 4, "dispute_open"),
    # R5-R12, R17
    ("pay a paid order", [PLACE], "orders pay {id}", 4, "already_paid"),
    ("pay a cancelled order", ACCEPTED, "orders pay {id}", 4, "order_cancelled"),
    ("confirm an unshipped order", [PLACE], "orders confirm {id}", 4, "not_shipped"),
    ("confirm a completed order", [PLACE, "seller ship {id}", "orders confirm {id}"], "orders confirm {id}",
     4, "order_completed"),
    ("cancel after shipment", [PLACE, "seller ship {id}"], "cancel request {id} --reason other",
     4, "cancel_after_shipment"),
    ("cancel a completed order", [PLACE, "seller ship {id}", "orders confirm {id}"],
     "cancel request {id} --reason other", 4, "cancel_after_shipment"),
    ("second pending request", [PLACE, "cancel request {id} --reason other"], "cancel request {id} --reason other",
     4, "request_pending"),
    ("fourth request", [PLACE, *["cancel request {id} --reason other", "seller respond {id} reject"] * 3],
     "cancel request {id} --reason other", 4, "request_limit"),
    ("withdraw without a request", [PLACE], "cancel withdraw {id}", 4, "no_pending_request"),
    ("respond without a request", [PLACE], "seller respond {id} accept", 4, "no_pending_request"),
    ("ship with a request pending", [PLACE, "cancel request {id} --reason other"], "seller ship {id}",
     4, "request_pending"),
    ("ship an unpaid order", [PLACE + " --unpaid"], "seller ship {id}", 4, "not_paid"),
    ("ship twice", [PLACE, "seller ship {id}"], "seller ship {id}", 4, "already_shipped"),
    ("ship a cancelled order", ACCEPTED, "seller ship {id}", 4, "order_cancelled"),
    ("ship as the buyer", [PLACE], "seller ship {id} --as alice", 4, "not_party"),
    ("place for someone else", [], PLACE + " --as bob", 4, "not_party"),
    ("a stranger writes in an order's thread", [PLACE], "messages send {id} hi --as mallory", 4, "not_party"),
    ("policy use once there are orders", [PLACE], "policy use ebay", 4, "world_has_orders"),
    # the clock
    ("clock backwards", [PLACE], "clock set 2030-03-01T00:00:00Z", 4, "clock_backwards"),
    ("clock next with nothing pending", [], "clock next", 4, "no_pending_deadline"),
    ("bad duration", [], "clock tick 5x", 2, "bad_duration"),
    ("duration beyond any calendar", [], "clock tick 99999999999999d", 2, "bad_duration"),
    ("tick past the year 9999", [], "clock tick 3000000d", 2, "bad_duration"),
    ("bad instant", [], "clock set soon", 2, "bad_instant"),
    ("empty instant", [], "clock set ''", 2, "bad_instant"),
    ("fractional seconds", [], "clock set 2030-03-04T09:00:00.5Z", 2, "bad_instant"),
    # input rules
    ("unknown cancel reason", [PLACE], "cancel request {id} --reason because", 2, "unknown_reason"),
    ("unknown dispute reason", [PLACE], "dispute open {id} --reason because", 2, "unknown_reason"),
    ("unknown answer", [PLACE, "cancel request {id} --reason other"], "seller respond {id} maybe", 2, "bad_answer"),
    ("unknown outcome", [PLACE, "dispute open {id} --reason shipping-delay"], "dispute resolve {id} maybe",
     2, "bad_outcome"),
    ("unknown status", [], "orders list --status lost", 2, "bad_status"),
    ("unknown format", [], "orders list --format xml", 2, "bad_format"),
    ("empty buyer", [], "orders place --buyer '' --seller acme --item x --amount 1", 2, "bad_value"),
    ("bad amount", [], "orders place --buyer a --seller acme --item x --amount 1.999", 2, "bad_amount"),
    ("bad currency", [], "orders place --buyer a --seller acme --item x --amount 1 --currency usd", 2,
     "bad_currency"),
    ("bad quantity", [], "orders place --buyer a --seller acme --item x --amount 1 --quantity 0", 2, "bad_quantity"),
    ("bad payment", [], "orders place --buyer a --seller acme --item x --amount 1 --payment cash", 2, "bad_payment"),
    ("unknown option", [], "orders list --colour red", 2, "usage"),
    ("empty --as", [PLACE], "orders pay {id} --as ''", 2, "bad_value"),
    ("--as with a control character", [PLACE], "seller ship {id} --as 'a\tb'", 2, "bad_value"),
    ("note with a control character", [PLACE], "cancel request {id} --reason other --note 'a\x01'", 2,
     "bad_value"),
    ("refund --as empty", ACCEPTED, "refund hold {id} --as ''", 2, "bad_value"),
    ("unknown preset", [], "policy use wish", 2, "bad_policy"),  # amazon is a preset since issue 19
]  # fmt: skip


def _run(cli, setup: list[str]) -> str:
    oid = ""
    for command in setup:
        out = cli.json(*shlex.split(command.format(id=oid)))
        if command.startswith("orders place"):
            oid = out["id"]
    return oid


@pytest.mark.parametrize("label, setup, command, exit_code, code", CASES, ids=[c[0] for c in CASES])
def test_error_code(world, db: Path, label, setup, command, exit_code, code):
    oid = _run(world, setup)
    err = world.refused_unchanged(db, *shlex.split(command.format(id=oid)), code=exit_code)
    assert err["code"] == code


# -- orders import: all or nothing, exit 2 naming the line (bad_import) ---------------------------

GOOD = '{"buyer": "a", "seller": "s", "item": "x", "amount": "5"}'


@pytest.mark.parametrize(
    "second_line, code, named",
    [
        ("[1, 2]", "bad_import", "line 2"),
        ('{"buyer": "a", "seller": "s", "item": "x", "amount": "5", "colour": "red"}', "bad_import", "colour"),
        ('{"buyer": "a", "seller": "s", "item": "x"}', "bad_import", "amount"),
        ('{"buyer": "a", "seller": "s", "item": "x", "amount": "5", "unpaid": "yes"}', "bad_import", "unpaid"),
        ("{not json", "bad_import", "line 2"),
        ('{"buyer": "a", "seller": "s", "item": "x", "amount": "5", "quantity": 0}', "bad_quantity", "line 2"),
        ('{"buyer": "a", "seller": "s", "item": "x", "amount": "-5"}', "bad_amount", "line 2"),
        ('{"buyer": "", "seller": "s", "item": "x", "amount": "5"}', "bad_value", "line 2"),
    ],
)
def test_import_refuses_a_bad_line_and_imports_nothing(world, db: Path, tmp_path: Path, second_line, code, named):
    f = tmp_path / "orders.ndjson"
    f.write_text(GOOD + "\n" + second_line + "\n")
    err = world.refused_unchanged(db, "orders", "import", str(f), code=2)
    assert err["code"] == code
    assert named in err["message"]
    assert world.json("orders", "list") == []


def test_import_of_a_missing_file_is_bad_import(world, db: Path, tmp_path: Path):
    missing = tmp_path / "nowhere.ndjson"
    err = world.refused_unchanged(db, "orders", "import", str(missing), code=2)
    assert err["code"] == "bad_import" and str(missing) in err["message"]


def test_import_defaults_are_those_of_orders_place(world, tmp_path: Path):
    """docs/cli.md: currency, payment, quantity and unpaid are optional: USD, card, 1, paid at once."""
    f = tmp_path / "orders.ndjson"
    f.write_text(GOOD + "\n" + '{"buyer": "b", "seller": "t", "item": "y", "amount": 7.5, "currency": "EUR", '
                 '"payment": "alipay", "quantity": 3, "unpaid": true}\n')  # fmt: skip
    assert world.json("orders", "import", str(f)) == {"imported": 2}
    first, second = world.json("orders", "list")
    assert (first["currency"], first["payment_method"], first["quantity"], first["status"]) == (
        "USD", "card", 1, "awaiting_shipment")  # fmt: skip
    assert first["paid_at"] == "2030-03-04T09:00:00+00:00"
    assert first["ship_by"] == "2030-03-13T09:00:00+00:00"  # R3: 7 working days
    assert (second["currency"], second["payment_method"], second["quantity"], second["status"]) == (
        "EUR", "alipay", 3, "awaiting_payment")  # fmt: skip
    assert second["amount"] == "7.50" and second["paid_at"] is None  # EUR has 2 minor digits


# -- the year 9999: refused, never stored as null ------------------------------------------------------


@pytest.mark.parametrize(
    "clock, command",
    [
        ("9999-12-31T12:00:00Z", "orders place --buyer a --seller s --item x --amount 1 --unpaid"),  # pay_by
        ("9999-12-24T12:00:00Z", "orders place --buyer a --seller s --item x --amount 1"),  # ship_by
    ],
)
def test_a_deadline_past_the_year_9999_is_refused_not_stored(cli, db: Path, clock, command):
    cli.json("clock", "set", clock)
    err = cli.refused_unchanged(db, *shlex.split(command), code=2)
    assert err["code"] == "time_overflow"
    assert cli.json("orders", "list") == []


def test_a_firing_whose_refund_would_be_due_past_9999_refuses_the_clock_move(cli, db: Path):
    """ship_by fires at 9999-12-29; a card refund started then would be due 15 working days
    later, past the year 9999: the move is refused whole (exit 2), nothing stored as null."""
    cli.json("clock", "set", "9999-12-20T00:00:00Z")  # a Monday
    order = cli.json(*shlex.split("orders place --buyer a --seller s --item x --amount 1"))
    assert order["ship_by"] == "9999-12-29T00:00:00+00:00"  # Tue..Fri, Mon..Wed
    err = cli.refused_unchanged(db, "clock", "set", "9999-12-29T00:00:00Z", code=2)
    assert err["code"] == "time_overflow"
    shown = cli.json("orders", "show", order["id"])
    assert (shown["status"], shown["refund"]) == ("awaiting_shipment", None)


def test_the_last_deadline_that_fits_is_stored(cli):
    cli.json("clock", "set", "9999-12-30T09:00:00Z")
    order = cli.json(*shlex.split("orders place --buyer a --seller s --item x --amount 1 --unpaid"))
    assert order["pay_by"] == "9999-12-31T09:00:00+00:00"
    assert order["next_deadline"] == {"kind": "pay_by", "at": "9999-12-31T09:00:00+00:00"}


# -- scenarios ---------------------------------------------------------------------------------------


def test_a_malformed_scenario_is_bad_scenario(world, db: Path, tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nsteps: 5\n")
    err = world.refused_unchanged(db, "scenario", "run", str(f), code=2)
    assert err["code"] == "bad_scenario"


def test_a_scenario_step_cannot_run_a_scenario(world, tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text(f"name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: scenario run {f}\n"
                 "    expect_exit: 2\n    expect: {error.code: nested_scenario}\n")  # fmt: skip
    report = world.json("scenario", "run", str(f))
    assert [s["passed"] for s in report[0]["steps"]] == [True]


# -- ORDERCLI_LOCK_TIMEOUT: seconds, 0 included; anything else is exit 2 ---------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1", "-0.5", "soon", "1e400"])
def test_a_lock_timeout_that_is_not_a_number_of_seconds_is_exit_2(world, db: Path, monkeypatch, value):
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", value)
    err = world.refused_unchanged(db, *shlex.split(PLACE), code=2)
    assert err["code"] == "bad_lock_timeout"
    assert "ORDERCLI_LOCK_TIMEOUT" in err["message"] and value in err["message"]


@pytest.mark.parametrize("value", ["0", "0.0", "2.5", "30"])
def test_a_lock_timeout_of_zero_or_more_seconds_is_accepted(world, monkeypatch, value):
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", value)
    assert world.json(*shlex.split(PLACE))["id"] == "ORD-0001"


def test_a_lock_timeout_of_zero_fails_at_once_on_a_held_lock(world, db: Path, monkeypatch):
    from filelock import FileLock

    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "0")
    with FileLock(str(db) + ".lock"):
        err = world.refused_unchanged(db, *shlex.split(PLACE), code=5)
    assert err["code"] == "database_busy"
    assert "waited 0s" in err["message"]


def test_an_empty_lock_timeout_means_the_default(world, monkeypatch):
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "")
    assert world.json(*shlex.split(PLACE))["id"] == "ORD-0001"


BAD_FIELDS = [
    ("--buyer", ""), ("--seller", ""), ("--item", ""), ("--amount", "0"), ("--currency", "usd"),
    ("--payment", "cash"), ("--quantity", "0"),
]  # fmt: skip


@pytest.mark.parametrize("option, bad", BAD_FIELDS)
def test_a_bad_field_is_named_by_its_option(world, option, bad):
    fields = {"--buyer": "a", "--seller": "s", "--item": "x", "--amount": "1", option: bad}
    err = world.json("orders", "place", *[x for kv in fields.items() for x in kv], code=2)
    assert err["message"].startswith(f"{option}: ")


@pytest.mark.parametrize("option, bad", BAD_FIELDS)
def test_a_bad_import_field_is_named_by_its_line_and_key(world, tmp_path: Path, option, bad):
    key = option[2:]
    row = {"buyer": "a", "seller": "s", "item": "x", "amount": "1", key: bad}
    f = tmp_path / "orders.ndjson"
    f.write_text(GOOD + "\n" + json.dumps(row) + "\n")
    err = world.json("orders", "import", str(f), code=2)
    assert err["message"].startswith(f"line 2: {key}: ")


AS_COMMANDS = [
    "orders pay {id}", "orders confirm {id}", "cancel request {id} --reason other", "cancel withdraw {id}",
    "seller respond {id} accept", "seller ship {id}", "dispute open {id} --reason damaged",
    "dispute resolve {id} refund", "refund hold {id}", "refund release {id}", "refund settle {id}",
    "messages send {id} hello",
]  # fmt: skip


@pytest.mark.parametrize("command", AS_COMMANDS)
@pytest.mark.parametrize("order", ["placed", "missing"])
def test_a_bad_as_is_exit_2_before_any_lookup_or_rule(world, db: Path, command, order):
    """docs/cli.md's input rules come first: an empty --as is exit 2 whatever the order's state, or
    whether it exists at all (not 4 for acting as someone else, not 3 for a missing order)."""
    oid = _run(world, [PLACE]) if order == "placed" else "ORD-0099"
    err = world.refused_unchanged(db, *shlex.split(command.format(id=oid)), "--as", "", code=2)
    assert err["code"] == "bad_value" and err["message"].startswith("--as: ")


@pytest.mark.parametrize(
    "setup, command, option",
    [
        ([PLACE], "cancel request {id} --reason other --note", "--note"),
        ([PLACE, "cancel request {id} --reason other"], "seller respond {id} reject --message", "--message"),
        ([PLACE], "seller ship {id} --tracking", "--tracking"),
    ],
)
def test_a_bad_text_option_is_named(world, db: Path, setup, command, option):
    oid = _run(world, setup)
    err = world.refused_unchanged(db, *shlex.split(command.format(id=oid)), "bad\x07bell", code=2)
    assert err["code"] == "bad_value" and err["message"].startswith(f"{option}: ")
