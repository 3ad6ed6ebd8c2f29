"""Money in the currency's minor units (ISO 4217: USD 2, JPY 0, KWD 3, CLF 4): a positive decimal with at
most that many places (docs/rules.md#money); orders import reads JSON numbers the same way. And the small
holes: buyer = seller, "imported 1 order", instants with fractional seconds."""

from __future__ import annotations

import json

import pytest

from ordercli.cli.app import app


@pytest.mark.parametrize(("amount", "currency", "stored"), [
    ("5", "USD", "5.00"),
    ("5.5", "EUR", "5.50"),
    ("19.99", "USD", "19.99"),
    ("500", "JPY", "500"),
    ("5.00", "JPY", "5"),
    ("1.5", "KWD", "1.500"),
    ("0.01", "CNY", "0.01"),
])
def test_amount_in_minor_units(world, amount, currency, stored):
    order = world.place("--currency", currency, amount=amount)
    assert (order["amount"], order["currency"]) == (stored, currency)


def test_refund_carries_the_normalised_amount(world):
    oid = world.place("--currency", "JPY", amount="1200")["id"]
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "respond", oid, "accept")
    assert world.json("refund", "status", oid)["amount"] == "1200"


@pytest.mark.parametrize(("amount", "currency", "code"), [
    ("5.5", "JPY", "bad_amount"),      # yen has no minor unit
    ("0.01", "JPY", "bad_amount"),
    ("1.2345", "KWD", "bad_amount"),   # KWD has 3 minor units (issue 17: no longer 2 for every currency)
    ("1.234", "USD", "bad_amount"),
    ("1.23456", "CLF", "bad_amount"),  # CLF has 4
    ("5", "XYZ", "bad_currency"),      # not in ISO 4217
    ("5", "XAU", "bad_currency"),      # gold: no minor unit, not a currency of payment
])
def test_amount_that_does_not_fit_is_exit_2(world, amount, currency, code):
    err = world.json("orders", "place", "--buyer", "a", "--seller", "b", "--item", "x", "--amount", amount,
                     "--currency", currency, code=2)
    assert err["code"] == code
    assert ("--amount" if code == "bad_amount" else "--currency") in err["message"]
    assert world.json("orders", "list") == []


def run_import(world, lines: list[str], code: int = 0):
    result = world.runner.invoke(app, ["orders", "import", "-", "--json"], input="\n".join(lines) + "\n")
    assert result.exit_code == code, result.stderr
    return result


def test_import_reads_json_numbers_as_their_text_in_minor_units(world):
    rows = [
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 5}',
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 19.99}',
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 7.5, "currency": "EUR"}',
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 300, "currency": "JPY"}',
        '{"buyer": "a", "seller": "b", "item": "x", "amount": "2", "currency": "JPY"}',
    ]
    run_import(world, rows)
    assert [o["amount"] for o in world.json("orders", "list")] == ["5.00", "19.99", "7.50", "300", "2"]


def test_import_refuses_yen_cents_naming_the_line(world):
    err = json.loads(run_import(world, [
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 5}',
        '{"buyer": "a", "seller": "b", "item": "x", "amount": 5.5, "currency": "JPY"}',
    ], code=2).stderr)["error"]
    assert err["code"] == "bad_amount" and err["message"].startswith("line 2: amount")
    assert world.json("orders", "list") == []


def test_buyer_equal_to_seller_is_exit_2(world):
    err = world.json("orders", "place", "--buyer", "bob", "--seller", "bob", "--item", "x", "--amount", "1", code=2)
    assert err["code"] == "same_party" and "--seller" in err["message"]
    assert world.json("orders", "list") == []


def test_import_refuses_buyer_equal_to_seller(world):
    err = json.loads(run_import(world, ['{"buyer": "a", "seller": "a", "item": "x", "amount": 1}'], code=2).stderr)
    assert err["error"]["code"] == "same_party" and err["error"]["message"].startswith("line 1: seller")


def test_imported_one_order_is_singular(world):
    result = world.runner.invoke(app, ["orders", "import", "-"],
                                 input='{"buyer": "a", "seller": "b", "item": "x", "amount": 1}\n')
    assert result.stdout == "imported 1 order\n"
    result = world.runner.invoke(app, ["orders", "import", "-"],
                                 input='{"buyer": "a", "seller": "b", "item": "x", "amount": 1}\n' * 2)
    assert result.stdout == "imported 2 orders\n"


@pytest.mark.parametrize("instant", ["2030-03-05T09:00:00.5Z", "2030-03-05T09:00:00.000001+00:00"])
def test_clock_set_refuses_fractional_seconds(world, instant):
    err = world.json("clock", "set", instant, code=2)
    assert err["code"] == "bad_instant" and "fractional seconds" in err["message"]
    assert world.json("clock", "show") == {"now": "2030-03-04T09:00:00+00:00"}


def test_clock_set_accepts_zero_fraction_as_whole_seconds(world):
    assert world.json("clock", "set", "2030-03-05T09:00:00.000Z")["to"] == "2030-03-05T09:00:00+00:00"


def test_scenario_start_refuses_fractional_seconds(cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nstart: '2030-03-04T09:00:00.25Z'\nsteps:\n  - run: clock show\n")
    result = cli("scenario", "run", str(path), code=2)
    assert "fractional seconds" in result.stderr
