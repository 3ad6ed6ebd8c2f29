"""Output formats (docs/cli.md "Output", "Errors"), the policy commands, and the two histories:
notifications (docs/rules.md R18) and events (R19).

The world starts on Monday 2030-03-04T09:00:00Z.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest

from ordercli.cli.app import app

LIST_COMMANDS = [
    ("orders", "list"),
    ("refund", "list"),
    ("dispute", "list"),
    ("notifications", "list"),
    ("events", "list"),
]
LIST_IDS = [" ".join(c) for c in LIST_COMMANDS]
TRICKY_ITEM = 'Blue, "deluxe" headset'
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")
INSTANT_KEYS = {"at", "now"}
EVENT_KEYS = {"seq", "at", "order_id", "kind", "actor", "details"}
BUYER_KINDS = {"request_answered", "auto_cancelled", "refund_started", "refund_completed", "dispute_outcome"}
SELLER_KINDS = {"request_received", "dispute_opened"}


# -- helpers -----------------------------------------------------------------------------------------


def notes(cli, to: str | None = None) -> list[dict]:
    return cli.json("notifications", "list", *(["--to", to] if to else []))


def is_instant_key(key: str) -> bool:
    return key in INSTANT_KEYS or key.endswith("_at") or key.endswith("_by")


def walk_instants(value, path: str = ""):
    """Yields (path, value) for every field that holds an instant."""
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else k
            if is_instant_key(k) and (v is None or isinstance(v, str)):
                yield p, v
            else:
                yield from walk_instants(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_instants(v, f"{path}.{i}")


def walk_amounts(value, path: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else k
            if k == "amount":
                yield p, v
            else:
                yield from walk_amounts(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_amounts(v, f"{path}.{i}")


def flatten(obj: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in obj.items():
        name = prefix + k
        if isinstance(v, dict) and v:
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


@pytest.fixture
def busy(world):
    """A world with something in every list: refunds (one overdue), disputes, notifications, events,
    and an item whose text needs CSV quoting."""
    a = world.place("--payment", "paypal", buyer="alice", seller="acme", amount="19.99")
    world.json("orders", "place", "--buyer", "bob", "--seller", "bolt", "--item", TRICKY_ITEM,
               "--amount", "7.50", "--currency", "EUR")
    world.json("seller", "ship", "ORD-0002")
    world.json("dispute", "open", "ORD-0002", "--reason", "damaged")
    world.json("cancel", "request", a["id"], "--reason", "second-thought", "--note", 'sorry, "really"')
    world.json("seller", "respond", a["id"], "accept", "--message", "ok")
    world.json("refund", "hold", a["id"])
    world.json("clock", "set", "2030-03-26T09:00:00Z")  # alice's refund (due 2030-03-25T09:00) is overdue
    c = world.place(buyer="carol", seller="acme", amount="100")  # ship_by 2030-04-04T09:00
    world.json("dispute", "open", c["id"], "--reason", "shipping-delay")
    return world


# -- list commands: table, json, ndjson, csv ---------------------------------------------------------


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
def test_format_json_is_an_array_equal_to_dash_dash_json(busy, command):
    via_json = busy(*command, "--json")
    via_format = busy(*command, "--format", "json")
    assert via_format.stdout == via_json.stdout
    rows = json.loads(via_format.stdout)
    assert isinstance(rows, list) and rows
    assert all(isinstance(r, dict) for r in rows)


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
def test_format_ndjson_is_one_object_a_line(busy, command):
    rows = busy.json(*command)
    out = busy(*command, "--format", "ndjson").stdout
    lines = out.splitlines()
    assert out.endswith("\n")
    assert len(lines) == len(rows)
    assert [json.loads(line) for line in lines] == rows
    assert all(line.startswith("{") and line.endswith("}") for line in lines)


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
def test_format_csv_has_a_header_and_one_row_per_item(busy, command):
    rows = busy.json(*command)
    out = busy(*command, "--format", "csv").stdout
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert len(parsed) == len(rows)
    for row, obj in zip(parsed, rows, strict=True):
        flat = flatten(obj)
        for key, value in flat.items():
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                assert key in row, f"no column {key!r} in {list(row)}"
                assert row[key] == str(value), key


def test_csv_of_orders_flattens_nested_objects_to_dotted_columns(busy):
    out = busy("orders", "list", "--format", "csv").stdout
    reader = csv.reader(io.StringIO(out))
    header = next(reader)
    for column in ("id", "status", "amount", "next_deadline.kind", "next_deadline.at", "refund.status",
                   "refund.due_by", "cancellation.reason", "dispute.reason"):
        assert column in header
    assert "next_deadline" not in header or "next_deadline.kind" in header
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["ORD-0001"]["refund.status"] == "held"
    assert rows["ORD-0001"]["cancellation.note"] == 'sorry, "really"'
    assert rows["ORD-0003"]["next_deadline.kind"] == "ship_by"
    assert rows["ORD-0003"]["next_deadline.at"] == "2030-04-04T09:00:00+00:00"
    assert rows["ORD-0002"]["dispute.reason"] == "damaged"


def test_csv_quotes_commas_and_quotes(busy):
    out = busy("orders", "list", "--format", "csv").stdout
    assert '"Blue, ""deluxe"" headset"' in out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["item"] for r in rows] == ["Blue headset", TRICKY_ITEM, "Blue headset"]
    assert [r["amount"] for r in rows] == ["19.99", "7.50", "100.00"]


def test_csv_of_disputes_and_events_has_order_ids(busy):
    disputes = list(csv.DictReader(io.StringIO(busy("dispute", "list", "--format", "csv").stdout)))
    assert sorted((d["order_id"], d["reason"], d["status"]) for d in disputes) == [
        ("ORD-0002", "damaged", "open"), ("ORD-0003", "shipping-delay", "open")]
    evs = list(csv.DictReader(io.StringIO(busy("events", "list", "--format", "csv").stdout)))
    assert [int(e["seq"]) for e in evs] == list(range(1, len(evs) + 1))
    assert {e["order_id"] for e in evs} == {"ORD-0001", "ORD-0002", "ORD-0003"}


ALL = ["ORD-0001", "ORD-0002", "ORD-0003"]
TABLE_KEYS = {
    ("orders", "list"): ("id", ALL),
    ("refund", "list"): ("order_id", ["ORD-0001"]),
    ("dispute", "list"): ("order_id", ["ORD-0002", "ORD-0003"]),
    ("notifications", "list"): ("seq", ALL),
    ("events", "list"): ("seq", ALL),
}


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
def test_table_is_for_people(busy, command):
    result = busy(*command)
    out = result.stdout
    assert out.strip()
    with pytest.raises(ValueError):
        json.loads(out)
    key_column, ids = TABLE_KEYS[command]
    assert out.splitlines()[0].split()[0] == key_column
    # what `busy` made: three orders, one refund (alice's), disputes on the other two
    assert sorted(set(re.findall(r"ORD-\d{4}", out))) == ids


def test_orders_table_shows_ids_statuses_and_amounts(busy):
    out = busy("orders", "list", "--format", "table").stdout
    assert out == busy("orders", "list").stdout
    lines = out.splitlines()
    for oid, status in (("ORD-0001", "cancelled"), ("ORD-0002", "shipped"), ("ORD-0003", "awaiting_shipment")):
        line = next(line for line in lines if oid in line)
        assert status in line
    assert "\x1b[" not in out  # no colour when stdout is not a terminal


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
@pytest.mark.parametrize("bad", ["xml", "JSON", ""])
def test_bad_format_is_a_usage_error(busy, command, bad):
    result = busy(*command, "--format", bad, code=2)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert lines[0] == f"error: --format: {bad!r} is not one of table, json, ndjson, csv"


def test_bad_format_is_a_usage_error_even_with_json(busy):
    # docs/cli.md: a bad value is exit 2; --json must not make a bad --format acceptable
    accepted = []
    for command in LIST_COMMANDS:
        result = busy.runner.invoke(app, [*command, "--format", "xml", "--json"])
        if result.exit_code != 2:
            accepted.append((" ".join(command), result.exit_code))
        else:
            assert result.stdout == ""
            assert json.loads(result.stderr)["error"]["exit"] == 2
    assert accepted == []


@pytest.mark.parametrize("command", LIST_COMMANDS, ids=LIST_IDS)
def test_empty_lists(world, command):
    assert world.json(*command) == []
    assert world(*command, "--format", "ndjson").stdout == ""


# -- --json: exactly one JSON value on stdout --------------------------------------------------------


def test_json_output_is_exactly_one_value_and_hints_go_to_stderr(world):
    o = world.place()
    result = world("cancel", "request", o["id"], "--reason", "shipping-delay", "--json")
    order = json.loads(result.stdout)  # raises on anything but one JSON value
    assert order["status"] == "cancel_requested"
    assert "dispute" in result.stderr  # the hint of docs/rules.md "A request with a seller-fault reason"
    assert "hint" not in result.stdout


@pytest.mark.parametrize("args, kind", [
    (("clock", "show"), dict),
    (("clock", "tick", "1h"), dict),
    (("orders", "show", "ORD-0001"), dict),
    (("orders", "list"), list),
    (("cancel", "reasons"), list),
    (("refund", "status", "ORD-0001"), dict),
    (("policy", "show"), dict),
])
def test_json_output_shapes(busy, args, kind):
    result = busy(*args, "--json")
    value = json.loads(result.stdout)
    assert isinstance(value, kind)


def test_text_output_without_json_is_not_json(busy):
    out = busy("orders", "show", "ORD-0001").stdout
    assert "ORD-0001" in out and "cancelled" in out
    with pytest.raises(ValueError):
        json.loads(out)


def test_errors_with_json_are_one_object_on_stderr(world):
    result = world("orders", "show", "ORD-0042", "--json", code=3)
    assert result.stdout == ""
    err = json.loads(result.stderr)
    assert set(err) == {"error"}
    assert err["error"]["exit"] == 3
    assert re.fullmatch(r"[a-z][a-z0-9_]*", err["error"]["code"])
    assert err["error"]["message"]


# -- money and instants -----------------------------------------------------------------------------


def test_money_is_a_decimal_string_everywhere(busy):
    outputs = [busy.json(*c) for c in LIST_COMMANDS] + [busy.json("orders", "show", "ORD-0001"),
                                                       busy.json("refund", "status", "ORD-0001")]
    found = [(p, v) for out in outputs for p, v in walk_amounts(out)]
    assert found
    for path, value in found:
        assert isinstance(value, str), f"{path} = {value!r}"
        assert re.fullmatch(r"\d+(\.\d{1,2})?", value), f"{path} = {value!r}"
    assert busy.json("orders", "show", "ORD-0001")["amount"] == "19.99"
    assert busy.json("refund", "status", "ORD-0001")["amount"] == "19.99"
    assert busy.json("orders", "show", "ORD-0002")["amount"] == "7.50"
    started = [e for e in busy.events("ORD-0001") if e["kind"] == "refund_started"]
    assert started and started[0]["details"]["amount"] == "19.99"
    assert Decimal(busy.json("orders", "show", "ORD-0003")["amount"]) == Decimal("100")


def test_instants_are_utc_iso_8601_with_offset_everywhere(busy):
    outputs = [busy.json(*c) for c in LIST_COMMANDS] + [
        busy.json("orders", "show", "ORD-0001"), busy.json("refund", "status", "ORD-0001"),
        busy.json("clock", "show")]
    move = busy.json("clock", "tick", "1m")
    outputs.append(move)
    found = [(p, v) for out in outputs for p, v in walk_instants(out) if v is not None]
    found += [("from", move["from"]), ("to", move["to"])]
    assert len(found) > 20
    for path, value in found:
        assert INSTANT_RE.match(value), f"{path} = {value!r}"


@pytest.mark.parametrize("given, stored", [
    ("2030-03-04T11:30:00+02:00", "2030-03-04T09:30:00+00:00"),
    ("2030-03-04T09:30:00Z", "2030-03-04T09:30:00+00:00"),
    ("2030-03-04T09:30:00", "2030-03-04T09:30:00+00:00"),
    ("2030-03-03T22:30:00-11:00", "2030-03-04T09:30:00+00:00"),
])
def test_instants_given_with_any_offset_are_shown_in_utc(cli, given, stored):
    move = cli.json("clock", "set", given)
    assert move["to"] == stored
    assert cli.json("clock", "show") == {"now": stored}
    o = cli.place()
    assert o["placed_at"] == stored


# -- policy show / use ---------------------------------------------------------------------------


def test_policy_show_lists_the_default_values(world):
    p = world.json("policy", "show")
    assert p["name"] == "aliexpress"
    assert p["seller_response_within"] == "72h"
    assert p["on_seller_silence"] == "cancel"
    assert p["pay_within"] == "24h"
    assert p["ship_within"] == "7 working days"
    assert p["cancel_requests_max"] == 3
    assert p["ewallets"] == ["alipay"]
    assert p["timezone"] == "UTC"
    assert p["refund_within"] == {"alipay": "7d", "card": "15 working days", "paypal": "15 working days",
                                  "bank-transfer": "15 working days"}


def test_policy_show_text_is_for_people(world):
    out = world("policy", "show").stdout
    assert "aliexpress" in out and "72h" in out
    with pytest.raises(ValueError):
        json.loads(out)


def test_policy_use_ebay_on_an_empty_world(world):
    p = world.json("policy", "use", "ebay")
    assert p["name"] == "ebay"
    assert p["seller_response_within"] == "3d"
    assert p["on_seller_silence"] == "lapse"
    assert p["pay_within"] == "24h"  # inherited from aliexpress
    assert world.json("policy", "show") == p
    # and it is in force: an unanswered request lapses after 3 days instead of cancelling
    o = world.place()
    req = world.json("cancel", "request", o["id"], "--reason", "second-thought")
    assert req["cancellation"]["respond_by"] == "2030-03-07T09:00:00+00:00"
    world.json("clock", "tick", "3d")
    order = world.json("orders", "show", o["id"])
    assert order["status"] == "awaiting_shipment"
    assert order["refund"] is None
    assert order["cancellation"]["status"] == "timed_out"


def test_policy_use_on_a_missing_data_file(cli):
    assert cli.json("policy", "use", "ebay")["name"] == "ebay"
    assert cli.json("policy", "show")["on_seller_silence"] == "lapse"


def test_policy_use_is_refused_once_the_world_has_orders(world):
    world.place()
    err = world.json("policy", "use", "ebay", code=4)
    assert err["exit"] == 4
    p = world.json("policy", "show")
    assert p["name"] == "aliexpress"
    assert p["on_seller_silence"] == "cancel"


def test_policy_use_file_with_unknown_key_names_the_key(world, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('seller_response_within = "48h"\nrespond_within_hours = 48\n')
    err = world.json("policy", "use", str(f), code=2)
    assert err["exit"] == 2
    assert "respond_within_hours" in err["message"]
    assert world.json("policy", "show")["seller_response_within"] == "72h"


def test_policy_use_file_with_a_badly_spelt_refund_method_names_it(world, tmp_path):
    # issue 19 (R27): any payment method may be named, as lowercase words joined by -
    f = tmp_path / "mine.toml"
    f.write_text('[refund_within]\n"Bit Coin" = "1d"\n')
    err = world.json("policy", "use", str(f), code=2)
    assert "Bit Coin" in err["message"]


def test_policy_use_file_with_bad_value_names_the_key(world, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('on_seller_silence = "ignore"\n')
    err = world.json("policy", "use", str(f), code=2)
    assert "on_seller_silence" in err["message"]
    assert world.json("policy", "show")["on_seller_silence"] == "cancel"


def test_policy_use_file_falls_back_to_the_preset(world, tmp_path):
    f = tmp_path / "fast.toml"
    f.write_text('seller_response_within = "48h"\n[refund_within]\ncard = "5 working days"\n')
    p = world.json("policy", "use", str(f))
    assert p["seller_response_within"] == "48h"
    assert p["on_seller_silence"] == "cancel"
    assert p["refund_within"]["card"] == "5 working days"
    assert p["refund_within"]["alipay"] == "7d"
    o = world.place()
    req = world.json("cancel", "request", o["id"], "--reason", "other")
    assert req["cancellation"]["respond_by"] == "2030-03-06T09:00:00+00:00"


# -- notifications (R18) -----------------------------------------------------------------------------


def by_kind(ns: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in ns:
        out.setdefault(n["kind"], []).append(n["channel"])
    return {k: sorted(v) for k, v in out.items()}


BOTH = ["app", "email"]


def test_accept_path_notifies_each_party_once_per_channel(world):
    o = world.place(buyer="alice", seller="acme")
    world.json("cancel", "request", o["id"], "--reason", "second-thought")
    assert by_kind(notes(world, "acme")) == {"request_received": BOTH}
    assert by_kind(notes(world, "alice")) == {}
    world.json("seller", "respond", o["id"], "accept")
    assert by_kind(notes(world, "alice")) == {"request_answered": BOTH, "refund_started": BOTH}
    world.json("clock", "next")  # the refund's due_by
    assert by_kind(notes(world, "alice")) == {"request_answered": BOTH, "refund_started": BOTH,
                                              "refund_completed": BOTH}
    assert by_kind(notes(world, "acme")) == {"request_received": BOTH}
    assert all(n["order_id"] == o["id"] for n in notes(world))


def test_reject_notifies_the_buyer(world):
    o = world.place()
    world.json("cancel", "request", o["id"], "--reason", "other")
    world.json("seller", "respond", o["id"], "reject")
    assert by_kind(notes(world, "alice")) == {"request_answered": BOTH}


def test_seller_silence_notifies_auto_cancel_and_refund(world):
    o = world.place()
    world.json("cancel", "request", o["id"], "--reason", "other")
    world.json("clock", "tick", "72h")
    assert by_kind(notes(world, "alice")) == {"auto_cancelled": BOTH, "refund_started": BOTH}
    at = {n["at"] for n in notes(world, "alice")}
    assert at == {"2030-03-07T09:00:00+00:00"}


def test_ship_timeout_notifies_auto_cancel_and_refund(world):
    world.place()
    world.json("clock", "set", "2030-03-14T00:00:00Z")
    assert by_kind(notes(world, "alice")) == {"auto_cancelled": BOTH, "refund_started": BOTH}
    assert by_kind(notes(world, "acme")) == {}


def test_payment_timeout_notifies_auto_cancel_without_refund(world):
    world.place("--unpaid")
    world.json("clock", "tick", "2d")
    assert by_kind(notes(world, "alice")) == {"auto_cancelled": BOTH}
    assert [n["at"] for n in notes(world, "alice")] == ["2030-03-05T09:00:00+00:00"] * 2


def test_notifications_to_filters_by_name(busy):
    everything = notes(busy)
    for name in ("alice", "bob", "carol", "acme", "bolt"):
        mine = notes(busy, name)
        assert mine == [n for n in everything if n["to"] == name]
    assert {n["to"] for n in notes(busy, "acme")} == {"acme"}
    assert notes(busy, "acme") and notes(busy, "bolt") and notes(busy, "alice")
    assert notes(busy, "nobody") == []


def test_notifications_go_to_the_right_party(busy):
    orders = {o["id"]: o for o in busy.json("orders", "list")}
    everything = notes(busy)
    assert {n["kind"] for n in everything} >= {"request_received", "dispute_opened", "request_answered",
                                               "refund_started"}
    for n in everything:
        o = orders[n["order_id"]]
        if n["kind"] in BUYER_KINDS:
            assert n["to"] == o["buyer"], n
        elif n["kind"] in SELLER_KINDS:
            assert n["to"] == o["seller"], n
        assert n["channel"] in ("email", "app")
    # each notice once per channel
    keys = [(n["order_id"], n["to"], n["kind"], n["at"], n["channel"]) for n in everything]
    assert len(keys) == len(set(keys))
    pairs = {}
    for order_id, to, kind, at, channel in keys:
        pairs.setdefault((order_id, to, kind, at), []).append(channel)
    assert all(sorted(c) == BOTH for c in pairs.values())


def test_notifications_are_oldest_first(world):
    a = world.place(buyer="alice")
    world.json("clock", "tick", "1h")
    world.json("cancel", "request", a["id"], "--reason", "other")
    world.json("clock", "tick", "1d")
    b = world.place(buyer="bob")
    world.json("dispute", "open", b["id"], "--reason", "shipping-delay")
    world.json("clock", "tick", "1d")
    world.json("dispute", "resolve", b["id"], "reject")
    world.json("clock", "tick", "1d")  # alice's request times out
    ns = notes(world)
    ats = [n["at"] for n in ns]
    assert ats == sorted(ats)
    assert [n["kind"] for n in ns][::2] == ["request_received", "dispute_opened", "dispute_outcome",
                                            "auto_cancelled", "refund_started"]


# -- events (R19) -------------------------------------------------------------------------------


def test_events_are_numbered_without_gaps_oldest_first(busy):
    evs = busy.events()
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    ats = [e["at"] for e in evs]
    assert ats == sorted(ats)
    for e in evs:
        assert set(e) == EVENT_KEYS
        assert isinstance(e["details"], dict)
        assert isinstance(e["kind"], str) and e["kind"]
        assert isinstance(e["actor"], str) and e["actor"]
        assert e["order_id"] in ("ORD-0001", "ORD-0002", "ORD-0003")


def test_events_of_one_order(busy):
    everything = busy.events()
    for oid in ("ORD-0001", "ORD-0002", "ORD-0003"):
        mine = busy.events(oid)
        assert mine and mine == [e for e in everything if e["order_id"] == oid]
        seqs = [e["seq"] for e in mine]
        assert seqs == sorted(seqs)


@pytest.mark.parametrize("oid", ["ORD-9999", "nope", "ord-0001", "ORD-1"])
def test_events_of_unknown_order_is_not_found(busy, oid):
    err = busy.json("events", "list", "--order", oid, code=3)
    assert err["exit"] == 3


def test_events_record_actor_and_time_of_each_state_change(world):
    o = world.place(buyer="alice", seller="acme")
    world.json("clock", "tick", "1h")
    world.json("cancel", "request", o["id"], "--reason", "other")
    world.json("clock", "tick", "1h")
    world.json("seller", "respond", o["id"], "accept")
    world.json("clock", "next")
    got = [(e["at"], e["actor"], e["kind"]) for e in world.events(o["id"])]
    assert got[0] == ("2030-03-04T09:00:00+00:00", "alice", "order_placed")
    assert ("2030-03-04T10:00:00+00:00", "alice", "cancel_requested") in got
    assert ("2030-03-04T11:00:00+00:00", "acme", "cancel_accepted") in got
    assert ("2030-03-04T11:00:00+00:00", "platform", "refund_started") in got
    assert got[-1] == ("2030-03-25T11:00:00+00:00", "platform", "refund_completed")
    cancelled = [e for e in world.events(o["id"]) if e["kind"] == "order_cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["details"].get("end_reason") == "cancel_accepted"


def test_clock_tick_returns_the_events_it_appended(world):
    o = world.place()
    world.json("cancel", "request", o["id"], "--reason", "other")
    before = len(world.events())
    move = world.json("clock", "tick", "30d")
    assert move["from"] == "2030-03-04T09:00:00+00:00"
    assert move["to"] == "2030-04-03T09:00:00+00:00"
    after = world.events()
    assert move["fired"] == after[before:]
    assert move["fired"]


def test_a_refused_command_appends_no_event_and_no_notification(world):
    o = world.place()
    world.json("seller", "ship", o["id"])
    evs, ns = world.events(), notes(world)
    world.json("cancel", "request", o["id"], "--reason", "other", code=4)
    world.json("dispute", "open", o["id"], "--reason", "shipping-delay", code=4)
    world.json("dispute", "open", o["id"], "--reason", "damaged", "--as", "bob", code=4)
    world.json("dispute", "resolve", o["id"], "refund", code=4)
    assert world.events() == evs
    assert notes(world) == ns
