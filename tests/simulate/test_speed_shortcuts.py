"""The shortcuts taken for `simulate`'s speed (issue 20) give what the long way gives."""

from __future__ import annotations

import gc
import math
import random
import weakref
from bisect import bisect_right
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from statistics import NormalDist
from typing import Any
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


def _sampler(dist: Any, r: Any) -> Any:
    """One value at a time from the uniform source `r`: the draw arithmetic as the order-by-order loop
    had it (the package draws a column at a time, Dist.draws)."""
    a, b, values, high = dist.a, dist.b, dist.values, dist.high
    if dist.kind == "fixed":
        return lambda: (r(), a)[1]
    if dist.kind == "uniform":
        span = b - a
        return lambda: a + span * r()
    if dist.kind == "exponential":
        return lambda: min(-a * math.log(1.0 - r()), high)
    if dist.kind == "lognormal":
        quantile = NormalDist().inv_cdf
        return lambda: min(a * math.exp(b * quantile(min(max(r(), 1e-12), 1 - 1e-12))), high)
    n = len(values)
    return lambda: values[min(int(r() * n), n - 1)]


def _mix_sampler(mix: Any, r: Any) -> Any:
    codes, cum, total, last = mix.codes, mix.cum, mix.cum[-1], len(mix.codes) - 1
    return lambda: codes[min(bisect_right(cum, r() * total), last)]


def test_a_column_of_draws_is_what_the_sampler_draws_one_by_one() -> None:
    from ordercli.simulate.behaviour import Dist, Mix

    us = [random.Random(22).random() for _ in range(2_000)] + [0.0, 1e-13, 0.5, 1 - 1e-13]
    for dist in (
        Dist("fixed", 3600.0),
        Dist("uniform", 60.0, 7200.0),
        Dist("exponential", 86400.0, high=1e6),
        Dist("lognormal", 21600.0, 1.0, high=3e5),
        Dist("empirical", values=(1.0, 2.5, 7.0, 40.0)),
    ):
        one_by_one = _sampler(dist, iter(us).__next__)
        assert dist.draws(us) == [one_by_one() for _ in us], dist.kind
    mix = Mix(("a", "b", "c"), (0.5, 0.5, 2.0))  # "b" weighs nothing
    one = _mix_sampler(mix, iter(us).__next__)
    assert mix.draws(us) == [one() for _ in us]


def _plans_order_by_order(b, seed: int, shard_no: int, size: int) -> list[tuple]:
    """main's draw_plans before issue 20's second pass (one order at a time), as tuples of the fields."""
    from bisect import bisect_right
    from itertools import accumulate

    from ordercli.core.policy import CANCEL_REASONS

    r = random.Random(f"ordercli-simulate:{seed}:{shard_no}").random
    day_cum = tuple(accumulate(b.day_weights()))
    s = {x.name: x for x in b.sellers}
    amount, method, seller_type = _sampler(b.amount, r), _mix_sampler(b.payment, r), _mix_sampler(b.seller_mix, r)
    d = {k: _sampler(getattr(b, k), r) for k in ("pay_delay", "abandon_delay", "cancel_delay", "release_delay",
                                                "overdue_dispute_delay", "rejected_dispute_delay",
                                                "shipped_dispute_delay", "resolve_delay", "confirm_delay")}  # fmt: skip
    reason, shipped_reason = _mix_sampler(b.reasons, r), _mix_sampler(b.shipped_dispute_reasons, r)
    per = {n: (_sampler(x.answer_delay, r), _sampler(x.ship_delay, r)) for n, x in s.items()}
    steps = {n: (x.pack_delay and _sampler(x.pack_delay, r), x.cancel_delay and _sampler(x.cancel_delay, r),
                 x.cancel_reasons and _mix_sampler(x.cancel_reasons, r)) for n, x in s.items()}  # fmt: skip
    fault = {code: f for code, (_, f) in CANCEL_REASONS.items()}

    def secs(x: float, used: bool) -> int | None:
        return max(1, round(x)) if used else None

    out = []
    for i in range(size):
        day = min(bisect_right(day_cum, r() * day_cum[-1]), len(day_cum) - 1)
        placed = day * shard.DAY + int(r() * shard.DAY)
        x = round(amount(), 2)
        row = [i, placed, f"{x if x > 0.01 else 0.01:.2f}", method()]
        stype = seller_type()
        row += [f"{stype}-seller-{int(r() * 50)}", stype]
        unpaid, pays = r() < b.unpaid_share, r() < b.pay_probability
        row += [unpaid, secs(d["pay_delay"](), unpaid and pays)]
        abandons = r() < b.abandon_probability
        row += [secs(d["abandon_delay"](), unpaid and not pays and abandons)]
        requests = r() < b.cancel_probability
        row += [secs(d["cancel_delay"](), requests)]
        why = reason()
        answers = r() < s[stype].answer_probability
        row += [why, secs(per[stype][0](), answers), r() < s[stype].accept_probability[fault[why]], per[stype][1]()]
        held = r() < b.held_share
        row += [held, secs(d["release_delay"](), True)]
        for kind in ("overdue", "rejected", "shipped"):
            used = r() < getattr(b, f"{kind}_dispute_probability")
            row.append(secs(d[f"{kind}_dispute_delay"](), used))
        row += [shipped_reason(), secs(d["resolve_delay"](), True), r() < b.resolve_refund_probability]
        confirms = r() < b.confirm_probability
        row += [secs(d["confirm_delay"](), confirms)]
        pack, delay, why_cancel = steps[stype] if b.seller_steps else (None, None, None)
        row += [secs(pack(), True) if pack else None]
        if delay and why_cancel:
            cancels = r() < s[stype].cancel_share
            row += [secs(delay(), cancels), why_cancel()]
        else:
            row += [None, ""]
        out.append(tuple(row))
    return sorted(out, key=lambda t: (t[1], t[0]))


# drawn only where the order can use it (an answer for a request, a release for a held refund...), else None
UNDRAWN = {"answer_after", "release_after", "overdue_dispute_after", "rejected_dispute_after", "resolve_after"}


@pytest.mark.parametrize("name", ["marketplace", "every-preset", "sales-peak", "ewallet-market"])
def test_plans_drawn_by_column_are_the_plans_drawn_order_by_order(name: str) -> None:
    b = load(str(Path(__file__).resolve().parent.parent.parent / "examples" / f"{name}.behaviour.yaml"))
    fields = [f for f in shard.Plan.__slots__ if f != "fields"]
    undrawn = 0
    for seed, shard_no, size in ((1, 0, 1000), (7, 3, 357), (2, 1, 1)):
        plans = shard.draw_plans(b, seed, shard_no, size)
        for plan, row in zip(plans, _plans_order_by_order(b, seed, shard_no, size), strict=True):
            for field, expected in zip(fields, row, strict=True):
                got = getattr(plan, field)
                if got is None and field in UNDRAWN:
                    undrawn += 1
                    continue
                assert got == expected, (name, seed, plan.n, field)
            assert plan.fields["buyer"] == f"buyer-{shard_no}-{plan.n}" and plan.fields["seller"] == plan.seller
    assert undrawn > 0


@pytest.mark.parametrize("policy", presets.PRESETS)
def test_a_world_that_keeps_no_history_leaves_every_order_as_a_full_world_does(policy: str) -> None:
    """run_policy's own world (CountingWorld) drops events and notices: the orders, the counters and
    the clock must be those of a world that keeps them, under every preset."""
    b = load(str(Path(__file__).resolve().parent.parent.parent / "examples" / "every-preset.behaviour.yaml"))
    plans = shard.draw_plans(b, 11, 2, 300)
    meta = presets.load(policy).meta()
    full = new_world(b.start, meta)
    kept, kept_end = shard.run_policy(plans, b.start, meta, 2, world=full)
    counted = new_world(b.start, meta, history=False)
    dropped, dropped_end = shard.run_policy(plans, b.start, meta, 2, world=counted)
    assert dropped == kept and dropped_end == kept_end
    assert counted.meta == full.meta  # next_event and next_notification moved as far
    assert full.events and full.notifications  # the full world did keep a history...
    assert not counted.events and not counted.notifications  # ...which this one did not
    assert len({o["status"] for o in kept}) >= 3  # the sample exercises the rules


def test_run_policy_keeps_no_history_unless_given_a_world() -> None:
    b = load(str(Path(__file__).resolve().parent.parent.parent / "examples" / "marketplace.behaviour.yaml"))
    plans = shard.draw_plans(b, 3, 0, 50)
    meta = presets.load("aliexpress").meta()
    world = new_world(b.start, meta)
    shard.run_policy(plans, b.start, meta, 0, world=world)
    assert len(world.events) == world.meta["next_event"] - 1  # a world given keeps every event
    counted = new_world(b.start, meta, history=False)
    assert engine.advance(counted, b.start + timedelta(days=1)) == []  # nothing kept, nothing returned
