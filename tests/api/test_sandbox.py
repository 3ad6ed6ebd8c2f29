"""The Python API (`ordercli.Sandbox`): the objects `--json` prints, the errors the CLI reports,
the store's guarantees on a data file, worlds in memory, and a cheap `import ordercli`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ordercli
from ordercli import NotFound, Refused, Sandbox, UsageError
from ordercli.store.file import DataFile


def test_the_entry_point() -> None:
    assert "Sandbox" in ordercli.__all__
    assert ordercli.Sandbox is Sandbox
    assert issubclass(Refused, ordercli.OrderCliError)
    with pytest.raises(AttributeError):
        ordercli.NoSuchThing  # noqa: B018
    assert (Path(ordercli.__file__).parent / "py.typed").exists()


def test_import_ordercli_loads_nothing_else() -> None:
    code = "import sys, ordercli; print(sorted(m for m in sys.modules if m.startswith('ordercli')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['ordercli']"


def _story(api: Sandbox) -> list:
    """One story through the API; every object it returned."""
    o = api.place("alice", "acme", "Blue headset", "19.99")
    u = api.place("bob", "acme", "Mug", "5", unpaid=True, payment="alipay", quantity=2)
    return [
        o,
        u,
        api.cancel_request(o["id"], "shipping-delay", note="too slow"),
        api.clock_tick("12h"),
        api.seller_respond(o["id"], "reject", message="on its way"),
        api.pay(u["id"]),
        api.seller_ship(u["id"], tracking="LP1"),
        api.confirm(u["id"]),
        api.dispute_open(u["id"], "damaged"),
        api.dispute_resolve(u["id"], "refund"),
        api.clock_next(),
        api.order(o["id"]),
        api.orders(),
        api.refunds(),
        api.disputes(),
        api.events(),
        api.notifications(to="alice"),
        api.clock(),
        api.policy(),
    ]


def test_the_api_returns_what_json_prints(cli, db: Path, start) -> None:
    cli.json("clock", "set", start)
    printed = [
        cli.place(),
        cli.json("orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Mug", "--amount", "5",
                 "--unpaid", "--payment", "alipay", "--quantity", "2"),
        cli.json("cancel", "request", "ORD-0001", "--reason", "shipping-delay", "--note", "too slow"),
        cli.json("clock", "tick", "12h"),
        cli.json("seller", "respond", "ORD-0001", "reject", "--message", "on its way"),
        cli.json("orders", "pay", "ORD-0002"),
        cli.json("seller", "ship", "ORD-0002", "--tracking", "LP1"),
        cli.json("orders", "confirm", "ORD-0002"),
        cli.json("dispute", "open", "ORD-0002", "--reason", "damaged"),
        cli.json("dispute", "resolve", "ORD-0002", "refund"),
        cli.json("clock", "next"),
        cli.json("orders", "show", "ORD-0001"),
        cli.json("orders", "list"),
        cli.json("refund", "list"),
        cli.json("dispute", "list"),
        cli.json("events", "list"),
        cli.json("notifications", "list", "--to", "alice"),
        cli.json("clock", "show"),
        cli.json("policy", "show"),
    ]
    in_memory = _story(Sandbox(start=start))
    on_file = _story(Sandbox(db.parent / "api.json", start=start))
    # through JSON, as the CLI prints them: enums are their codes, nothing else differs
    assert json.loads(json.dumps(in_memory)) == printed
    assert json.loads(json.dumps(on_file)) == printed
    assert in_memory == printed  # str enums compare equal to their codes


@pytest.mark.parametrize("call, args, code, exit_code", [
    ("order", ("ORD-0042",), "order_not_found", 3),
    ("seller_ship", ("ORD-0001",), "already_shipped", 4),
    ("cancel_request", ("ORD-0001", "because"), "unknown_reason", 2),
    ("clock_tick", ("5x",), "bad_duration", 2),
    ("refund", ("ORD-0001",), "refund_not_found", 3),
    ("seller_ship", ("ORD-0001",), "already_shipped", 4),
])
def test_refusals_carry_the_cli_code_and_exit(cli, call: str, args: tuple, code: str, exit_code: int, start) -> None:
    cli.json("clock", "set", start)
    cli.place()
    cli.json("seller", "ship", "ORD-0001")
    world = Sandbox(start=start)
    world.place("alice", "acme", "Blue headset", "19.99")
    world.seller_ship("ORD-0001")
    with pytest.raises(ordercli.OrderCliError) as raised:
        getattr(world, call)(*args)
    assert (raised.value.code, raised.value.exit_code) == (code, exit_code)
    words = {"order": ["orders", "show"], "seller_ship": ["seller", "ship"], "clock_tick": ["clock", "tick"],
             "refund": ["refund", "status"], "cancel_request": ["cancel", "request"]}[call]
    extra = ["--reason", args[1]] if call == "cancel_request" else []
    err = cli.json(*words, args[0], *extra, code=exit_code)
    assert err["code"] == code


def test_inputs_are_named_by_parameter_in_the_api_and_by_option_in_the_cli(cli, start) -> None:
    with pytest.raises(UsageError) as raised:
        Sandbox(start=start).place("alice", "acme", "Mug", "1.999")
    assert raised.value.message.startswith("amount: ")
    with pytest.raises(UsageError) as raised:
        Sandbox(start=start).place("alice", "acme", "Mug", "1", actor="")
    assert raised.value.message == "actor: must not be empty"
    err = cli.json("orders", "place", "--buyer", "a", "--seller", "b", "--item", "c", "--amount", "1.999", code=2)
    assert err["message"].startswith("--amount: ")
    err = cli.json("orders", "place", "--buyer", "a", "--seller", "b", "--item", "c", "--amount", "1", "--as", "",
                   code=2)
    assert err["message"] == "--as: must not be empty"


def test_a_refused_call_leaves_the_data_file_as_it_was(tmp_path: Path, start) -> None:
    path = tmp_path / "w.json"
    world = Sandbox(path, start=start)
    world.place("alice", "acme", "Mug", "5")
    before = path.read_bytes()
    with pytest.raises(Refused):
        world.confirm("ORD-0001")
    with pytest.raises(UsageError):
        world.import_orders([{"buyer": "a", "seller": "b", "item": "c", "amount": "1"}, {"buyer": "x"}])
    assert path.read_bytes() == before


def test_a_refused_call_on_a_missing_file_creates_nothing(tmp_path: Path, start) -> None:
    world = Sandbox(tmp_path / "new" / "w.json", start=start)
    with pytest.raises(NotFound):
        world.pay("ORD-0001")
    with pytest.raises(Refused):
        world.clock_next()
    with pytest.raises(UsageError), world.transaction() as t:
        t.place("alice", "acme", "Mug", "5")
        t.place("bob", "acme", "Mug", "-5")
    assert list(tmp_path.iterdir()) == []
    world.clock()  # a read on a missing file creates nothing either
    assert list(tmp_path.iterdir()) == []


def test_a_world_created_by_another_process_meanwhile_is_never_written_over(tmp_path: Path, start) -> None:
    """A block on a missing file runs on a new world in memory first, then writes it under the lock only
    if the file is still missing: another writer's world is kept and the block writes nothing (exit 5,
    run it again), even when its answers would have been the same on that world (no replay)."""
    path = tmp_path / "w.json"
    with pytest.raises(ordercli.StorageError) as exc, Sandbox(path, start=start).transaction() as t:
        assert t.place("alice", "acme", "Mug", "5")["id"] == "ORD-0001"
        Sandbox(path, start=start).place("bob", "acme", "Lamp", "9")  # the other process, first to the lock
    assert exc.value.code == "database_busy" and exc.value.exit_code == 5
    assert "created" in exc.value.message and "nothing was written" in exc.value.message
    assert [o["buyer"] for o in Sandbox(path).orders()] == ["bob"]

    other = tmp_path / "other.json"
    with pytest.raises(ordercli.StorageError) as exc, Sandbox(other, start=start).transaction() as t:
        move = t.clock_tick("1h")  # the same answer on the other's world: still not done there
        Sandbox(other, start=start).place("bob", "acme", "Lamp", "9")
    assert move["fired"] == [] and exc.value.code == "database_busy"
    again = Sandbox(other)
    assert [o["buyer"] for o in again.orders()] == ["bob"]
    assert again.clock() == {"now": "2030-03-04T09:00:00+00:00"}, "the other's world, as it left it"


def test_a_block_on_a_file_still_missing_writes_the_world_it_made(tmp_path: Path, start) -> None:
    """The usual path: nobody created the file meanwhile, so the block's world is written as it left it,
    in one write, with the folder and the lock made only now."""
    path = tmp_path / "new" / "w.json"
    shop = Sandbox(path, start=start, policy="ebay")
    with shop.transaction() as t:
        mug = t.place("alice", "acme", "Mug", "5")
        assert not path.parent.exists(), "nothing is created while the block runs"
        t.seller_ship(mug["id"], tracking="T1")
        t.clock_tick("1h")
    kept = Sandbox(path)
    assert kept.order(mug["id"])["status"] == "shipped"
    assert kept.clock() == {"now": "2030-03-04T10:00:00+00:00"}
    assert kept.policy()["name"] == "ebay"
    assert [e["kind"] for e in kept.events()] == ["order_placed", "order_paid", "order_shipped"]


def test_each_call_reads_once_and_writes_once_and_a_transaction_once_for_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start
) -> None:
    reads: list[int] = []
    writes: list[int] = []
    real_read, real_write = DataFile.read, DataFile.write
    monkeypatch.setattr(DataFile, "read", lambda self: reads.append(1) or real_read(self))
    monkeypatch.setattr(DataFile, "write", lambda self, data: writes.append(1) or real_write(self, data))
    world = Sandbox(tmp_path / "w.json", start=start)
    world.place("alice", "acme", "Mug", "5")
    assert (len(reads), len(writes)) == (1, 1)
    world.order("ORD-0001")
    assert (len(reads), len(writes)) == (2, 1)  # a read writes nothing
    with world.transaction() as t:
        t.place("bob", "acme", "Lamp", "9")
        t.cancel_request("ORD-0001", "other")
        t.seller_respond("ORD-0001", "accept")
        t.clock_tick("1h")
    assert (len(reads), len(writes)) == (3, 2)
    with pytest.raises(Refused), world.transaction() as t:
        t.place("carol", "acme", "Cup", "3")
        t.seller_ship("ORD-0001")  # cancelled: the whole transaction is undone
    assert [o["buyer"] for o in world.orders()] == ["alice", "bob"]
    with pytest.raises(RuntimeError):
        t.clock()  # a session ends with its transaction


def test_a_file_keeps_its_own_clock_and_policy(tmp_path: Path, start) -> None:
    path = tmp_path / "w.json"
    Sandbox(path, start=start, policy="ebay").place("alice", "acme", "Mug", "5")
    again = Sandbox(path, start="2040-01-01T00:00:00Z", policy="aliexpress")
    assert again.clock() == {"now": "2030-03-04T09:00:00+00:00"}
    assert again.policy()["name"] == "ebay"
    fresh = Sandbox(path, start="2040-01-01T00:00:00Z", replace=True)
    assert fresh.orders() == [] and fresh.clock() == {"now": "2040-01-01T00:00:00+00:00"}


def test_in_memory_import_is_all_or_nothing(start) -> None:
    world = Sandbox(start=start)
    world.place("alice", "acme", "Mug", "5")
    with pytest.raises(UsageError) as raised:
        world.import_orders([{"buyer": "b", "seller": "s", "item": "i", "amount": "1"}, {"buyer": "b"}])
    assert raised.value.message == "line 2: missing 'seller'"
    assert [o["id"] for o in world.orders()] == ["ORD-0001"]
    assert len(world.events()) == 2  # placed and paid, nothing of the failed import
    assert world.import_orders([{"buyer": "b", "seller": "s", "item": "i", "amount": "1"}]) == {"imported": 1}
    assert world.order("ORD-0002")["buyer"] == "b"


def test_the_policy_is_chosen_before_the_first_order(start) -> None:
    world = Sandbox(start=start)
    assert world.use_policy("ebay")["name"] == "ebay"
    world.place("alice", "acme", "Mug", "5")
    with pytest.raises(Refused) as raised:
        world.use_policy("aliexpress")
    assert raised.value.code == "world_has_orders"


def test_history_handed_out_is_a_copy(start) -> None:
    world = Sandbox(start=start)
    world.place("alice", "acme", "Mug", "5")
    world.events()[0]["details"]["amount"] = "0.01"
    assert world.events()[0]["details"]["amount"] == "5.00"


def test_start_and_durations_as_python_values(start) -> None:
    from datetime import datetime, timedelta

    world = Sandbox(start=datetime(2030, 3, 4, 9))  # naive: UTC
    assert world.clock() == {"now": "2030-03-04T09:00:00+00:00"}
    assert world.clock_tick(timedelta(hours=2))["to"] == "2030-03-04T11:00:00+00:00"
    assert world.now == datetime.fromisoformat("2030-03-04T11:00:00+00:00")
    with pytest.raises(UsageError):
        world.clock_tick(timedelta(hours=-1))
    with pytest.raises(NotFound):
        world.deadlines("ORD-0001")
    with pytest.raises(UsageError) as raised:
        Sandbox(start=datetime(2030, 3, 4, 9, 0, 0, 500))
    assert raised.value.code == "bad_instant"  # the clock keeps whole seconds, as `clock set` does
    talk = Sandbox(start=start)
    talk.place("alice", "acme", "Mug", "5")
    assert talk.send_message("ORD-0001", "is it blue?", actor="alice") == {
        "order_id": "ORD-0001", "n": 1, "at": "2030-03-04T09:00:00+00:00", "from": "alice", "role": "buyer",
        "to": "acme", "text": "is it blue?"}
    assert [m["from"] for m in talk.messages("ORD-0001")] == ["alice"]
    with pytest.raises(Refused):
        talk.send_message("ORD-0001", "hi", actor="mallory")


def test_memory_and_file_worlds_fire_the_same_deadlines_in_the_same_order(tmp_path: Path, start) -> None:
    """The in-memory world keeps a deadline index across calls; a file world rebuilds it every
    call. The same commands must fire the same events, at the same instants, in the same order."""
    memory, disk = Sandbox(start=start), Sandbox(tmp_path / "w.json", start=start)
    for world in (memory, disk):
        for i in range(30):
            world.place(f"b{i}", "acme", "Mug", "5", unpaid=i % 5 == 0, payment="alipay" if i % 3 else "card")
            if i % 4 == 1:
                world.cancel_request(f"ORD-{i + 1:04d}", "other")
            elif i % 7 == 2:
                world.seller_ship(f"ORD-{i + 1:04d}")
            world.clock_tick("7h")
        world.clock_next()
        world.clock_tick("30d")
    assert memory.events() == disk.events()
    kinds = [e["kind"] for e in memory.events()]
    assert {"order_cancelled", "cancel_timed_out", "refund_started", "refund_completed"} <= set(kinds)
    assert not any(o["next_deadline"] for o in memory.orders() if o["status"] in ("cancelled", "completed"))


def test_an_in_memory_transaction_is_all_or_nothing(start) -> None:
    world = Sandbox(start=start)
    world.place("alice", "acme", "Mug", "5")
    with pytest.raises(Refused), world.transaction() as t:
        t.place("bob", "acme", "Lamp", "9")
        t.clock_tick("1h")
        t.confirm("ORD-0001")  # not shipped
    assert [o["buyer"] for o in world.orders()] == ["alice"]
    assert world.clock() == {"now": "2030-03-04T09:00:00+00:00"}
    assert world.place("carol", "acme", "Cup", "3")["id"] == "ORD-0002"  # the counter went back too


def test_a_reading_session_only_reads(tmp_path: Path, start) -> None:
    for world in (Sandbox(start=start), Sandbox(tmp_path / "w.json", start=start)):
        world.place("alice", "acme", "Mug", "5")
        with world.reading() as r:
            assert r.order("ORD-0001")["status"] == "awaiting_shipment"
            assert [d["kind"] for d in r.deadlines("ORD-0001")] == ["ship_by"]
            with pytest.raises(RuntimeError):
                r.seller_ship("ORD-0001")
        assert world.order("ORD-0001")["status"] == "awaiting_shipment"


def test_a_transaction_sees_its_own_new_notifications_through_a_filter(tmp_path: Path, start) -> None:
    """On a data file too, a filtered read inside a transaction includes what the transaction itself sent."""
    path = tmp_path / "w.json"
    world = Sandbox(path, start=start)
    world.place("alice", "acme", "Mug", "5")
    with world.transaction() as t:
        t.send_message("ORD-0001", "is it blue?", actor="alice")
        to_acme = t.notifications(to="acme")
        assert sorted((n["to"], n["channel"]) for n in to_acme) == [("acme", "app"), ("acme", "email")]
        assert t.notifications(to="alice") == []
    assert world.notifications(to="acme") == to_acme


def test_a_clock_move_reports_its_progress_every_thousand_firings(start) -> None:
    """`progress(fired, waiting)`: the deadlines fired so far, and those still due on the way."""
    world = Sandbox(start=start)
    world.import_orders({"buyer": f"b{i}", "seller": "acme", "item": "x", "amount": "5"} for i in range(2500))
    calls: list[tuple[int, int]] = []
    world.clock_tick("9d", progress=lambda fired, waiting: calls.append((fired, waiting)))
    assert calls == [(1000, 1500), (2000, 500)]


@pytest.mark.parametrize("instant", [12345, None, 3.5, b"2030-03-04T09:00:00Z", ["2030-03-04"], "", "  "])
def test_an_instant_that_is_not_text_is_bad_instant_through_the_api(instant: object, start) -> None:
    """The API's type hints say datetime or str, but Python does not enforce them: anything else is the
    same UsageError `bad_instant` as bad text (never an AttributeError from calling .strip() on it)."""
    shop = Sandbox(start=start)
    with pytest.raises(UsageError) as raised:
        shop.clock_set(instant)  # type: ignore[arg-type]
    assert raised.value.code == "bad_instant" and raised.value.exit_code == 2
    assert repr(instant) in raised.value.message
    if instant is not None:  # start=None is the wall clock
        with pytest.raises(UsageError) as raised:
            Sandbox(start=instant)  # type: ignore[arg-type]
        assert raised.value.code == "bad_instant"
    assert shop.clock() == {"now": "2030-03-04T09:00:00+00:00"}


def test_a_next_event_counter_pointing_at_an_existing_event_is_damage_never_an_overwrite(start) -> None:
    """History is append-only (R19): a world in memory whose next_event counter points at an event it
    holds (changed by hand through `Session.world`) refuses the next command as damaged data, the event
    kept as it was, and the transaction goes back to the world before it."""
    shop = Sandbox(start=start)
    shop.place("alice", "acme", "Mug", "5", unpaid=True)
    first = dict(shop.events()[0])
    with pytest.raises(ordercli.StorageError) as raised, shop.transaction() as t:
        t.world.meta["next_event"] = 1  # event 1 (order_placed) exists
        t.pay("ORD-0001")
    assert (raised.value.code, raised.value.exit_code) == ("damaged_data", 5)
    assert "next_event counter points at an existing event" in raised.value.message
    assert shop.events()[0] == first and len(shop.events()) == 1
    assert shop.pay("ORD-0001")["status"] == "awaiting_shipment"  # the world before the block: sound
    assert [e["seq"] for e in shop.events()] == [1, 2]
