"""Odd input found by the acceptance pass: each is exit 2 with the error contract, never exit 1."""

from __future__ import annotations


def test_amount_too_large_for_its_currency_is_bad_amount(world) -> None:
    # 27 nines with 2 minor units needs 29 significant digits: more than a decimal can hold here
    err = world.fail("orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "9" * 27, code=2)
    assert err["code"] == "bad_amount"
    assert err["message"].startswith("--amount")


def test_quantity_beyond_64_bits_is_bad_quantity(world) -> None:
    err = world.fail(
        "orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "1",
        "--quantity", str(2**63), code=2,
    )
    assert err["code"] == "bad_quantity"
    assert err["message"].startswith("--quantity")


def test_largest_quantity_is_kept(world) -> None:
    order = world.place("--quantity", str(2**63 - 1))
    assert order["quantity"] == 2**63 - 1


def test_quantity_of_thousands_of_digits_is_bad_quantity(world) -> None:
    err = world.fail(
        "orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "1",
        "--quantity", "9" * 5000, code=2,
    )
    assert err["code"] == "bad_quantity"


def test_tick_of_thousands_of_digits_is_bad_duration(world) -> None:
    err = world.fail("clock", "tick", "9" * 5000 + "s", code=2)
    assert err["code"] == "bad_duration"


def test_policy_duration_of_thousands_of_digits_is_bad_policy(cli, tmp_path) -> None:
    house = tmp_path / "house.toml"
    house.write_text(f'ship_within = "{"9" * 5000} working days"\n')
    err = cli.fail("policy", "use", str(house), code=2)
    assert err["code"] == "bad_policy"
    assert "ship_within" in err["message"]
