"""The declared input rules, compiled into one straight-line checker per record (issue 20's speed):
the checker, the batch form the simulation uses and `field` all give what the rules say, value for
value and refusal for refusal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercli.core import engine, validate
from ordercli.core.errors import UsageError
from ordercli.core.model import Message, Order

GOOD = {"buyer": "ann", "seller": "acme", "item": "Mug", "amount": "5", "currency": "USD", "payment": "card"}
GOOD["quantity"] = 1

# values a row may hold: good ones, and every kind of bad one the rules refuse
VALUES: dict[str, list[Any]] = {
    "buyer": ["ann", " ann ", "", "x" * 201, "a\x07", "Platform", 5, None, ["ann"]],
    "seller": ["acme", "ann", "SUPPORT", "", None],
    "item": ["Mug", "m" * 200, "m" * 201, "\x00", 3],
    "amount": ["5", "19.99", "5.123", "0", "-1", "1e3", 5, 5.5, Decimal("2.50"), True, "٣", None, [1]],
    "currency": ["USD", "JPY", "KWD", "usd", "XAU", "XYZ", None],
    "payment": ["card", "paypal", "cash", None],
    "quantity": [1, 3, "2", 0, -1, True, 1.0, "x", None],
}


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "kept", call()
    except UsageError as exc:
        return "refused", (exc.code, exc.message)


def _expected(row: dict[str, Any], labels: dict[str, str] | None = None) -> tuple[str, Any]:
    """The rules applied field by field through `field` (each field's own steps), then the rule
    between two fields: what record_input must give, written the long way."""
    label = labels or {}
    out: dict[str, Any] = {}
    try:
        for name, key in (("buyer", "buyer"), ("seller", "seller"), ("item", "item"), ("quantity", "quantity"),
                          ("currency", "currency"), ("amount", "amount"), ("payment_method", "payment")):
            option = label.get(key, key)
            if name == "amount":
                out[name] = validate.amount(row[key], option, out["currency"])
            elif name == "payment_method":
                out[name] = validate.payment(row[key], option)
            elif name == "seller":
                out[name] = validate.party(row[key], option)
            else:
                out[name] = validate.field(Order, name, row[key], option)
        if out["seller"] == out["buyer"]:
            option = label.get("seller", "seller")
            raise UsageError(f"{option}: the seller must not be the buyer ({out['seller']})", "same_party")
    except UsageError as exc:
        return "refused", (exc.code, exc.message)
    return "kept", {k: out[k] for k in ("buyer", "seller", "item", "quantity", "amount", "currency", "payment_method")}


rows = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in VALUES.items()})


@settings(max_examples=400, deadline=None)
@given(rows, st.booleans())
def test_the_compiled_checker_keeps_and_refuses_what_the_rules_do(row: dict[str, Any], labelled: bool) -> None:
    labels = {k: f"line 7: {k}" for k in GOOD} if labelled else None
    assert _outcome(lambda: validate.record_input(Order, row, labels)) == _expected(row, labels)


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, min_size=1, max_size=6))
def test_checking_many_rows_is_checking_each_row(batch: list[dict[str, Any]]) -> None:
    one_by_one = [_outcome(lambda r=r: validate.record_input(Order, r, None, None)) for r in batch]
    if all(kind == "kept" for kind, _ in one_by_one):
        assert validate.record_inputs(Order, batch, None) == [value for _, value in one_by_one]
        assert engine.many_order_fields(batch) == [value for _, value in one_by_one]
    else:  # the first refused row's refusal, whatever came before it
        first = next(value for kind, value in one_by_one if kind == "refused")
        assert _outcome(lambda: validate.record_inputs(Order, batch, None)) == ("refused", first)


def test_the_checker_checks_the_policys_payment_methods_only_when_given_them() -> None:
    row = {**GOOD, "payment": "shopeepay"}
    assert validate.record_inputs(Order, [row], None)[0]["payment_method"] == "shopeepay"
    with pytest.raises(UsageError, match="not one of the policy's payment methods"):
        validate.record_inputs(Order, [row], ("card", "paypal"))


def test_field_applies_one_fields_own_steps() -> None:
    assert validate.field(Order, "tracking", None) is None  # optional
    assert validate.field(Order, "tracking", "TR-1") == "TR-1"
    with pytest.raises(UsageError, match="^--tracking: at most"):
        validate.field(Order, "tracking", "t" * 5000, "--tracking")
    assert validate.field(Message, "text", "hello") == "hello"
    with pytest.raises(UsageError, match="^text: must not be empty"):
        validate.field(Message, "text", "  ")


def test_an_amount_is_kept_in_its_currencys_places_however_often_it_is_asked() -> None:
    for _ in range(2):  # the currency's quantum is found once, then reused
        assert validate.amount("5", "amount", "KWD") == "5.000"
        assert validate.amount("5", "amount", "JPY") == "5"
        with pytest.raises(UsageError, match="more decimal places than JPY"):
            validate.amount("5.5", "amount", "JPY")
        with pytest.raises(UsageError, match="not an ISO 4217"):
            validate.amount("5", "amount", "XYZ")
