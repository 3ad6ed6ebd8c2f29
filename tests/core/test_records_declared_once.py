"""The records are declared once (src/ordercli/core/model.py) and four things follow from the
declaration: the input rules, the checks of stored records in a file ordercli did not seal, the JSON
Schemas shipped in the package, and the table/CSV columns (issue 18)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
START = "2030-03-04T09:00:00Z"

# A hand edit of ORD-0001 the CLI would never have written, and the field the refusal names.
HAND_EDITS: dict[str, tuple[str, object]] = {
    "currency-XYZ": ("currency", "XYZ"),
    "amount-5.5555-USD": ("amount", "5.5555"),
    "buyer-is-seller": ("seller", "alice"),
    "quantity-0": ("quantity", 0),
    "item-5000-chars": ("item", "m" * 5000),
    "item-control-char": ("item", "Mug\x07"),
    "fractional-second": ("placed_at", "2030-03-04T09:00:00.500000+00:00"),
}
COMMANDS = {
    "show": ("orders", "show", "ORD-0001"),
    "place": ("orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Lamp", "--amount", "3"),
    "tick": ("clock", "tick", "1h"),
}


def _unsealed_world(cli, db: Path, edit: str) -> bytes:
    """A world of two orders, written back by hand (so without ordercli's seal), ORD-0001 edited."""
    cli.json("clock", "set", START)
    cli.place()
    cli.place(buyer="bob")
    data = json.loads(db.read_bytes())
    del data["meta"]["1"]["seal"]
    field, value = HAND_EDITS[edit]
    data["orders"]["1"][field] = value
    raw = json.dumps(data).encode()
    db.write_bytes(raw)
    return raw


@pytest.mark.parametrize("edit", HAND_EDITS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_hand_edited_record_in_an_unsealed_file_is_refused_naming_record_and_field(cli, db, edit, command):
    raw = _unsealed_world(cli, db, edit)
    err = cli.json(*COMMANDS[command], code=5)
    field = HAND_EDITS[edit][0]
    assert err["code"] == "damaged_data", err
    assert re.search(rf"order ORD-0001: \w+ {field}\b", err["message"]), err["message"]
    assert db.read_bytes() == raw


@pytest.mark.parametrize("edit", HAND_EDITS)
def test_db_check_names_each_hand_edited_record_and_field(cli, db, edit):
    raw = _unsealed_world(cli, db, edit)
    err = cli.json("db", "check", code=5)
    assert err["code"] == "data_problems"
    assert re.search(rf"order ORD-0001: \w+ {HAND_EDITS[edit][0]}\b", err["message"]), err["message"]
    assert db.read_bytes() == raw


@pytest.mark.parametrize(
    "column, value",
    [
        ("currency", "XYZ"),
        ("amount", "5.5555"),
        ("seller", "alice"),
        ("quantity", 0),
        ("item", "m" * 5000),
        ("item", "Mug\x07"),
    ],
)
def test_an_import_row_with_the_same_values_is_exit_2(world, db, column, value):
    row = {"buyer": "alice", "seller": "acme", "item": "Mug", "amount": "19.99", "currency": "USD", column: value}
    before = db.read_bytes()
    result = world.runner.invoke(_app(), ["orders", "import", "-", "--json"], input=json.dumps(row) + "\n")
    assert result.exit_code == 2, result.stderr
    assert column in json.loads(result.stderr)["error"]["message"]
    assert db.read_bytes() == before


def _app():
    from ordercli.cli.app import app

    return app


@pytest.mark.parametrize("edit", ["currency-XYZ", "quantity-0", "fractional-second"])
def test_an_older_unsealed_world_with_a_hand_edited_record_is_refused_never_rewritten(cli, db, edit):
    """Schema 4 (tests/data/schema4), migrated on read: the checks run on the migrated records."""
    data = json.loads((ROOT / "tests/data/schema4/world.json").read_bytes())
    data["meta"]["1"].pop("seal", None)
    field, value = HAND_EDITS[edit]
    data["orders"]["1"][field] = value
    raw = json.dumps(data).encode()
    db.write_bytes(raw)
    for args in COMMANDS.values():
        err = cli.json(*args, code=5)
        assert err["code"] == "damaged_data" and "order ORD-0001: " in err["message"], err
        assert field in err["message"]
        assert db.read_bytes() == raw


def test_a_sealed_world_stays_trusted_and_is_not_checked_again(cli, db, monkeypatch):
    cli.json("clock", "set", START)
    cli.place()
    from ordercli.store import integrity as check

    def never(*args, **kwargs):
        raise AssertionError("a sealed world's records were checked")

    monkeypatch.setattr(check, "order_problems", never)
    monkeypatch.setattr(check, "first_problem", never)
    monkeypatch.setattr(check, "row_problem", never)
    assert cli.json("orders", "show", "ORD-0001")["currency"] == "USD"
    cli.json("clock", "tick", "1h")
    cli.place(buyer="bob")


# -- one declaration, four derivations -----------------------------------------------------------------


def test_every_declared_order_field_is_in_the_schema_the_columns_the_input_rules_and_the_stored_check():
    from ordercli.core import contract, validate
    from ordercli.core import model as R
    from ordercli.store import integrity as check

    schema = contract.load_schema("order")
    columns = contract.columns("order")
    stored = {f.name for f in R.stored_fields(R.Order)}
    sound = check.stored_checker(R.Order)
    for f in R.fields(R.Order):
        assert f.name in schema["properties"] and f.name in schema["required"], f.name
        assert f.name in columns or any(c.startswith(f"{f.name}.") for c in columns), f.name
        if f.input is not None:
            assert f.name in validate.record_input(R.Order, _good_input())
        if not f.derived:
            assert f.name in stored
            order = _stored_order()
            del order[f.name]
            assert not sound(order), f"the stored check does not miss {f.name}"
    # the input fields are the ones `orders place` takes
    assert [f.input.option or f.name for f in R.input_fields(R.Order)] == [
        "buyer",
        "seller",
        "item",
        "quantity",
        "amount",
        "currency",
        "payment",
    ]


def _good_input() -> dict:
    return {
        "buyer": "alice",
        "seller": "acme",
        "item": "Mug",
        "amount": "19.99",
        "currency": "USD",
        "payment": "card",
        "quantity": 1,
    }


def _stored_order() -> dict:
    data = json.loads((ROOT / "tests/data/schema4/world.json").read_bytes())
    order = data["orders"]["1"]
    order.update(packed_at=None, shipped_late=False, auto_cancel_by=None, seller_cancel=None)
    return order


def test_the_stored_check_refuses_what_the_input_rules_refuse_field_by_field():
    from ordercli.core import model as R
    from ordercli.store import integrity as check

    assert check.record_problems(R.Order, _stored_order()) == []
    for field, value in HAND_EDITS.values():
        order = {**_stored_order(), field: value}
        [problem] = check.record_problems(R.Order, order)
        assert problem.split()[1] == field, problem
    nested = _stored_order()
    nested["refund"] = {**nested["refund"], "amount": "5.5555"}
    assert check.record_problems(R.Order, nested)[0].startswith("malformed refund.amount '5.5555'")


@pytest.mark.parametrize(
    "name", ["order", "refund", "dispute", "event", "message", "notification", "clock", "clock-move"]
)
def test_the_shipped_schema_of_a_declared_record_is_the_one_generated_from_the_declaration(name):
    """Regenerate with `python tools/schemas.py` after changing src/ordercli/core/model.py."""
    from ordercli.core import contract

    shipped = (ROOT / "src/ordercli/schemas" / f"{name}.json").read_text(encoding="utf-8")
    assert shipped == contract.schema_text(name), f"{name}.json drifted: run python tools/schemas.py"


def test_the_default_table_columns_come_from_the_declaration_and_are_the_documented_ones():
    from ordercli.core import contract

    assert contract.table_columns("order") == (
        "id",
        "buyer",
        "seller",
        "item",
        "amount",
        "currency",
        "status",
        "next_deadline.kind",
        "next_deadline.at",
    )
    assert contract.table_columns("event") == ("seq", "at", "order_id", "kind", "actor", "details")
    cli_md = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    for kind in ("order", "event"):
        assert "table columns: " + ", ".join(f"`{c}`" for c in contract.table_columns(kind)) in cli_md
