"""The speed machinery's caches and global state, each with the invariant it relies on
(docs/architecture.md "what each cache assumes"): a test here fails when an invariant breaks."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from ordercli import Sandbox, engine
from ordercli.errors import OrderCliError
from ordercli.world import World

START = "2030-03-04T09:00:00Z"  # a Monday


def _world_of(shop: Sandbox) -> World:
    return shop._world  # type: ignore[return-value]  # an in-memory Sandbox's own world


# -- the engine's deadline index: on the world it indexes -------------------------------------------


def _every_command(shop: Sandbox) -> list[tuple[str, Callable[[], Any]]]:
    """A day in a shop on the amazon preset (packing off, sellers may cancel): every command that
    moves an order's deadlines, in an order the rules accept."""
    return [
        ("place unpaid", lambda: shop.place("ann", "acme", "Mug", "5", unpaid=True)),
        ("place", lambda: shop.place("bob", "acme", "Lamp", "9")),
        ("place", lambda: shop.place("cy", "acme", "Cup", "3")),
        ("place", lambda: shop.place("dee", "acme", "Pen", "2")),
        ("place", lambda: shop.place("eve", "acme", "Hat", "4")),
        ("clock next", lambda: shop.clock_tick("1h")),
        ("pay", lambda: shop.pay("ORD-0001")),
        ("cancel request", lambda: shop.cancel_request("ORD-0002", "second-thought")),
        ("seller respond", lambda: shop.seller_respond("ORD-0002", "accept")),
        ("cancel request", lambda: shop.cancel_request("ORD-0003", "second-thought")),
        ("cancel withdraw", lambda: shop.cancel_withdraw("ORD-0003")),
        ("seller ship", lambda: shop.seller_ship("ORD-0003", tracking="T1")),
        ("seller cancel", lambda: shop.seller_cancel("ORD-0004", "out-of-stock")),
        ("refund hold", lambda: shop.refund_hold("ORD-0002")),
        ("refund release", lambda: shop.refund_release("ORD-0002")),
        ("confirm", lambda: shop.confirm("ORD-0003")),
        ("clock tick", lambda: shop.clock_tick("2d")),
        ("clock next", lambda: shop.clock_next()),
        ("clock next", lambda: shop.clock_next()),
    ]


def test_the_deadline_index_keeps_every_pending_deadline_after_every_command() -> None:
    """The index's invariant (engine.DeadlineIndex): every pending deadline of every order is queued,
    whatever command changed the order last."""
    shop = Sandbox(start=START, policy="amazon")
    world = _world_of(shop)
    index = engine.deadline_index(world)  # built now, empty: from here on every command must keep it
    for name, command in _every_command(shop):
        try:
            command()
        except OrderCliError as exc:  # the script must stay in the rules: a refusal is a broken test
            pytest.fail(f"{name}: {exc}")
        assert _world_of(shop) is world and world.deadline_index is index
        assert index.missing(world) == [], f"after {name}"
    assert {o["status"] for o in shop.orders()} >= {"cancelled", "completed"}


def test_an_index_that_lost_a_deadline_is_told_by_missing() -> None:
    """`missing` can fail: an order edited by hand behind the engine's back is named."""
    shop = Sandbox(start=START)
    shop.place("ann", "acme", "Mug", "5", unpaid=True)
    world = _world_of(shop)
    index = engine.deadline_index(world)
    assert index.missing(world) == []
    world.order("ORD-0001")["pay_by"] = "2030-03-04T10:00:00+00:00"  # not through a command
    assert [(oid, kind) for oid, kind, _ in index.missing(world)] == [("ORD-0001", "pay_by")]


def test_each_world_has_its_own_deadline_index_and_takes_it_along_when_it_goes() -> None:
    first, second = Sandbox(start=START), Sandbox(start=START)
    first.place("ann", "acme", "Mug", "5", unpaid=True)
    second.place("bob", "acme", "Lamp", "9")
    a, b = _world_of(first), _world_of(second)
    assert a.deadline_index is None  # a command alone builds none: only a clock move needs one
    first.clock_tick("1h")
    second.clock_tick("1h")
    assert a.deadline_index is not None and b.deadline_index is not None
    assert a.deadline_index is not b.deadline_index
    registries = [
        name
        for name, v in vars(engine).items()
        if isinstance(v, (dict, weakref.WeakKeyDictionary, list, set)) and not name.startswith("__")
    ]
    assert registries == ["_KIND_RANK"], "the engine keeps no module-level registry (a constant table only)"
    gone = weakref.ref(a.deadline_index)
    del first, a
    assert gone() is None, "the index is freed with its world (no registry holds it)"


def test_a_rolled_back_transaction_leaves_a_world_without_a_stale_index() -> None:
    """In memory, a transaction that raises goes back to a copy of the world: that copy starts without
    an index, so deadlines the failed block superseded (then dropped from the index) still fire."""
    shop = Sandbox(start=START)
    shop.place("ann", "acme", "Mug", "5")
    shop.clock_tick("1h")
    with pytest.raises(OrderCliError), shop.transaction() as t:
        t.seller_ship("ORD-0001")
        t.clock_next()  # drops the superseded ship_by from the index
        t.confirm("ORD-0042")
    world = _world_of(shop)
    assert world.deadline_index is None
    assert shop.order("ORD-0001")["status"] == "awaiting_shipment"
    move = shop.clock_next()
    assert [e["kind"] for e in move["fired"]][:1] == ["order_cancelled"], move
    assert shop.order("ORD-0001")["end_reason"] == "ship_timeout"


# -- gc: the CLI's process only ----------------------------------------------------------------------


def _gc_state() -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def test_a_library_users_gc_is_left_as_it_was_by_every_kind_of_sandbox_call(tmp_path) -> None:
    """gc.disable/freeze is the CLI's process's business (store.CommandProcess): a program using
    Sandbox keeps its cycle collector on and its frozen generation as it was, on a data file or in
    memory, after calls that succeed and calls that raise."""
    from ordercli.tinydb_storage import AtomicJSONStorage, TinyDB

    before = _gc_state()
    assert before[0], "the test process runs with the collector on"
    path = tmp_path / "shop.json"
    for shop in (Sandbox(start=START), Sandbox(path, start=START)):  # on a missing file first
        with shop.transaction() as t:
            t.place("ann", "acme", "Mug", "5")
            t.clock_tick("1h")
        shop.place("bob", "acme", "Lamp", "9")
        shop.import_orders([{"buyer": f"b{i}", "seller": "acme", "item": "Pen", "amount": "2"} for i in range(300)])
        shop.clock_tick("9d")
        with pytest.raises(OrderCliError):
            shop.confirm("ORD-9999")
        with pytest.raises(OrderCliError), shop.transaction() as t:
            t.place("cy", "acme", "Cup", "3")
            t.confirm("ORD-9999")
        with shop.reading() as r:
            assert len(r.orders()) == 302
        assert shop.order("ORD-0001")["status"] == "cancelled"
        assert _gc_state() == before, shop
    with TinyDB(path, storage=AtomicJSONStorage) as tdb:  # the README's way for scripts
        assert len(tdb.table("orders")) == 302
    assert _gc_state() == before


def test_the_cli_pauses_the_collector_while_it_reads_its_data_file(
    cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The other side: a command's process does pause it (the speed the issue-9 goals rely on), and
    puts it back on when the command is over; the same read through Sandbox does not touch it."""
    from ordercli.store.file import DataFile

    seen: list[bool] = []
    real = DataFile.parse
    monkeypatch.setattr(DataFile, "parse", lambda self, raw: seen.append(gc.isenabled()) or real(self, raw))
    cli.json("orders", "place", "--buyer", "ann", "--seller", "acme", "--item", "Mug", "--amount", "5")
    cli.json("orders", "list")
    assert seen == [False, False] and gc.isenabled()
    seen.clear()
    Sandbox(tmp_path / "other.json", start=START).place("ann", "acme", "Mug", "5")
    Sandbox(tmp_path / "other.json").orders()
    assert seen == [True, True]
