"""The shortcuts taken for `simulate`'s speed (issue 20) give what the long way gives."""

from __future__ import annotations

import gc
import random
import weakref
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ordercli.core import engine, presets
from ordercli.core.errors import Refused, UsageError
from ordercli.core.timecalc import add_working_days, fmt
from ordercli.core.world import World, empty_tables
from ordercli.simulate import shard
from ordercli.simulate.behaviour import load
from ordercli.simulate.worlds import new_world

START = datetime(2030, 3, 4, 9, tzinfo=UTC)


def _world(policy: str = "aliexpress") -> World:
    return new_world(START, presets.load(policy).meta())


def test_fmt_is_isoformat_of_the_instant_in_utc() -> None:
    rng = random.Random(20)
    for _ in range(20_000):
        instant = datetime(1, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(315_537_897_600))
        assert fmt(instant) == instant.isoformat()
        fraction = instant.replace(microsecond=rng.randrange(1, 1_000_000))
        assert fmt(fraction) == fraction.isoformat()
    assert fmt(datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=2)))) == "2029-12-31T22:00:00+00:00"


def test_working_days_in_utc_land_where_the_zone_path_lands() -> None:
    rng = random.Random(21)
    zone_utc = ZoneInfo("UTC")  # not the UTC object: takes the general path
    for _ in range(5_000):
        instant = START + timedelta(seconds=rng.randrange(10**8))
        days = rng.randrange(40)
        fast, general = add_working_days(instant, days), add_working_days(instant, days, zone_utc)
        assert fast == general and fmt(fast) == fmt(general)


def test_a_refused_command_leaves_no_cycle_holding_its_world() -> None:
    # the refusal's traceback held every frame above the gate, and with them the world, until the cycle
    # collector ran: every refused action of a simulation kept its shard's world alive that long
    enabled = gc.isenabled()
    gc.disable()
    try:
        world = _world()
        order = engine.place_order(world, buyer="alice", seller="acme", item="mug", amount="5")
        engine.seller_ship(world, order["id"])
        try:
            engine.cancel_request(world, order["id"], "other")
        except Refused as exc:
            assert exc.code == "cancel_after_shipment"
        gone = weakref.ref(world)
        del world, order
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_placing_validated_fields_is_placing_the_order() -> None:
    slow, fast = _world(), _world()
    args = {"buyer": "alice", "seller": "acme", "item": "mug", "amount": "5.5", "payment": "paypal"}
    engine.place_order(slow, **args, unpaid=True)
    engine.place_valid_order(fast, engine.order_fields(**args, methods=None), unpaid=True)
    assert fast.tables == slow.tables


def test_placing_validated_fields_still_checks_the_policys_payment_methods() -> None:
    fields = engine.order_fields(buyer="a", seller="s", item="x", amount="1", payment="shopeepay", methods=None)
    world = _world("aliexpress")  # card, paypal, alipay, bank-transfer
    with pytest.raises(UsageError) as raised:
        engine.place_valid_order(world, fields)
    assert raised.value.code == "bad_payment"
    assert world.count_orders() == 0


@pytest.mark.parametrize("order_id", ["ORD-42", "ORD-00042", "ORD-0000", "ORD-", "ORD-٤٢", "ord-0042", "x", 42])
def test_world_order_finds_only_the_exact_id(order_id: object) -> None:
    world = World(empty_tables(START, presets.load("aliexpress").meta()))
    for _ in range(50):
        world.add_order({"status": "x"})
    assert world.order("ORD-0042")["id"] == "ORD-0042"
    with pytest.raises(Exception) as raised:
        world.order(order_id)  # type: ignore[arg-type]
    assert getattr(raised.value, "code", None) == "order_not_found"


def test_a_shard_puts_the_cycle_collector_back() -> None:
    behaviour = load(str(Path(__file__).resolve().parent.parent.parent / "examples" / "marketplace.behaviour.yaml"))
    task = shard.ShardTask(behaviour, (("aliexpress", presets.load("aliexpress").meta()),), 1, 0, 50)
    assert gc.isenabled()
    shard.run_shard(task)
    assert gc.isenabled()
