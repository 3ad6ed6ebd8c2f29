"""Safe retries (docs/cli.md#safe-retries): `--idempotency-key KEY` and `idempotency_key=`, and the
data-file schema 4 that keeps the keys (migrated from every older schema, on real old files; schema 5,
issue 19's order fields, keeps them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ordercli.core.world import KEYS, SCHEMA_VERSION
from ordercli.store.integrity import problems

DATA = Path(__file__).parent.parent / "data"
OLD_WORLDS = {1: DATA / "schema1", 2: DATA / "v010", 3: DATA / "schema3"}
# The order fields schema 5 added (docs/rules.md R22, R25, R26): an older order shows them as "none of that".
SCHEMA_5_FIELDS = {"packed_at": None, "shipped_late": False, "auto_cancel_by": None, "seller_cancel": None}


def _as_listed_before_5(rows: list[dict]) -> list[dict]:
    """Orders as an ordercli before schema 5 listed them: the schema-5 fields, "none of that", left out."""
    for row in rows:
        if "status" in row and "buyer" in row:
            assert {k: row[k] for k in SCHEMA_5_FIELDS} == SCHEMA_5_FIELDS
    return [{k: v for k, v in row.items() if k not in SCHEMA_5_FIELDS} for row in rows]
PLACE = ["orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Mug", "--amount", "19.99"]


def _keys(db: Path) -> dict:
    table = json.loads(db.read_bytes())[KEYS]
    return table.get("1", {})


def _replayed(cli, args: list[str], key: str) -> tuple[dict, str]:
    result = cli(*args, "--idempotency-key", key, "--json")
    assert result.stderr.startswith(f"replayed: {key} (first done at "), result.stderr
    assert len(result.stderr.splitlines()) == 1
    return json.loads(result.stdout), result.stderr


# -- the done-when: a saved change whose output failed, retried, is done once ------------------------


def test_a_place_whose_output_failed_retried_with_its_key_leaves_one_order(cli, db: Path, run_process, start) -> None:
    cli.json("clock", "set", start)
    args = [*PLACE, "--idempotency-key", "order-42"]
    with open("/dev/full", "wb") as full:
        failed = subprocess.run(
            [sys.executable, "-m", "ordercli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
            timeout=60,
        )
    assert failed.returncode == 5, failed.stderr  # the output could not be written: the order was saved
    retried = run_process(*args, "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["id"] == "ORD-0001"
    assert b"replayed: order-42" in retried.stderr
    assert [o["id"] for o in cli.json("orders", "list")] == ["ORD-0001"]
    assert len(cli.json("events", "list")) == 2  # placed and paid, once


def test_writers_racing_with_one_key_place_one_order(cli, db: Path, start) -> None:
    cli.json("clock", "set", start)
    command = [sys.executable, "-m", "ordercli", *PLACE, "--idempotency-key", "race", "--json"]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    answers = [(p.communicate(timeout=60), p.returncode) for p in racers]
    assert all(code == 0 for _, code in answers), answers
    assert {json.loads(out)["id"] for (out, _), _ in answers} == {"ORD-0001"}
    assert sum(b"replayed: race" in err for (_, err), _ in answers) == 5, "the lock lets one do it, the rest replay"
    assert len(cli.json("orders", "list")) == 1


# -- every command that changes the world takes a key and replays -------------------------------------

Setup = Callable[[Any, Path], None]  # (cli, db)


def _place(c, t: Path, *extra: str) -> None:
    c.json(*PLACE, *extra)


def _requested(c, t: Path) -> None:
    _place(c, t)
    c.json("cancel", "request", "ORD-0001", "--reason", "second-thought")


def _refund(c, t: Path) -> None:
    _requested(c, t)
    c.json("seller", "respond", "ORD-0001", "accept")


def _shipped(c, t: Path) -> None:
    _place(c, t)
    c.json("seller", "ship", "ORD-0001")


def _shopee(c, t: Path) -> None:
    """A policy that uses packing and lets sellers cancel (docs/rules.md R22, R26)."""
    c.json("policy", "use", "shopee-my")
    _place(c, t)


def _ndjson(c, t: Path) -> None:
    rows = [{"buyer": "bob", "seller": "acme", "item": "Cup", "amount": "3"}] * 3
    (t / "in.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows))


COMMANDS: dict[str, tuple[Setup, list[str]]] = {
    "orders place": (lambda c, t: None, PLACE),
    "orders pay": (lambda c, t: _place(c, t, "--unpaid"), ["orders", "pay", "ORD-0001"]),
    "orders confirm": (_shipped, ["orders", "confirm", "ORD-0001"]),
    "orders import": (_ndjson, ["orders", "import", "IN"]),
    "cancel request": (_place, ["cancel", "request", "ORD-0001", "--reason", "second-thought"]),
    "cancel withdraw": (_requested, ["cancel", "withdraw", "ORD-0001"]),
    "seller respond": (_requested, ["seller", "respond", "ORD-0001", "accept", "--message", "ok"]),
    "seller ship": (_place, ["seller", "ship", "ORD-0001", "--tracking", "TRK1"]),
    "seller pack": (_shopee, ["seller", "pack", "ORD-0001"]),
    "seller cancel": (_shopee, ["seller", "cancel", "ORD-0001", "--reason", "out-of-stock", "--message", "sorry"]),
    "clock set": (lambda c, t: _place(c, t, "--unpaid"), ["clock", "set", "2030-03-10T09:00:00Z"]),
    "clock tick": (lambda c, t: _place(c, t, "--unpaid"), ["clock", "tick", "2d"]),
    "clock next": (lambda c, t: _place(c, t, "--unpaid"), ["clock", "next"]),
    "refund hold": (_refund, ["refund", "hold", "ORD-0001"]),
    "refund release": (
        lambda c, t: (_refund(c, t), c.json("refund", "hold", "ORD-0001")) and None,
        ["refund", "release", "ORD-0001"],
    ),
    "refund settle": (_refund, ["refund", "settle", "ORD-0001"]),
    "dispute open": (_shipped, ["dispute", "open", "ORD-0001", "--reason", "not-received"]),
    "dispute resolve": (
        lambda c, t: (_shipped(c, t), c.json("dispute", "open", "ORD-0001", "--reason", "damaged")) and None,
        ["dispute", "resolve", "ORD-0001", "refund"],
    ),
    "messages send": (_place, ["messages", "send", "ORD-0001", "where is it?", "--as", "alice"]),
    "policy use": (lambda c, t: None, ["policy", "use", "ebay"]),
}


def _args(args: list[str], tmp_path: Path) -> list[str]:
    return [str(tmp_path / "in.ndjson") if a == "IN" else a for a in args]


def test_the_commands_with_a_key_are_the_commands_that_change_the_world() -> None:
    from ordercli.core.idempotency import COMMANDS as KEYED

    assert set(KEYED) == set(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_done_once_per_key_and_replayed(command: str, world, db: Path, tmp_path: Path) -> None:
    setup, args = COMMANDS[command]
    setup(world, tmp_path)
    args = _args(args, tmp_path)
    first = world(*args, "--idempotency-key", "K1", "--json")
    assert "replayed" not in first.stderr
    kept = _keys(db)["K1"]
    assert kept["command"] == command
    before = db.read_bytes()
    again, _ = _replayed(world, args, "K1")
    assert again == json.loads(first.stdout), "nothing changed since: the replay answers as the first call did"
    assert db.read_bytes() == before, "a replay does not rewrite the data file"
    # a third time, for people: the same text, and still nothing written
    text = world(*args, "--idempotency-key", "K1")
    assert text.stderr.startswith("replayed: K1") and text.stdout
    assert db.read_bytes() == before
    assert world.json("db", "check")["idempotency_keys"] == 1


def test_a_replayed_place_shows_the_order_as_it_is_now(world, db: Path) -> None:
    placed = world.json(*PLACE, "--unpaid", "--idempotency-key", "p1")
    assert placed["status"] == "awaiting_payment"
    world.json("orders", "pay", "ORD-0001")
    now, _ = _replayed(world, [*PLACE, "--unpaid"], "p1")
    assert now == world.json("orders", "show", "ORD-0001")
    assert now["status"] == "awaiting_shipment"
    assert len(world.json("orders", "list")) == 1


def test_a_replayed_tick_shows_what_it_fired_and_keeps_only_a_range(world, db: Path) -> None:
    for _ in range(3):
        world.json(*PLACE, "--unpaid")
    tick = world.json("clock", "tick", "2d", "--idempotency-key", "t1")
    assert len(tick["fired"]) == 3 and tick["from"] == "2030-03-04T09:00:00+00:00"
    world.json("clock", "tick", "5d")  # the world moves on
    again, _ = _replayed(world, ["clock", "tick", "2d"], "t1")
    assert again == tick
    kept = _keys(db)["t1"]
    first_seq = tick["fired"][0]["seq"]
    assert kept["result"] == {"events": [first_seq, first_seq + 3], "from": tick["from"], "to": tick["to"]}
    assert world.json("clock", "show")["now"] == "2030-03-11T09:00:00+00:00", "the replay moved nothing"


def test_a_replayed_import_says_how_many_it_imported(world, tmp_path: Path) -> None:
    _ndjson(world, tmp_path)
    path = str(tmp_path / "in.ndjson")
    assert world.json("orders", "import", path, "--idempotency-key", "i1") == {"imported": 3}
    assert world("orders", "import", path, "--idempotency-key", "i1").stdout == "imported 3 orders\n"
    assert len(world.json("orders", "list")) == 3


def test_output_flags_are_not_part_of_the_command(world, db: Path) -> None:
    assert world(*PLACE, "-q", "--idempotency-key", "q").stdout == "ORD-0001\n"
    again, _ = _replayed(world, PLACE, "q")
    assert again["id"] == "ORD-0001"
    assert world(*PLACE, "-q", "--idempotency-key", "q").stdout == "ORD-0001\n"
    assert len(world.json("orders", "list")) == 1


# -- conflicts, refusals, bad keys --------------------------------------------------------------------


def test_the_same_key_with_other_values_or_another_command_is_a_conflict(world, db: Path) -> None:
    world.json(*PLACE, "--idempotency-key", "K")
    other_amount = [*PLACE[:-1], "20.00", "--idempotency-key", "K"]
    err = world.refused_unchanged(db, *other_amount, code=2)
    assert err["code"] == "idempotency_conflict"
    assert "'K'" in err["message"] and "orders place" in err["message"] and "other values" in err["message"]
    err = world.refused_unchanged(db, "clock", "tick", "1h", "--idempotency-key", "K", code=2)
    assert err["code"] == "idempotency_conflict" and "another command" in err["message"]
    err = world.refused_unchanged(db, *PLACE, "--as", "alice", "--idempotency-key", "K", code=2)
    assert err["code"] == "idempotency_conflict", "--as is a value of the command"
    assert len(world.json("orders", "list")) == 1


def test_a_refused_first_call_keeps_nothing_and_a_retry_is_judged_afresh(world, db: Path) -> None:
    world.refused_unchanged(db, "orders", "pay", "ORD-0001", "--idempotency-key", "pay-1", code=3)
    world.json(*PLACE, "--unpaid")
    world.refused_unchanged(db, "cancel", "withdraw", "ORD-0001", "--idempotency-key", "w", code=4)
    assert _keys(db) == {}
    paid = world("orders", "pay", "ORD-0001", "--idempotency-key", "pay-1", "--json")
    assert "replayed" not in paid.stderr and json.loads(paid.stdout)["status"] == "awaiting_shipment"
    world.json("clock", "tick", "1h", "--idempotency-key", "w")  # w was never kept: free for anything
    assert set(_keys(db)) == {"pay-1", "w"}


@pytest.mark.parametrize("key", ["", "x" * 256, "a\x01b", "line\nbreak", "tab\there", "del\x7f"])
def test_a_bad_key_is_refused_before_anything(key: str, world, db: Path) -> None:
    err = world.refused_unchanged(db, *PLACE, "--idempotency-key", key, code=2)
    assert err["code"] == "bad_value" and err["message"].startswith("--idempotency-key: ")
    assert world.json("orders", "list") == []


def test_a_long_key_of_any_text_is_fine(world, db: Path) -> None:
    for key in ("x" * 255, "  spaced  ", "clé-🔑", "platform"):
        world.json("clock", "tick", "1h", "--idempotency-key", key)
        _replayed(world, ["clock", "tick", "1h"], key)
    assert len(_keys(db)) == 4


def test_a_command_without_a_key_never_looks_at_the_keys(world, monkeypatch: pytest.MonkeyPatch) -> None:
    from ordercli.core.world import World
    from ordercli.store.tinyworld import TinyWorld

    def looked(*_: object) -> None:
        raise AssertionError("a command without a key looked at the keys")

    for cls in (World, TinyWorld):
        monkeypatch.setattr(cls, "key_record", looked)
    world.json(*PLACE)
    world.json("clock", "tick", "1d")
    world.json("cancel", "request", "ORD-0001", "--reason", "second-thought")


# -- the keys live in the world -------------------------------------------------------------------------


def test_keys_survive_backup_and_restore(world, db: Path, tmp_path: Path) -> None:
    world.json(*PLACE, "--idempotency-key", "b1")
    backup = tmp_path / "b.json"
    world.json("db", "backup", str(backup))
    other = tmp_path / "other.json"
    world.json("--db", str(other), "db", "restore", str(backup))
    again, _ = _replayed(world, ["--db", str(other), *PLACE], "b1")
    assert again["id"] == "ORD-0001"
    assert world.json("--db", str(other), "db", "check")["idempotency_keys"] == 1
    assert len(world.json("--db", str(other), "orders", "list")) == 1


def test_db_check_counts_the_keys_and_names_a_damaged_one(world, db: Path) -> None:
    assert world.json("db", "check")["idempotency_keys"] == 0
    world.json(*PLACE, "--idempotency-key", "a")
    world.json("clock", "tick", "1h", "--idempotency-key", "b")
    _replayed(world, ["clock", "tick", "1h"], "b")
    report = world.json("db", "check")
    assert report["idempotency_keys"] == 2 and report["schema"] == SCHEMA_VERSION == 5
    assert world("db", "check").stdout.endswith(", 2 idempotency keys\n")
    data = json.loads(db.read_bytes())
    data["meta"]["1"].pop("seal", None)
    data[KEYS]["1"]["a"]["result"]["events"] = [1, 99]
    db.write_text(json.dumps(data))
    err = world.json("db", "check", code=5)
    assert err["code"] == "data_problems"
    assert "idempotency key 'a': its events are past next_event" in err["message"]
    # the damaged file is refused, also by a replay
    err = world.refused_unchanged(db, *PLACE, "--idempotency-key", "a", code=5)
    assert err["code"] == "damaged_data"


def test_the_checks_name_malformed_key_records() -> None:
    from ordercli.store.migrations import migrate

    tables = json.loads((DATA / "schema3" / "world.json").read_text())
    migrate(tables)  # to the current schema: its orders as the checks want them, and a keys table
    good = {
        "command": "orders pay",
        "fingerprint": "0" * 64,
        "at": "2030-03-04T09:00:00+00:00",
        "result": {"events": [1, 2], "order": "ORD-0001"},
    }
    for record, expected in [
        (good, None),
        ("junk", "idempotency key 'k': not an object"),
        ({**good, "command": "orders list"}, "idempotency key 'k': unknown command 'orders list'"),
        ({**good, "fingerprint": 5}, "idempotency key 'k': malformed fingerprint 5"),
        ({**good, "result": {"events": [2, 1], "order": "ORD-0001"}}, "idempotency key 'k': malformed events [2, 1]"),
        ({**good, "result": {"events": [1, 2]}}, "idempotency key 'k': missing order"),
    ]:
        tables[KEYS] = {"1": {"k": record}}
        assert problems(tables) == ([] if expected is None else [expected])
    tables[KEYS] = {"2": {}}
    assert problems(tables) == ["idempotency: not one document (id 1) of keys"]


def test_a_scenario_world_starts_without_keys(tmp_path: Path, cli, start) -> None:
    scenario = tmp_path / "keys.scenario.yaml"
    scenario.write_text(
        "name: keys\nstart: 2030-03-04T09:00:00Z\nsteps:\n"
        "  - run: orders place --buyer a --seller b --item c --amount 1 --idempotency-key k\n"
        "    expect: {id: ORD-0001}\n"
        "  - run: orders place --buyer a --seller b --item c --amount 1 --idempotency-key k\n"
        "    expect: {id: ORD-0001}\n"
        "  - run: orders place --buyer a --seller b --item c --amount 1\n"
        "    expect: {id: ORD-0002}\n"
    )
    kept = tmp_path / "kept.json"
    for _ in range(2):  # each run starts afresh: the key of the last run is not in the new world
        kept.unlink(missing_ok=True)
        cli("scenario", "run", str(scenario), "--db", str(kept))
        assert set(_keys(kept)) == {"k"}
    from ordercli.api import Sandbox

    with Sandbox(start=start).transaction() as s:  # a world in memory: its keys table is there, empty
        assert s.world.tables[KEYS] == {}


# -- the Python API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("on_file", [False, True], ids=["memory", "file"])
def test_the_api_takes_idempotency_key_and_says_replayed(on_file: bool, tmp_path: Path, start) -> None:
    from ordercli import Sandbox
    from ordercli.core.errors import UsageError

    s = Sandbox(tmp_path / "w.json" if on_file else None, start=start)
    first = s.place("alice", "acme", "Mug", "19.99", quantity=2, idempotency_key="K")
    assert s.replayed is None
    again = s.place("alice", "acme", "Mug", "19.99", quantity="2", idempotency_key="K")  # 2 is "2"
    assert again == first
    assert s.replayed == {"key": "K", "command": "orders place", "at": "2030-03-04T09:00:00+00:00"}
    assert len(s.orders()) == 1
    s.clock_tick("1h")
    assert s.replayed is None, "each call that changes the world says whether it replayed"
    with pytest.raises(UsageError) as caught:
        s.place("alice", "acme", "Mug", "5", idempotency_key="K")
    assert caught.value.code == "idempotency_conflict" and caught.value.exit_code == 2
    with pytest.raises(UsageError) as caught:
        s.clock_tick("1h", idempotency_key="")
    assert caught.value.code == "bad_value"
    move = s.clock_tick("1d", idempotency_key="T")
    assert s.clock_tick("1d", idempotency_key="T") == move and s.replayed is not None
    with s.transaction() as session:
        session.place("bob", "acme", "Cup", "3", idempotency_key="K2")
        assert session.replayed is None  # a session says it too
        session.place("bob", "acme", "Cup", "3", idempotency_key="K2")
        assert session.replayed is not None and session.replayed["key"] == "K2"
    assert len(s.orders()) == 2


# -- schema 4: the migration from every older schema, on real old files ----------------------------------


@pytest.mark.parametrize("schema", sorted(OLD_WORLDS))
def test_a_world_of_every_older_schema_reads_as_it_did_and_migrates_on_a_write(schema: int, cli, db: Path) -> None:
    folder = OLD_WORLDS[schema]
    shutil.copyfile(folder / "world.json", db)
    before = db.read_bytes()
    assert json.loads(before)["meta"]["1"]["schema"] == schema
    listed = {
        what: json.loads((folder / f"{what}.json").read_text())
        for what in ("events", "notifications") + (("orders",) if schema != 2 else ())
    }
    for what, rows in listed.items():
        assert _as_listed_before_5(cli.json(what, "list")) == rows
    report = cli.json("db", "check")
    assert report["ok"] and report["schema"] == schema and report["idempotency_keys"] == 0
    assert db.read_bytes() == before, "reading an older file leaves it byte for byte"
    # a refused keyed write writes nothing, not even the migration
    cli.refused_unchanged(db, "orders", "pay", "ORD-0001", "--idempotency-key", "K", code=4)

    placed = cli.json(*PLACE, "--idempotency-key", "K")
    data = json.loads(db.read_bytes())
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION == 5
    assert list(data[KEYS]["1"]) == ["K"]
    assert problems(data) == []
    for what, rows in listed.items():
        now = _as_listed_before_5(cli.json(what, "list"))
        assert now[: len(rows)] == rows, f"{what}: the migration keeps the old history"
    migrated = db.read_bytes()
    again, _ = _replayed(cli, PLACE, "K")
    assert again == placed and db.read_bytes() == migrated
    assert cli.json("db", "check")["idempotency_keys"] == 1


def test_migrations_reach_the_current_schema_in_one_list() -> None:
    from ordercli.store.migrations import MIGRATIONS, migrate

    assert len(MIGRATIONS) == SCHEMA_VERSION - 1 == 4
    tables = json.loads((DATA / "schema3" / "world.json").read_text())
    migrate(tables)
    assert tables["meta"]["1"]["schema"] == 5 and tables[KEYS] == {}


def test_a_schema_4_world_keeps_its_keys_through_the_migration_and_they_still_replay(cli, db: Path) -> None:
    folder = DATA / "schema4"
    shutil.copyfile(folder / "world.json", db)
    before = db.read_bytes()
    listed = {what: json.loads((folder / f"{what}.json").read_text()) for what in ("orders", "events", "notifications")}
    for what, rows in listed.items():
        assert _as_listed_before_5(cli.json(what, "list")) == rows
    report = cli.json("db", "check")
    assert report["ok"] and report["schema"] == 4 and report["idempotency_keys"] == 3
    assert db.read_bytes() == before, "reading an older file leaves it byte for byte"
    # a keyed replay changes nothing in the world (a writing command on an older file may still save
    # the migration, as every writing command does)
    listed_before = cli.json("events", "list"), cli.json("clock", "show")
    replayed = cli.json(*PLACE, "--idempotency-key", "first-mug")
    assert replayed["id"] == "ORD-0001" and replayed["status"] == "cancelled"  # as it is now
    assert (cli.json("events", "list"), cli.json("clock", "show")) == listed_before
    cli.json("clock", "tick", "1h", "--idempotency-key", "new-tick")
    data = json.loads(db.read_bytes())
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION == 5
    assert list(data[KEYS]["1"]) == ["first-mug", "accept-1", "tick-4d", "new-tick"]
    assert problems(data) == []
    moved = cli.json("clock", "tick", "4d", "--idempotency-key", "tick-4d")  # replayed from schema 4's record
    assert (moved["from"], moved["to"]) == ("2030-03-04T09:00:00+00:00", "2030-03-08T09:00:00+00:00")
    assert moved["fired"] == [e for e in listed["events"] if 15 <= e["seq"] < 19]  # its stored range [15, 19)
    assert [e["seq"] for e in moved["fired"]] == [15, 16, 17, 18]
    conflict = cli.refused_unchanged(db, "clock", "tick", "5d", "--idempotency-key", "tick-4d", code=2)
    assert conflict["code"] == "idempotency_conflict"


def test_a_schema_4_file_without_its_keys_table_is_not_ordercli_data(cli, db: Path, start) -> None:
    cli.json("clock", "set", start)
    data = json.loads(db.read_bytes())
    del data[KEYS]
    data["meta"]["1"].pop("seal", None)
    db.write_text(json.dumps(data))
    assert cli.json("clock", "show", code=5)["code"] == "not_ordercli_data"
