"""The speed machinery's caches and global state, each with the invariant it relies on
(docs/architecture.md "what each cache assumes"): a test here fails when an invariant breaks."""

from __future__ import annotations

import gc
import random
import weakref
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest

from ordercli import Sandbox
from ordercli.core import engine
from ordercli.core import world as world_module
from ordercli.core.errors import OrderCliError
from ordercli.core.world import World

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
    """The index's invariant (world.DeadlineIndex): every pending deadline of every order is queued,
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
        for module in (engine, world_module)
        for name, v in vars(module).items()
        if isinstance(v, (dict, weakref.WeakKeyDictionary, list, set)) and not name.startswith("__")
    ]
    assert registries == ["_KIND_RANK"], "no module-level registry of worlds (a constant table only)"
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


# -- policy.actions: cached by situation ------------------------------------------------------------


def _random_walk(policy: str, seed: int) -> tuple[World, list[Callable[[str], Any]], random.Random]:
    """A shop under `policy` whose orders go through every state the rules allow, by random commands
    (the refused ones simply don't happen)."""
    from ordercli.core import policy as P

    rng = random.Random(seed)
    shop = Sandbox(start=START, policy=policy)
    world = _world_of(shop)
    pol = world.policy
    payment = pol.payment_methods[0]
    for i in range(40):
        shop.place(f"b{i}", "acme", "Pen", "2", payment=payment, unpaid=i % 4 == 0)
    steps: list[Callable[[str], Any]] = [
        lambda oid: shop.pay(oid),
        lambda oid: shop.cancel_request(oid, rng.choice(list(P.CANCEL_REASONS))),
        lambda oid: shop.seller_respond(oid, rng.choice(["accept", "reject"])),
        lambda oid: shop.cancel_withdraw(oid),
        lambda oid: shop.seller_ship(oid),
        lambda oid: shop.seller_pack(oid),
        lambda oid: shop.seller_cancel(oid, rng.choice(list(pol.seller_cancel_reasons))),
        lambda oid: shop.confirm(oid),
        lambda oid: shop.dispute_open(oid, rng.choice(list(P.DISPUTE_REASONS))),
        lambda oid: shop.dispute_resolve(oid, rng.choice(["refund", "reject"])),
        lambda oid: shop.refund_hold(oid),
        lambda oid: shop.place("b", "acme", "Pen", "2", payment=payment, unpaid=rng.random() < 0.3),
        lambda oid: shop.clock_tick(rng.choice(["1h", "5h", "20h", "3d"])),  # rarely: deadlines end orders
    ]
    return world, steps, rng


def _live_order(world: World, rng: random.Random) -> str:
    live = [o["id"] for o in world.iter_orders() if o["status"] not in ("cancelled", "completed")]
    return rng.choice(live or [o["id"] for o in world.iter_orders()])


# pay, cancel request, respond, withdraw, ship, pack, seller cancel, confirm, dispute open and resolve,
# refund hold, place, tick: cancellations are rare, or every order would soon be over
_WEIGHTS = [4, 1, 3, 2, 3, 4, 1, 3, 2, 2, 2, 3, 1]


def test_the_actions_cache_answers_what_the_checks_answer_under_every_preset(tmp_path) -> None:
    """policy._ACTIONS assumes `_situation` holds everything the checks read: then a cached answer is
    the answer the checks give, whatever policy, order and instant first filled it. One cache for all
    presets (as in one process) and a file policy that packs without a free cancel (where only
    `packed_at` tells a parcel ready to ship), orders in every state, compared with every check asked
    afresh."""
    from ordercli.core import policy as P
    from ordercli.core.presets import PRESETS

    packs = tmp_path / "packs.toml"
    packs.write_text('extends = "aliexpress"\npack_before_ship = true\n')
    P._ACTIONS.clear()
    compared = 0
    for n, name in enumerate([*PRESETS, str(packs)]):
        world, steps, rng = _random_walk(name, n)
        for step in range(260):
            try:
                step_of = rng.choices(steps, weights=_WEIGHTS)[0]
                step_of(_live_order(world, rng))
            except OrderCliError:
                pass
            if step % 5:
                continue
            pol, now = world.policy, world.now
            for order in world.iter_orders():
                cached = P.actions(order, pol, now)
                buyer, seller = P.actions_asked(order, pol, now)
                assert (cached["buyer"], cached["seller"]) == (list(buyer), list(seller)), (name, order["id"])
                compared += 1
    assert compared > 15_000 and len(P._ACTIONS) < 200, len(P._ACTIONS)


# -- check.py: the texts already found sound ---------------------------------------------------------


def test_an_amount_in_an_instants_place_is_damage_though_the_same_text_was_a_sound_amount(world: Any, db: Any) -> None:
    """check._SOUND remembers texts found sound, keyed by the check that found them: "19.99" passed as
    the order's amount must not pass as its paid_at (a hand-edited, unsealed file)."""
    import json

    world.place(amount="19.99")
    world.place(amount="19.99")
    data = json.loads(db.read_bytes())
    data["orders"]["2"]["paid_at"] = "19.99"
    data["meta"]["1"].pop("seal", None)
    db.write_text(json.dumps(data))
    before = db.read_bytes()
    for command in (["orders", "list"], ["clock", "tick", "1h"], ["db", "check"]):
        err = world.json(*command, code=5)
        assert err["code"] in ("damaged_data", "data_problems") and "ORD-0002" in err["message"], command
        assert "paid_at '19.99'" in err["message"], err["message"]
        assert db.read_bytes() == before, command


# -- validate.py and timecalc.py: pure functions, cached ---------------------------------------------


def test_the_amounts_and_currencies_caches_answer_what_the_checks_answer() -> None:
    """validate._AMOUNTS is keyed by (text, currency): the same text checked against another currency
    is checked afresh, and a refusal is never kept."""
    from ordercli.core import validate

    validate._AMOUNTS.clear()
    texts = ["5", "5.0", "5.00", " 5.5 ", "5.555", "0.001", "1000", "19.99", "0", "-1", "abc", "1e3"]
    currencies = ["USD", "JPY", "BHD", None, "USD", "JPY"]  # each twice: the second answer from the cache
    for currency in currencies:
        for text in texts:
            try:
                fresh: str | None = validate._amount(text, "amount", currency)
            except OrderCliError:
                fresh = None
            try:
                cached: str | None = validate.amount(text, "amount", currency)
            except OrderCliError:
                cached = None
            assert cached == fresh, (text, currency)
    assert validate.amount("5.5", "amount", "USD") == "5.50"
    with pytest.raises(OrderCliError):
        validate.amount("5.5", "amount", "JPY")  # "5.5" is cached for USD, and JPY has no minor units
    assert all(validate._amount(t, "amount", c) == v for (t, c), v in validate._AMOUNTS.items())
    for code in ("USD", "JPY", "usd", "XYZ", "USD", "XYZ"):
        with pytest.raises(OrderCliError) if code in ("usd", "XYZ") else nullcontext():
            assert validate.currency(code) == code
    assert validate._CURRENCIES >= {"USD", "JPY"} and not validate._CURRENCIES & {"usd", "XYZ"}


def test_the_instant_caches_depend_on_the_instant_alone() -> None:
    """fmt's caches (_HOURS by hour, _fmt by datetime, which is equal across zones for one instant) and
    parse_stored's (by text) give what isoformat and fromisoformat give, however the instants come."""
    from datetime import UTC, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from ordercli.core.timecalc import fmt, parse_stored

    rng = random.Random(18)
    zones = [UTC, timezone(timedelta(hours=2)), ZoneInfo("Asia/Kuala_Lumpur"), ZoneInfo("America/New_York")]
    base = datetime(2030, 3, 4, 9, tzinfo=UTC)
    for _ in range(3000):
        instant = base + timedelta(seconds=rng.randrange(-(10**9), 10**9), microseconds=rng.choice([0, 0, 500000]))
        for zone in rng.sample(zones, len(zones)):  # one instant in several zones: equal keys for _fmt
            local = instant.astimezone(zone)
            expected = instant.astimezone(UTC).isoformat()
            assert fmt(local) == expected, local
            assert parse_stored(expected) == instant and parse_stored(local.isoformat()) == instant


def test_the_working_day_walk_cache_answers_what_the_walk_answers() -> None:
    """_walk_working_days is cached by (day, n, calendar function): each calendar's function is one
    object for the process and answers the same for a date every time."""
    from datetime import date, timedelta

    from ordercli.core import policy as P
    from ordercli.core.timecalc import _walk_working_days

    rng = random.Random(19)
    calendars = [None, P._calendar("MY"), P._calendar("US")]
    assert P._calendar("MY") is calendars[1], "one function per calendar code"
    for _ in range(2000):
        day = date(2030, 1, 1) + timedelta(days=rng.randrange(800))
        n = rng.randrange(12)
        cal = rng.choice(calendars)
        assert _walk_working_days(day, n, cal) == _walk_working_days.__wrapped__(day, n, cal)


# -- order numbers past ORD-9999 ----------------------------------------------------------------------


@pytest.mark.parametrize("index_first", [False, True], ids=["index-built-by-the-tick", "index-kept-by-the-import"])
def test_ten_thousand_and_more_deadlines_at_one_instant_fire_once_each_in_order_number(index_first: bool) -> None:
    """The index orders deadlines by (instant, order number): the number comes from the id, ORD-0001 to
    ORD-10001 and past (five digits from 10000 on). 10,002 orders paid at one instant share one ship_by:
    one tick cancels each once, in order of its number, and none is mistaken for another."""
    n = 10_002
    shop = Sandbox(start=START)
    if index_first:
        shop.clock_tick("1s")  # the world's index exists before the orders: the import pushes into it
    shop.import_orders([{"buyer": "ann", "seller": "acme", "item": "Pen", "amount": "2"} for _ in range(n)])
    move = shop.clock_tick("9d")
    cancelled = [e["order_id"] for e in move["fired"] if e["kind"] == "order_cancelled"]
    assert len({e["at"] for e in move["fired"]}) == 1
    assert cancelled == [f"ORD-{i:04d}" for i in range(1, n + 1)]
    assert shop.orders(status="awaiting_shipment") == []
