"""Schema 3: a notice is stored once, with the channels it went out on, and listed once per channel.

The world written by 0.1.0 (tests/data/v010) opens as it is: reading commands list exactly what 0.1.0
listed and leave the file byte for byte; the first writing command saves it as the current schema."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ordercli.core.world import CHANNELS, SCHEMA_VERSION
from ordercli.store.integrity import problems
from ordercli.store.migrations import _v2_to_v3

V010 = Path(__file__).parent.parent / "data" / "v010"


def _v010_world(db: Path) -> bytes:
    shutil.copyfile(V010 / "world.json", db)
    return db.read_bytes()


def test_a_0_1_0_world_reads_as_0_1_0_listed_it_and_stays_byte_for_byte(cli, db: Path) -> None:
    before = _v010_world(db)
    assert json.loads(before)["meta"]["1"]["schema"] == 2
    assert cli.json("notifications", "list") == json.loads((V010 / "notifications.json").read_text())
    assert cli.json("events", "list") == json.loads((V010 / "events.json").read_text())
    alice = [n for n in json.loads((V010 / "notifications.json").read_text()) if n["to"] == "alice"]
    assert alice and cli.json("notifications", "list", "--to", "alice") == alice
    report = cli.json("db", "check")
    assert report["ok"] and report["schema"] == 2 and report["notifications"] == 18
    assert db.read_bytes() == before


def test_the_first_write_saves_a_0_1_0_world_as_schema_3(cli, db: Path) -> None:
    _v010_world(db)
    listed = json.loads((V010 / "notifications.json").read_text())
    cli.json("clock", "tick", "1h")
    data = json.loads(db.read_bytes())
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION == 5  # schema 3's notices, 4's keys, 5's order fields
    notices = data["notifications"]
    assert list(notices) == [str(i) for i in range(1, 10)], "18 rows, two per notice, become 9 notices"
    assert all(n["channels"] == ["email", "app"] and "channel" not in n for n in notices.values())
    assert [n["seq"] for n in notices.values()] == list(range(1, 18, 2))
    assert notices["1"] == {
        "seq": 1, "at": listed[0]["at"], "to": listed[0]["to"], "role": listed[0]["role"], "channels": ["email", "app"],
        "order_id": listed[0]["order_id"], "kind": listed[0]["kind"], "message": listed[0]["message"],
    }
    assert cli.json("notifications", "list") == listed
    assert cli.json("db", "check")["notifications"] == 18
    # and it goes on numbering where 0.1.0 stopped
    cli.json("orders", "place", "--buyer", "erin", "--seller", "acme", "--item", "Cup", "--amount", "3")
    cli.json("cancel", "request", "ORD-0005", "--reason", "second-thought")
    new = cli.json("notifications", "list")[18:]
    assert [(n["seq"], n["channel"], n["to"]) for n in new] == [(19, "email", "acme"), (20, "app", "acme")]
    assert json.loads(db.read_bytes())["notifications"]["10"]["seq"] == 19
    assert problems(json.loads(db.read_bytes())) == []


def test_a_notice_is_one_row_and_two_notifications(world, db: Path) -> None:
    world.place()
    world.json("cancel", "request", "ORD-0001", "--reason", "second-thought")
    rows = json.loads(db.read_bytes())["notifications"]
    assert len(rows) == 1 and rows["1"]["channels"] == list(CHANNELS) == ["email", "app"]
    assert [(n["seq"], n["channel"]) for n in world.json("notifications", "list")] == [(1, "email"), (2, "app")]


def _row(seq: int, channel: str, message: str = "hello", **extra: object) -> dict:
    return {"seq": seq, "at": "2030-03-04T09:00:00+00:00", "to": "alice", "role": "buyer", "channel": channel,
            "order_id": "ORD-0001", "kind": "message_received", "message": message, **extra}


def _migrated(rows: list) -> list:
    tables = {"notifications": {str(i): r for i, r in enumerate(rows, start=1)}}
    _v2_to_v3(tables)
    assert list(tables["notifications"]) == [str(i) for i in range(1, len(tables["notifications"]) + 1)]
    return list(tables["notifications"].values())


def test_migration_joins_the_channels_of_one_notice_and_only_those() -> None:
    # the same words twice at one instant are two notices: a channel never repeats within one
    got = _migrated([_row(1, "email"), _row(2, "app"), _row(3, "email"), _row(4, "app")])
    assert [(n["seq"], n["channels"]) for n in got] == [(1, ["email", "app"]), (3, ["email", "app"])]
    assert list(got[0]) == ["seq", "at", "to", "role", "channels", "order_id", "kind", "message"]
    # different words, or a gap in seq, start a new notice; a lone channel is a notice of its own
    got = _migrated([_row(1, "email"), _row(2, "app", "other"), _row(4, "email"), _row(5, "app")])
    assert [(n["seq"], n["channels"]) for n in got] == [(1, ["email"]), (2, ["app"]), (4, ["email", "app"])]
    got = _migrated([_row(1, "email"), _row(3, "app")])  # the same words, but seq 2 is missing
    assert [(n["seq"], n["channels"]) for n in got] == [(1, ["email"]), (3, ["app"])]


def test_migration_carries_a_broken_row_over_for_the_checks_to_name() -> None:
    broken = {"seq": "two", "channel": "app"}
    got = _migrated([_row(1, "email"), "junk", broken, _row(3, "app")])
    assert got[1:3] == ["junk", broken]
    assert got[3]["channels"] == ["app"]
    assert _migrated([_row(1, 5)]) == [_row(1, 5)]  # a channel that is not text is carried over
    no_seq, half = _row("x", "email"), {"seq": 2, "channel": "app"}  # a text seq; fields missing
    assert _migrated([no_seq, _row(2, "app"), half, _row(3, "email")]) == [
        no_seq, {**{k: v for k, v in _row(2, "app").items() if k != "channel"}, "channels": ["app"]}, half,
        {**{k: v for k, v in _row(3, "email").items() if k != "channel"}, "channels": ["email"]},
    ]
    tables = {
        "meta": {"1": {"clock": "2030-03-04T09:00:00+00:00", "next_order": 1, "next_event": 1,
                       "next_notification": 3, "policy": {"name": "aliexpress", "values": {}}}},
        "orders": {}, "events": {}, "notifications": {"1": got[0], "2": got[1]},
    }
    found = [p for p in problems(tables) if p.startswith("notifications")]
    assert found == ["notifications: seq 2 is missing, duplicated or out of order"]  # "junk", named by place


def test_checks_hold_notices_to_their_numbering() -> None:
    notice = {"seq": 1, "at": "2030-03-04T09:00:00+00:00", "to": "alice", "role": "buyer",
              "channels": ["email", "app"], "order_id": "ORD-0001", "kind": "request_received", "message": "m"}
    meta = {"clock": "2030-03-04T09:00:00+00:00", "next_order": 1, "next_event": 1, "next_notification": 5,
            "policy": {"name": "aliexpress", "values": {}}}

    def found(*rows: dict, counter: int = 5) -> list[str]:
        tables = {"meta": {"1": {**meta, "next_notification": counter}}, "orders": {}, "events": {},
                  "notifications": {str(i): r for i, r in enumerate(rows, start=1)}}
        return [p for p in problems(tables) if "notification" in p]

    assert found(notice, {**notice, "seq": 3}) == []
    assert found(notice, {**notice, "seq": 2}) == ["notifications: seq 3 is missing, duplicated or out of order"]
    assert found(notice, {**notice, "seq": 3}, counter=4) == [
        "meta: next_notification does not follow the notifications table"
    ]
    for channels in ([], ["email", "email"], ["fax"], "email"):
        [problem] = found({**notice, "channels": channels}, counter=3)
        assert problem.startswith(f"notifications 1: malformed channels {channels!r}")


def test_a_world_in_memory_keeps_the_same_layout() -> None:
    from ordercli import Sandbox

    s = Sandbox(start="2030-03-04T09:00:00Z")
    for buyer in ("alice", "bob"):
        s.place(buyer, "acme", "Mug", "5")
    for oid in ("ORD-0001", "ORD-0002"):
        s.cancel_request(oid, "second-thought")
    listed = s.notifications()
    with s.transaction() as session:
        w = session.world
        notices = w.notifications
        assert list(notices) == ["1", "2"] and [n["seq"] for n in notices.values()] == [1, 3]
        second = w.find_notifications(order_id="ORD-0002")
        assert [(n["seq"], n["channel"]) for n in second] == [(3, "email"), (4, "app")]
        assert w.find_notifications(to="acme", order_id="ORD-0001") == listed[:2]
        assert w.find_notifications(to="alice") == []


def test_a_world_whose_notice_ids_have_a_gap_is_damaged_not_written_over() -> None:
    import pytest

    from ordercli.core.errors import StorageError
    from ordercli.core.presets import default
    from ordercli.core.world import World, empty_tables

    tables = empty_tables(datetime(2030, 3, 4, 9, tzinfo=UTC), default().meta())
    w = World(tables)
    w.add_order({"buyer": "alice", "seller": "acme", "status": "awaiting_shipment"})
    w.notify(w.order("ORD-0001"), "buyer", "k", "one")
    tables["notifications"]["3"] = tables["notifications"].pop("1")  # ids 3 only: the next would be 2 ... then 3
    w.notify(w.order("ORD-0001"), "buyer", "k", "two")
    with pytest.raises(StorageError) as raised:
        w.notify(w.order("ORD-0001"), "buyer", "k", "three")
    assert raised.value.code == "damaged_data"
    assert [n["message"] for n in tables["notifications"].values()] == ["one", "two"]
