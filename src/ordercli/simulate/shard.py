"""One shard: a seeded sub-population of orders, driven through the real engine under each
policy in turn, reduced to aggregates before its world is dropped.

Common random numbers: every order's behaviour (its plan) is drawn from the shard's own
generator before any policy is applied, and each decision point has its own draw in the plan,
so the same order makes the same choices under every policy. What differs between policies
is only what the rules let happen.

Time is driven as a discrete-event simulation: a heap of the population's next actions and a
heap of the orders' pending deadlines (policy.pending_deadlines). The clock moves with
engine.advance, passing only the orders due at that instant, so no move scans the world.
An action the rules refuse (the seller answers after an auto-cancel) is simply not taken.
"""

from __future__ import annotations

import gc
import random
import threading
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from heapq import heappop, heappush
from itertools import accumulate, count
from operator import attrgetter
from typing import Any

from ordercli.core import engine
from ordercli.core.errors import Refused
from ordercli.core.policy import AWAITING_SHIPMENT, CANCEL_REASONS, pending_deadlines
from ordercli.core.timecalc import add_working_days, parse_stored
from ordercli.core.world import World
from ordercli.simulate.behaviour import Behaviour
from ordercli.simulate.worlds import new_world

DAY = 86400
ITEM = "simulated item"

# actions, in the order they are tried when two fall on the same instant for one order
(
    PLACE,
    PAY,
    REQUEST,
    RESPOND,
    SHIP,
    HOLD,
    RELEASE,
    DISPUTE_OVERDUE,
    DISPUTE_SHIPPED,
    RESOLVE,
    CONFIRM,
    ABANDON,
    DISPUTE_REJECTED,
    PACK,
    SELLER_CANCEL,
) = range(15)
ACTION_NAMES = (
    "place",
    "pay",
    "request",
    "respond",
    "ship",
    "hold",
    "release",
    "dispute_overdue",
    "dispute_shipped",
    "resolve",
    "confirm",
    "abandon",  # the buyer of an unpaid order cancels it (R1)
    "dispute_rejected",  # the seller refused a seller-fault request: the buyer disputes (R13a)
    "pack",  # the seller packs (R22), where the policy uses packing
    "seller_cancel",  # the seller cancels (R26), where the policy lets them
)


@dataclass(frozen=True)
class ShardTask:
    behaviour: Behaviour
    policies: tuple[tuple[str, dict[str, Any]], ...]  # (label, policy meta) per policy
    seed: int
    shard: int
    size: int
    events_of: int | None = None  # --events-out: also return this policy's events


class Plan:
    """What one order's buyer, seller, processor and support will do: drawn once, policy-free.
    Times are whole seconds; None means the party never does it."""

    __slots__ = (
        "n",
        "placed",
        "amount",
        "method",
        "seller",
        "seller_type",
        "unpaid",
        "pay_after",
        "abandon_after",
        "request_after",
        "reason",
        "answer_after",
        "accept",
        "ship_days",
        "held",
        "release_after",
        "overdue_dispute_after",
        "rejected_dispute_after",
        "shipped_dispute_after",
        "shipped_reason",
        "resolve_after",
        "resolve_refund",
        "confirm_after",
        "fields",
        "pack_after",
        "seller_cancel_after",
        "seller_cancel_reason",
    )

    n: int  # position in the shard's draw order
    placed: int  # seconds after the period's start
    amount: str
    method: str
    seller: str
    seller_type: str
    unpaid: bool
    pay_after: int | None
    abandon_after: int | None
    request_after: int | None
    reason: str
    answer_after: int | None
    accept: bool
    ship_days: float
    held: bool
    release_after: int
    overdue_dispute_after: int | None
    rejected_dispute_after: int | None
    shipped_dispute_after: int | None
    shipped_reason: str
    resolve_after: int
    resolve_refund: bool
    confirm_after: int | None
    fields: dict[str, Any]  # the order's fields, validated once (engine.order_fields) for every policy
    pack_after: int | None  # issue 19: drawn only when the behaviour's sellers pack or cancel
    seller_cancel_after: int | None
    seller_cancel_reason: str


def draw_plans(b: Behaviour, seed: int, shard: int, size: int) -> list[Plan]:
    """The shard's population, in placement order. Every order takes the same draws in the
    same order whatever it ends up doing."""
    rng = random.Random(f"ordercli-simulate:{seed}:{shard}")
    r = rng.random
    day_cum = tuple(accumulate(b.day_weights()))
    total = day_cum[-1]
    ndays = len(day_cum)
    amount = b.amount.sampler(r)
    method = b.payment.sampler(r)
    seller_type = b.seller_mix.sampler(r)
    pay_delay, abandon_delay = b.pay_delay.sampler(r), b.abandon_delay.sampler(r)
    cancel_delay, reason = b.cancel_delay.sampler(r), b.reasons.sampler(r)
    release_delay = b.release_delay.sampler(r)
    overdue_delay, rejected_delay = b.overdue_dispute_delay.sampler(r), b.rejected_dispute_delay.sampler(r)
    shipped_delay, shipped_reason = b.shipped_dispute_delay.sampler(r), b.shipped_dispute_reasons.sampler(r)
    resolve_delay, confirm_delay = b.resolve_delay.sampler(r), b.confirm_delay.sampler(r)
    sellers = {s.name: (s, s.answer_delay.sampler(r), s.ship_delay.sampler(r), s.accept_probability) for s in b.sellers}
    unpaid_share, pay_probability, abandon_probability = b.unpaid_share, b.pay_probability, b.abandon_probability
    cancel_probability, held_share = b.cancel_probability, b.held_share
    overdue_probability, rejected_probability = b.overdue_dispute_probability, b.rejected_dispute_probability
    shipped_probability, refund_probability = b.shipped_dispute_probability, b.resolve_refund_probability
    confirm_probability = b.confirm_probability
    fault = {code: f for code, (_, f) in CANCEL_REASONS.items()}
    last_day = ndays - 1
    # issue 19: drawn after everything else, and only when some seller packs or cancels, so a behaviour
    # without them draws exactly what it drew before
    steps = b.seller_steps
    seller_steps = {
        s.name: (
            s.pack_delay.sampler(r) if s.pack_delay is not None else None,
            s.cancel_share,
            s.cancel_delay.sampler(r) if s.cancel_delay is not None else None,
            s.cancel_reasons.sampler(r) if s.cancel_reasons is not None else None,
        )
        for s in b.sellers
    }
    plans = []
    # Every draw is taken whether or not the order uses it (common random numbers); a delay is
    # turned into whole seconds (max(1, round(x)): an action never lands on its own cause) only
    # when it is used.
    for i in range(size):
        p = Plan()
        p.n = i
        day = bisect_right(day_cum, r() * total)
        p.placed = (day if day < last_day else last_day) * DAY + int(r() * DAY)
        x = round(amount(), 2)
        p.amount = f"{x if x > 0.01 else 0.01:.2f}"
        p.method = method()
        stype = seller_type()
        seller, answer_delay, ship_delay, accept = sellers[stype]
        p.seller = f"{stype}-seller-{int(r() * 50)}"
        p.seller_type = stype
        unpaid = p.unpaid = r() < unpaid_share
        pays = r() < pay_probability
        x = pay_delay()
        p.pay_after = max(1, round(x)) if (unpaid and pays) else None
        abandons = r() < abandon_probability
        x = abandon_delay()
        p.abandon_after = max(1, round(x)) if (unpaid and not pays and abandons) else None
        requests = r() < cancel_probability
        x = cancel_delay()
        p.request_after = max(1, round(x)) if requests else None
        why = p.reason = reason()
        answers = r() < seller.answer_probability
        x = answer_delay()
        p.answer_after = max(1, round(x)) if answers else None
        p.accept = r() < accept[fault[why]]
        p.ship_days = ship_delay()
        p.held = r() < held_share
        p.release_after = max(1, round(release_delay()))
        disputes = r() < overdue_probability
        x = overdue_delay()
        p.overdue_dispute_after = max(1, round(x)) if disputes else None
        disputes = r() < rejected_probability
        x = rejected_delay()
        p.rejected_dispute_after = max(1, round(x)) if disputes else None
        disputes = r() < shipped_probability
        x = shipped_delay()
        p.shipped_dispute_after = max(1, round(x)) if disputes else None
        p.shipped_reason = shipped_reason()
        p.resolve_after = max(1, round(resolve_delay()))
        p.resolve_refund = r() < refund_probability
        confirms = r() < confirm_probability
        x = confirm_delay()
        p.confirm_after = max(1, round(x)) if confirms else None
        p.fields = engine.order_fields(
            buyer=f"buyer-{shard}-{i}", seller=p.seller, item=ITEM, amount=p.amount, payment=p.method, methods=None
        )  # the payment method is checked per policy (R27), by engine.place_valid_order
        p.pack_after = p.seller_cancel_after = None
        p.seller_cancel_reason = ""
        if steps:
            seller_pack, seller_share, seller_delay, seller_reason = seller_steps[stype]
            if seller_pack is not None:
                p.pack_after = _secs(seller_pack())
            if seller_delay is not None and seller_reason is not None:
                cancels = r() < seller_share
                seller_after = _secs(seller_delay())
                p.seller_cancel_after = seller_after if cancels else None
                p.seller_cancel_reason = seller_reason()
        plans.append(p)
    plans.sort(key=attrgetter("placed", "n"))
    return plans


def _secs(x: float) -> int:
    return max(1, round(x))  # whole seconds, and an action never lands on its own cause


def _ship_at(paid: datetime, days: float) -> datetime:
    """The seller's own calendar: Monday to Friday, UTC; fractions of a day as hours."""
    whole = int(days)
    landed, midnight, working = _working_day_landing(paid.date(), paid.tzinfo, whole)
    if working:  # else the count starts at 00:00 of the next working day
        landed += paid - midnight
    return landed + timedelta(seconds=round((days - whole) * DAY))


@lru_cache(maxsize=4096)
def _working_day_landing(day: date, tz: tzinfo | None, whole: int) -> tuple[datetime, datetime, bool]:
    # by day, so the many orders paid on one day share the walk over the calendar: where `whole`
    # working days from 00:00 of `day` land, that midnight, and whether `day` is a working day
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    return add_working_days(midnight, whole), midnight, day.weekday() < 5


Trace = list[tuple[datetime, int, int]]  # (instant, action, order position) of every action taken


def run_policy(
    plans: list[Plan],
    start: datetime,
    policy_meta: dict[str, Any],
    shard: int,
    trace: Trace | None = None,
    world: World | None = None,
) -> tuple[list[dict], datetime]:
    """Drive the population through the engine under one policy, in a fresh world (or in
    `world`, an empty one). Returns the orders as the engine left them, in plan order, and
    the instant the world's clock stopped at."""
    if world is None:
        world = new_world(start, policy_meta)
    n = len(plans)
    orders: list[Any] = [None] * n
    # Placements come in plan order (plans are sorted by placement), so they are a queue of their
    # own beside the heap of follow-ups; on a tie a placement goes first (it was planned first).
    placed_at = [start + timedelta(seconds=p.placed) for p in plans]
    placing = 0  # the position of the next placement
    actions: list[tuple[datetime, int, int, int]] = []  # follow-ups: (at, tie, position, action)
    deadlines: list[tuple[datetime, int]] = []  # (at, position); superseded entries are skipped
    pushed: list[Any] = [()] * n  # the pending deadlines last pushed, per order
    refund_seen = [False] * n
    ship_waiting = [False] * n
    ticket = count(1).__next__  # ties broken by the order the follow-ups were planned in
    advance = engine.advance
    set_now = world.set_now
    place = engine.place_valid_order
    pol = world.policy
    packs_first = pol.pack_before_ship
    packs, seller_cancels = pol.uses_packing, pol.seller_can_cancel
    pack_waiting = [False] * n

    def later(at: datetime, pos: int, action: int) -> None:
        heappush(actions, (at, ticket(), pos, action))

    def paid(pos: int, now: datetime) -> None:
        p = plans[pos]
        later(_ship_at(now, p.ship_days), pos, SHIP)
        if p.request_after is not None:
            later(now + timedelta(seconds=p.request_after), pos, REQUEST)
        if packs and p.pack_after is not None:
            later(now + timedelta(seconds=p.pack_after), pos, PACK)
        if seller_cancels and p.seller_cancel_after is not None:
            later(now + timedelta(seconds=p.seller_cancel_after), pos, SELLER_CANCEL)

    def after(pos: int, now: datetime) -> None:
        """Whatever the engine just did to this order: follow-ups and fresh deadlines."""
        order = orders[pos]
        if not refund_seen[pos] and order["refund"] is not None:
            refund_seen[pos] = True
            if plans[pos].held:
                later(now, pos, HOLD)
        if ship_waiting[pos] and order["status"] == AWAITING_SHIPMENT:
            ship_waiting[pos] = False  # the request that stopped the seller is gone
            later(now, pos, SHIP)
        if pack_waiting[pos] and order["packed_at"] is not None and order["status"] == AWAITING_SHIPMENT:
            pack_waiting[pos] = False  # packed at last: the parcel that was ready goes out
            later(now, pos, SHIP)
        due = pending_deadlines(order)
        if due != pushed[pos]:
            pushed[pos] = due
            for _, at in due:
                heappush(deadlines, (at, pos))

    def act(at: datetime, pos: int, action: int) -> None:
        """Every action but a placement, the most frequent first."""
        p = plans[pos]
        order = orders[pos]
        oid = order["id"]
        if action == SHIP:
            try:
                if packs_first and order["packed_at"] is None:
                    if p.pack_after is not None:  # the seller packs later: the parcel waits for it
                        pack_waiting[pos] = True
                        raise Refused("not packed yet", "not_packed")
                    # pack_before_ship (R22) with no packing delay: the seller packs as it ships
                    engine.seller_pack(world, oid)
                    if trace is not None:
                        trace.append((at, PACK, pos))
                engine.seller_ship(world, oid)
            except Refused as exc:
                if exc.code == "request_pending":
                    ship_waiting[pos] = True  # ships once the request is answered or lapses
                raise
            if p.shipped_dispute_after is not None:
                later(at + timedelta(seconds=p.shipped_dispute_after), pos, DISPUTE_SHIPPED)
            if p.confirm_after is not None:
                later(at + timedelta(seconds=p.confirm_after), pos, CONFIRM)
        elif action == CONFIRM:
            engine.confirm(world, oid)
        elif action == REQUEST:
            engine.cancel_request(world, oid, p.reason)
            if p.answer_after is not None:
                later(at + timedelta(seconds=p.answer_after), pos, RESPOND)
        elif action == RESPOND:
            engine.seller_respond(world, oid, "accept" if p.accept else "reject")
            if not p.accept and p.rejected_dispute_after is not None and CANCEL_REASONS[p.reason][1] == "seller":
                later(at + timedelta(seconds=p.rejected_dispute_after), pos, DISPUTE_REJECTED)
        elif action == PAY:
            engine.pay(world, oid)
            paid(pos, at)
        elif action == HOLD:
            engine.refund_hold(world, oid)
            later(at + timedelta(seconds=p.release_after), pos, RELEASE)
            if p.overdue_dispute_after is not None:
                due_by = parse_stored(order["refund"]["due_by"])
                assert due_by is not None
                later(due_by + timedelta(seconds=p.overdue_dispute_after), pos, DISPUTE_OVERDUE)
        elif action == RELEASE:
            engine.refund_release(world, oid)
        elif action == DISPUTE_OVERDUE:
            engine.dispute_open(world, oid, "refund-not-received")
            later(at + timedelta(seconds=p.resolve_after), pos, RESOLVE)
        elif action == DISPUTE_REJECTED:
            engine.dispute_open(world, oid, p.reason)
            later(at + timedelta(seconds=p.resolve_after), pos, RESOLVE)
        elif action == DISPUTE_SHIPPED:
            engine.dispute_open(world, oid, p.shipped_reason)
            later(at + timedelta(seconds=p.resolve_after), pos, RESOLVE)
        elif action == RESOLVE:
            engine.dispute_resolve(world, oid, "refund" if p.resolve_refund else "reject")
        elif action == ABANDON:
            engine.cancel_request(world, oid, p.reason)
        elif action == PACK:
            engine.seller_pack(world, oid)
        elif action == SELLER_CANCEL:
            engine.seller_cancel(world, oid, p.seller_cancel_reason)

    while True:
        # the next action: the next placement or the first follow-up, whichever comes first
        placement = placing < n and (not actions or placed_at[placing] <= actions[0][0])
        if placement:
            at: datetime | None = placed_at[placing]
        else:
            at = actions[0][0] if actions else None
        if deadlines and (at is None or deadlines[0][0] <= at):
            # deadlines first: an action at the very instant of a deadline comes too late
            when = deadlines[0][0]
            due: dict[int, None] = {}
            while deadlines and deadlines[0][0] == when:
                pos = heappop(deadlines)[1]
                if any(t == when for _, t in pushed[pos]):  # else superseded (the order shipped...)
                    due[pos] = None
            if due:
                advance(world, when, [orders[pos] for pos in due])
                for pos in due:
                    after(pos, when)
            continue
        if at is None:
            break
        if at > world.now:
            # every deadline before `at` has fired (above): only the clock moves, which is what
            # engine.advance(world, at, []) would do, without building an empty deadline index
            set_now(at)
        if placement:
            pos = placing
            placing += 1
            action = PLACE
            p = plans[pos]
            orders[pos] = place(world, p.fields, p.unpaid)
            if p.unpaid:
                if p.pay_after is not None:
                    later(at + timedelta(seconds=p.pay_after), pos, PAY)
                elif p.abandon_after is not None:
                    later(at + timedelta(seconds=p.abandon_after), pos, ABANDON)
            else:
                paid(pos, at)
        else:
            _, _, pos, action = heappop(actions)
            try:
                act(at, pos, action)
            except Refused:
                continue  # as in life: the rules said no, so it did not happen
        if trace is not None:
            trace.append((at, action, pos))
        after(pos, at)
    return orders, world.now


def run_shard(task: ShardTask) -> list[dict]:
    """The aggregates of one shard under every policy, in the task's policy order."""
    with _collector_paused():
        return _run_shard(task)


_paused = 0  # shards running with the collector paused (a Dask worker runs several in threads)
_paused_lock = threading.Lock()
_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A shard's world is a tree of dicts without cycles, freed by reference counting when the
    shard ends; the cycle collector would only rescan its growing tables again and again (a fifth
    of the time). Paused while any shard runs; whatever cycle one leaves (an odd traceback) is
    collected once it is back on."""
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


def _run_shard(task: ShardTask) -> list[dict]:
    from ordercli.simulate.aggregate import aggregate

    b = task.behaviour
    plans = draw_plans(b, task.seed, task.shard, task.size)
    out = []
    for i, (_, meta) in enumerate(task.policies):
        world = new_world(b.start, meta) if i == task.events_of else None
        orders, end = run_policy(plans, b.start, meta, task.shard, world=world)
        out.append(aggregate(orders, end))
        if world is not None:
            out[-1]["events"] = list(world.events.values())
        del orders, world  # the world goes with it: memory stays flat in N
    return out
