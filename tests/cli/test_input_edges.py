"""Edges of the input and output found in issue 17's walk, each a clear error and never an internal one:
help and the version on a full disk, --format against --json, party names, money in every currency's
minor units, out-of-range numbers and impossible instants in policy and behaviour files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# ------------------------------------------------------------------------ help and the version on /dev/full

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


@needs_dev_full
@pytest.mark.parametrize("args", [
    ["--version"],  # answered by entry.py before the app is imported
    ["--db", "x.json", "--version"],  # answered by the app's --version option
    ["--help"],
    ["orders", "--help"],
    ["orders", "place", "--help"],
    [],  # no arguments: the help
])
def test_help_and_version_on_a_full_disk_are_output_failed(args: list[str], tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "ordercli", *args], stdout=full, stderr=subprocess.PIPE,
                              cwd=tmp_path, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 5, err
    assert err == "error: could not write the output: No space left on device\n"
    assert not (tmp_path / "x.json").exists()


def test_a_reader_that_went_away_is_not_an_error(world) -> None:
    world.place()
    for args in (["--version"], ["--help"], ["orders", "list", "--json"], ["orders", "show", "ORD-0001"]):
        proc = subprocess.Popen([sys.executable, "-m", "ordercli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # as `| head -0` does
        assert proc.wait(timeout=60) == 0, args  # click's own answer would be exit 1
        assert proc.stderr.read() == b""
        proc.stderr.close()


# ------------------------------------------------------------------------------------- --format and --json


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "table"])
@pytest.mark.parametrize("command", [["orders", "list"], ["events", "list"], ["errors"]])
def test_another_format_with_json_is_refused(world, command: list[str], fmt: str) -> None:
    err = world.fail(*command, "--format", fmt, code=2)
    assert err["code"] == "bad_format"
    assert "use one of" in err["message"] and fmt in err["message"]
    plain = world(*command, "--format", fmt, "--json", code=2)
    assert plain.stdout == ""
    assert json.loads(plain.stderr)["error"]["code"] == "bad_format"  # --json asks for the error as JSON


def test_format_json_with_json_is_still_json(world) -> None:
    world.place()
    result = world("orders", "list", "--format", "json", "--json")
    assert json.loads(result.stdout)[0]["id"] == "ORD-0001"


# ------------------------------------------------------------------------------------------- party names

PLACE = ["orders", "place", "--item", "Lamp", "--amount", "5"]


@pytest.mark.parametrize(("buyer", "seller"), [("a ", "a"), ("a", " a"), ("\u00a0bo", "bo\u3000"), (" x ", "x")])
def test_names_that_differ_only_by_spaces_are_one_party(world, db: Path, buyer: str, seller: str) -> None:
    err = world.refused_unchanged(db, *PLACE, "--buyer", buyer, "--seller", seller, code=2)
    assert err["code"] == "same_party" and err["message"].startswith("--seller")


def test_party_names_are_kept_without_spaces_around_them(world) -> None:
    order = world.place(buyer="  alice ", seller="acme ")
    assert (order["buyer"], order["seller"]) == ("alice", "acme")
    assert [o["id"] for o in world.json("orders", "list", "--buyer", "alice")] == [order["id"]]


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_an_empty_party_name_is_refused(world, db: Path, name: str) -> None:
    err = world.refused_unchanged(db, *PLACE, "--buyer", name, "--seller", "acme", code=2)
    assert err["code"] == "bad_value" and err["message"].startswith("--buyer")


@pytest.mark.parametrize("name", ["platform", "support", " support", "Platform", "SUPPORT"])
@pytest.mark.parametrize("role", ["--buyer", "--seller"])
def test_the_system_actors_are_no_party(world, db: Path, name: str, role: str) -> None:
    other = "--seller" if role == "--buyer" else "--buyer"
    err = world.refused_unchanged(db, *PLACE, role, name, other, "alice", code=2)
    assert err["code"] == "reserved_name"
    assert err["message"].startswith(f"{role}: ") and "platform and support" in err["message"]


@pytest.mark.parametrize(("row", "code", "start"), [
    ({"buyer": "bo ", "seller": "bo"}, "same_party", "line 2: seller"),
    ({"buyer": "support", "seller": "bo"}, "reserved_name", "line 2: buyer"),
    ({"buyer": "bo", "seller": " platform "}, "reserved_name", "line 2: seller"),
    ({"buyer": " ", "seller": "bo"}, "bad_value", "line 2: buyer"),
])
def test_import_rows_follow_the_same_rules(world, db: Path, tmp_path: Path, row: dict, code: str,
                                           start: str) -> None:
    path = tmp_path / "orders.ndjson"
    good = {"buyer": "al", "seller": "acme", "item": "Lamp", "amount": "5"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, **row}) + "\n")
    err = world.refused_unchanged(db, "orders", "import", str(path), code=2)
    assert err["code"] == code and err["message"].startswith(start), err


def test_the_python_api_trims_and_refuses_as_the_cli() -> None:
    from ordercli import Sandbox
    from ordercli.core.errors import UsageError

    sandbox = Sandbox(start="2030-03-04T09:00:00Z")
    assert sandbox.place(" alice", "acme ", "Lamp", "5")["buyer"] == "alice"
    for buyer, seller, code in (("bob ", "bob", "same_party"), ("platform", "bob", "reserved_name")):
        with pytest.raises(UsageError) as caught:
            sandbox.place(buyer, seller, "Lamp", "5")
        assert caught.value.code == code
    assert len(sandbox.orders()) == 1


# ------------------------------------------------------------------------------------------------ money


@pytest.mark.parametrize(("amount", "currency", "stored"), [
    ("5.123", "KWD", "5.123"),  # 3 minor units: refused before issue 17 ("at most 2 decimal places")
    ("5.1", "KWD", "5.100"),  # fewer places are padded
    ("0.001", "BHD", "0.001"),
    ("1.2345", "CLF", "1.2345"),  # 4 minor units
    ("7", "UYW", "7.0000"),
    ("500", "JPY", "500"),
    ("19.99", "USD", "19.99"),
])
def test_amounts_take_exactly_the_currencys_minor_units_and_fit_the_schemas(
        world, amount: str, currency: str, stored: str) -> None:
    from jsonschema import Draft202012Validator

    order = world.place("--currency", currency, amount=amount)
    assert order["amount"] == stored
    world.json("cancel", "request", order["id"], "--reason", "other")
    world.json("seller", "respond", order["id"], "accept")
    move = world.json("clock", "tick", "30d")  # the refund is paid: an event carrying the amount
    outputs = {"order": world.json("orders", "show", order["id"]),
               "refund": world.json("refund", "status", order["id"]), "clock-move": move}
    assert outputs["refund"]["amount"] == stored
    for event in world.json("events", "list", "--order", order["id"]):
        outputs.setdefault("event", event)
        errors = list(Draft202012Validator(world.json("schema", "event")).iter_errors(event))
        assert not errors, errors[0].message
    for name, value in outputs.items():
        errors = list(Draft202012Validator(world.json("schema", name)).iter_errors(value))
        assert not errors, f"{name}: {errors[0].message}"


@pytest.mark.parametrize(("amount", "currency", "places"), [
    ("5.1234", "KWD", 3), ("1.234", "USD", 2), ("5.5", "JPY", 0), ("1.23456", "CLF", 4)])
def test_a_finer_amount_than_the_currency_is_refused_with_its_places(
        world, db: Path, amount: str, currency: str, places: int) -> None:
    err = world.refused_unchanged(db, "orders", "place", "--buyer", "al", "--seller", "acme", "--item", "Lamp",
                            "--amount", amount, "--currency", currency, code=2)
    assert err["code"] == "bad_amount"
    assert err["message"] == (f"--amount: {amount!r} has more decimal places than {currency} has minor units "
                              f"({places})")


def test_import_takes_a_3_place_amount_in_kwd(world, tmp_path: Path) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_text('{"buyer": "al", "seller": "acme", "item": "Lamp", "amount": 5.125, "currency": "KWD"}\n')
    world.json("orders", "import", str(path))
    assert world.json("orders", "show", "ORD-0001")["amount"] == "5.125"


# ---------------------------------------------------------------------- numbers in policy and behaviour files

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
HUGE = "99999999999999999999999"


def _policy(tmp_path: Path, value: str) -> Path:
    preset = Path(__file__).resolve().parent.parent.parent / "src" / "ordercli" / "core" / "presets" / "aliexpress.toml"
    lines = [line for line in preset.read_text().splitlines() if not line.startswith(("name", "description"))]
    text = "\n".join(f"cancel_requests_max = {value}" if line.startswith("cancel_requests_max") else line
                     for line in lines)
    path = tmp_path / "p.toml"
    path.write_text(text + "\n")
    return path


def _scenario(tmp_path: Path, policy: Path | str) -> Path:
    path = tmp_path / f"{Path(policy).stem}.yaml"
    path.write_text(f"name: x\nstart: 2030-03-04T09:00:00Z\npolicy: {policy}\nsteps:\n"
                    "  - run: orders place --buyer alice --seller acme --item Lamp --amount 5\n"
                    "  - run: clock tick 30d\n")
    return path


@pytest.mark.parametrize("value", [HUGE, str(2**63), "-1", "1.5", '"3"', "true"])  # 0: buyers can't ask (R24)
@pytest.mark.parametrize("how", ["policy use", "demo --policy", "scenario policy", "policy compare"])
def test_an_out_of_range_cancel_requests_max_is_bad_policy_everywhere(
        world, db: Path, tmp_path: Path, value: str, how: str) -> None:
    path = _policy(tmp_path, value)
    args = {"policy use": ["policy", "use", str(path)],
            "demo --policy": ["demo", "--policy", str(path)],
            "scenario policy": ["scenario", "run", str(_scenario(tmp_path, path))],
            "policy compare": ["policy", "compare", "aliexpress", str(path), "--scenario",
                               str(_scenario(tmp_path, "aliexpress"))]}[how]
    err = world.refused_unchanged(db, *args, code=2)
    assert err["code"] == "bad_policy", err
    assert "p.toml: cancel_requests_max: expected an integer from 0 to 9223372036854775807, found" in err["message"]


def test_the_largest_cancel_requests_max_is_taken_and_saved(world, tmp_path: Path) -> None:
    world.json("policy", "use", str(_policy(tmp_path, str(2**63 - 1))))
    assert world.json("policy", "show")["cancel_requests_max"] == 2**63 - 1
    world.place()  # the world with that policy is written and read again


def _behaviour(tmp_path: Path, old: str, new: str) -> Path:
    text = (EXAMPLES / "marketplace.behaviour.yaml").read_text()
    assert old in text
    path = tmp_path / "b.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


SIMULATE = ["--policy", "aliexpress", "--orders", "50", "--workers", "1"]


@pytest.mark.parametrize(("old", "new", "key"), [
    ("start: 2030-03-04T00:00:00Z", "start: 2030-02-30T00:00:00Z", "orders.start"),  # ValueError before
    ("start: 2030-03-04T00:00:00Z", "start: 9999-12-30T00:00:00Z", "orders.start"),  # OverflowError before
    ("start: 2030-03-04T00:00:00Z", "start: 2030-13-01", "orders.start"),
    ("per_day: 1000 ", f"per_day: {HUGE} ", "orders.per_day"),
    ("per_day: 1000 ", f"per_day: 1{'0' * 400} ", "orders.per_day"),  # OverflowError before
    ("[1.0, 0.95,", f"[{HUGE}, 0.95,", "orders.weekday_profile[0]"),
    ("amount: {lognormal: {median: 24, sigma: 0.9}}", "amount: {fixed: 1.0e30}", "orders.amount.fixed"),
    ("sigma: 0.9", f"sigma: {HUGE}", "orders.amount.lognormal.sigma"),
    ("share: 0.7", f"share: {HUGE}", "sellers.prompt.share"),
    ("second-thought: 0.35", f"second-thought: {HUGE}", "cancel.reasons.second-thought"),
    ("card: 0.55", f"card: {HUGE}", "payment.methods.card"),
    ("ship_delay: {uniform: [0.5, 4]}", "ship_delay: {uniform: [0.5, 1.0e12]}",
     "sellers.prompt.ship_delay.uniform.high"),
    ("pay_delay: {exponential: {mean: 8h}}", "pay_delay: 99999999w", "payment.pay_delay"),  # OverflowError before
    ("pay_delay: {exponential: {mean: 8h}}", "pay_delay: {exponential: {mean: 9999w}}",
     "payment.pay_delay.exponential.mean"),
    ("probability: 0.12 ", f"probability: {HUGE} ", "cancel.probability"),
    ("days: 28", f"days: {HUGE}", "orders.days"),
])
def test_out_of_range_behaviour_values_are_bad_behaviour_naming_the_key(
        world, db: Path, tmp_path: Path, old: str, new: str, key: str) -> None:
    path = _behaviour(tmp_path, old, new)
    err = world.refused_unchanged(db, "simulate", str(path), *SIMULATE, code=2)
    assert err["code"] == "bad_behaviour", err
    assert err["message"].startswith(f"behaviour file {path}: {key}: "), err["message"]


def test_a_default_order_count_beyond_simulates_limit_is_refused(world, tmp_path: Path) -> None:
    path = _behaviour(tmp_path, "per_day: 1000 ", "per_day: 10000000 ")  # 28 days of ten million
    err = world.fail("simulate", str(path), "--policy", "aliexpress", "--workers", "1", code=2)
    assert err["code"] == "bad_behaviour" and "orders.per_day" in err["message"] and "--orders" in err["message"]
    report = world.json("simulate", str(path), *SIMULATE)  # --orders picks the number: the file is fine
    assert report


def test_heavy_tailed_delays_stay_within_the_clock(world, tmp_path: Path) -> None:
    """A lognormal with the largest sigma draws delays of thousands of years: they stop at ten years,
    instead of overflowing the clock (OverflowError) somewhere in the simulation."""
    path = _behaviour(tmp_path, "answer_delay: {lognormal: {median: 6h, sigma: 1.0}}",
                      "answer_delay: {lognormal: {median: 1000d, sigma: 10}}")
    text = path.read_text().replace("probability: 0.12 ", "probability: 1 ")
    text = text.replace("release_delay: {lognormal: {median: 20d, sigma: 0.5}}",
                        "release_delay: {lognormal: {median: 3000d, sigma: 10}}")
    path.write_text(text.replace("held_share: 0.03", "held_share: 1"))
    world.json("simulate", str(path), "--policy", "aliexpress", "--orders", "300", "--workers", "1")


def test_acting_as_a_party_ignores_the_spaces_around_the_name(world) -> None:
    oid = world.place("--unpaid", "--as", "alice ", buyer=" alice")["id"]
    assert world.json("orders", "pay", oid, "--as", " alice")["status"] == "awaiting_shipment"
    assert world.json("seller", "ship", oid, "--as", "acme ")["status"] == "shipped"
    message = world.json("messages", "send", oid, "thanks", "--as", " alice ")
    assert (message["from"], message["role"]) == ("alice", "buyer")
    err = world.fail("orders", "confirm", oid, "--as", "acme", code=4)
    assert err["code"] == "not_party"
