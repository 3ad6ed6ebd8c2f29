"""Schema 5 (issue 19): every order stores packed_at, shipped_late, auto_cancel_by and seller_cancel.
An older world opens as it is and its first writing command saves its orders with the values that
mean "none of that"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ordercli.core.world import SCHEMA_VERSION
from ordercli.store.integrity import problems
from ordercli.store.migrations import _v4_to_v5

V010 = Path(__file__).parent.parent / "data" / "v010"
NEW_FIELDS = {"packed_at": None, "shipped_late": False, "auto_cancel_by": None, "seller_cancel": None}


def test_an_older_world_reads_unchanged_and_its_first_write_stores_the_new_fields(cli, db: Path) -> None:
    shutil.copyfile(V010 / "world.json", db)
    before = db.read_bytes()
    shown = cli.json("orders", "list")
    assert all({k: o[k] for k in NEW_FIELDS} == NEW_FIELDS for o in shown)
    assert db.read_bytes() == before
    cli.json("clock", "tick", "1h")
    data = json.loads(db.read_bytes())
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION == 5
    for order in data["orders"].values():
        assert {k: order[k] for k in NEW_FIELDS} == NEW_FIELDS
    assert problems(data) == []


def test_the_step_keeps_values_already_there_and_leaves_non_objects_for_the_checks() -> None:
    packed = {"id": "ORD-0001", "packed_at": "2030-03-04T09:00:00+00:00", "shipped_late": True}
    tables = {"orders": {"1": packed, "2": "junk"}}
    _v4_to_v5(tables)
    assert tables["orders"]["2"] == "junk"
    assert tables["orders"]["1"] == {**packed, "auto_cancel_by": None, "seller_cancel": None}


def test_a_schema_5_order_missing_a_new_field_is_damage(world, db: Path) -> None:
    world.place()
    data = json.loads(db.read_bytes())
    del data["orders"]["1"]["shipped_late"]
    assert problems(data) == ["order ORD-0001: missing shipped_late"]
