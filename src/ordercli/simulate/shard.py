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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from heapq import heappop, heappush
from itertools import accumulate, count, repeat, starmap
from operator import itemgetter
from typing import Any

from ordercli.core import engine
from ordercli.core.errors import Refused
from ordercli.core.policy import AWAITING_SHIPMENT, CANCEL_REASONS, pending_deadlines
from ordercli.core.timecalc import add_working_days, parse_stored
from ordercli.core.world import World
from ordercli.simulate.behaviour import Behaviour, Dist, SellerType
from ordercli.simulate.worlds import new_world

DAY = 86400
_SECOND = timedelta(seconds=1)
ITEM = "simulated item"
CURRENCY = "USD"  # every simulated order is paid in it

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
    Times are whole seconds; None means the party never does it (or the order can never come to
    it: an answer without a request, a release without a hold; their uniforms are drawn all the same)."""

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
    release_after: int | None  # drawn into seconds only for a held refund
    overdue_dispute_after: int | None
    rejected_dispute_after: int | None
    shipped_dispute_after: int | None
    shipped_reason: str
    resolve_after: int | None  # only for an order that may be disputed
    resolve_refund: bool
    confirm_after: int | None
    fields: dict[str, Any]  # the order's fields, validated once (engine.many_order_fields) for every policy
    pack_after: int | None  # issue 19: drawn only when the behaviour's sellers pack or cancel
    seller_cancel_after: int | None
    seller_cancel_reason: str


DRAWS = 31  # uniforms every order takes; a seller type that packs or cancels takes a few more after them


def draw_plans(b: Behaviour, seed: int, shard: int, size: int) -> list[Plan]:
    """The shard's population, in placement order. Every order takes the same draws in the
    same order whatever it ends up doing.

    Drawn a column at a time: the shard's uniforms first, in the order an order-by-order loop
    would take them (order 0's 31, then order 1's...), then each plan field from its column, with
    the samplers' own arithmetic (Dist.draws, Mix.draws): the same stream, the same floats, so the
    same plans as drawing each order in turn."""
    rng = random.Random(f"ordercli-simulate:{seed}:{shard}")
    r = rng.random
    day_cum = tuple(accumulate(b.day_weights()))
    total = day_cum[-1]
    last_day = len(day_cum) - 1
    sellers = {s.name: s for s in b.sellers}
    # issue 19: drawn after everything else, and only when some seller packs or cancels, so a behaviour
    # without them draws exactly what it drew before
    extra = {
        s.name: (s.pack_delay is not None) + 3 * (s.cancel_delay is not None and s.cancel_reasons is not None)
        for s in b.sellers
    }
    if not b.seller_steps:
        u = list(starmap(r, repeat((), DRAWS * size)))  # [r() for ...] without a bytecode loop
        cols = [u[k::DRAWS] for k in range(DRAWS)]
        stypes = b.seller_mix.draws(cols[4])
        starts: list[int] = []
    else:
        # how many uniforms an order takes depends on its seller type, which is its fifth draw
        most = DRAWS + max(extra.values())
        u = list(starmap(r, repeat((), most * size)))  # a few left over: nothing draws after the plans
        codes, cum, tot, lastc = b.seller_mix.codes, b.seller_mix.cum, b.seller_mix.cum[-1], len(b.seller_mix.codes) - 1
        starts = []
        stypes = []
        off = 0
        for _ in range(size):
            starts.append(off)
            stype = codes[min(bisect_right(cum, u[off + 4] * tot), lastc)]
            stypes.append(stype)
            off += DRAWS + extra[stype]
        cols = [[u[o + k] for o in starts] for k in range(DRAWS)]
    groups = {name: [i for i, t in enumerate(stypes) if t == name] for name in sellers}

    def by_type(
        col: list[float], draw: Callable[[SellerType, list[float]], list[Any]], wanted: list[bool] | None = None
    ) -> list[Any]:
        """The seller type's own draw from each uniform (only where `wanted`; elsewhere None)."""
        out: list[Any] = [None] * size
        for name, where in groups.items():
            if wanted is not None:
                where = [i for i in where if wanted[i]]
            if where:
                for i, v in zip(where, draw(sellers[name], [col[i] for i in where]), strict=True):
                    out[i] = v
        return out

    placed = [
        (d if d < last_day else last_day) * DAY + int(x * DAY)
        for d, x in zip([bisect_right(day_cum, x * total) for x in cols[0]], cols[1], strict=True)
    ]
    amounts = [f"{x if x > 0.01 else 0.01:.2f}" for x in [round(x, 2) for x in b.amount.draws(cols[2])]]
    methods = b.payment.draws(cols[3])
    seller_names = [f"{t}-seller-{int(x * 50)}" for t, x in zip(stypes, cols[5], strict=True)]
    unpaid = [x < b.unpaid_share for x in cols[6]]
    pays = [x < b.pay_probability for x in cols[7]]
    pay_after = [
        max(1, round(d)) if (up and ps) else None
        for up, ps, d in zip(unpaid, pays, b.pay_delay.draws(cols[8]), strict=True)
    ]
    abandon = b.abandon_probability
    abandon_after = [
        max(1, round(d)) if (up and not ps and x < abandon) else None
        for up, ps, x, d in zip(unpaid, pays, cols[9], b.abandon_delay.draws(cols[10]), strict=True)
    ]
    requests = [x < b.cancel_probability for x in cols[11]]
    request_after = _secs_where(b.cancel_delay, cols[12], requests)
    reasons = b.reasons.draws(cols[13])
    answers = by_type(cols[14], lambda s, us: [x < s.answer_probability for x in us])
    answered = [a and q for a, q in zip(answers, requests, strict=True)]  # only a request is answered
    answer_after = [
        None if d is None else max(1, round(d))
        for d in by_type(cols[15], lambda s, us: s.answer_delay.draws(us), answered)
    ]
    fault = {code: f for code, (_, f) in CANCEL_REASONS.items()}
    accept = {(s.name, code): s.accept_probability[f] for s in b.sellers for code, f in fault.items()}
    accepts = [x < accept[t, w] for x, t, w in zip(cols[16], stypes, reasons, strict=True)]
    ship_days = by_type(cols[17], lambda s, us: s.ship_delay.draws(us))
    held = [x < b.held_share for x in cols[18]]
    release_after = _secs_where(b.release_delay, cols[19], held)  # only a held refund is released
    overdue = [x < b.overdue_dispute_probability and h for x, h in zip(cols[20], held, strict=True)]
    overdue_after = _secs_where(b.overdue_dispute_delay, cols[21], overdue)  # only a held refund is overdue
    rejected = [x < b.rejected_dispute_probability and q for x, q in zip(cols[22], answered, strict=True)]
    rejected_after = _secs_where(b.rejected_dispute_delay, cols[23], rejected)  # only an answer rejects
    shipped = [x < b.shipped_dispute_probability for x in cols[24]]
    shipped_after = _secs_where(b.shipped_dispute_delay, cols[25], shipped)
    shipped_reasons = b.shipped_dispute_reasons.draws(cols[26])
    disputes = [o or j or s for o, j, s in zip(overdue, rejected, shipped, strict=True)]
    resolve_after = _secs_where(b.resolve_delay, cols[27], disputes)  # only a dispute is resolved
    refunds = [x < b.resolve_refund_probability for x in cols[28]]
    confirm_after = _secs_where(b.confirm_delay, cols[30], [x < b.confirm_probability for x in cols[29]])
    fields = engine.many_order_fields(
        {
            "buyer": f"buyer-{shard}-{i}",
            "seller": s,
            "item": ITEM,
            "amount": a,
            "currency": CURRENCY,
            "payment": m,
            "quantity": 1,
        }
        for i, (s, a, m) in enumerate(zip(seller_names, amounts, methods, strict=True))
    )  # the payment method is checked per policy (R27), by engine.place_valid_order
    pack_after: list[int | None] = [None] * size
    seller_cancel_after: list[int | None] = [None] * size
    seller_cancel_reason = [""] * size
    for name, where in groups.items() if starts else ():
        s = sellers[name]
        k = DRAWS
        if s.pack_delay is not None:
            for i, d in zip(where, s.pack_delay.draws([u[starts[i] + k] for i in where]), strict=True):
                pack_after[i] = _secs(d)
            k += 1
        if s.cancel_delay is not None and s.cancel_reasons is not None:
            delays = s.cancel_delay.draws([u[starts[i] + k + 1] for i in where])
            why = s.cancel_reasons.draws([u[starts[i] + k + 2] for i in where])
            for i, d, w in zip(where, delays, why, strict=True):
                seller_cancel_after[i] = _secs(d) if u[starts[i] + k] < s.cancel_share else None
                seller_cancel_reason[i] = w
    rows = zip(
        range(size),
        placed,
        amounts,
        methods,
        seller_names,
        stypes,
        unpaid,
        pay_after,
        abandon_after,
        request_after,
        reasons,
        answer_after,
        accepts,
        ship_days,
        held,
        release_after,
        overdue_after,
        rejected_after,
        shipped_after,
        shipped_reasons,
        resolve_after,
        refunds,
        confirm_after,
        fields,
        pack_after,
        seller_cancel_after,
        seller_cancel_reason,
        strict=True,
    )
    plans = []
    for row in sorted(rows, key=itemgetter(1)):  # by placement; a stable sort keeps ties in draw order
        p = Plan()
        (
            p.n,
            p.placed,
            p.amount,
            p.method,
            p.seller,
            p.seller_type,
            p.unpaid,
            p.pay_after,
            p.abandon_after,
            p.request_after,
            p.reason,
            p.answer_after,
            p.accept,
            p.ship_days,
            p.held,
            p.release_after,
            p.overdue_dispute_after,
            p.rejected_dispute_after,
            p.shipped_dispute_after,
            p.shipped_reason,
            p.resolve_after,
            p.resolve_refund,
            p.confirm_after,
            p.fields,
            p.pack_after,
            p.seller_cancel_after,
            p.seller_cancel_reason,
        ) = row
        plans.append(p)
    return plans


def _secs_where(dist: Dist, us: list[float], wanted: list[bool]) -> list[Any]:
    """The delays drawn from the uniforms `us` in whole seconds, only where `wanted` (the order can
    use them: a lognormal's quantile is dear), else None."""
    where = [i for i, w in enumerate(wanted) if w]
    out: list[Any] = [None] * len(us)
    for i, d in zip(where, dist.draws([us[i] for i in where]), strict=True):
        out[i] = max(1, round(d))
    return out


def _secs(x: float) -> int:
    return max(1, round(x))  # whole seconds, and an action never lands on its own cause


def _ship_at(paid: datetime, days: float) -> datetime:
    """The seller's own calendar: Monday to Friday, UTC; fractions of a day as hours."""
    whole = int(days)
    landed, midnight, working = _working_day_landing(paid.date(), paid.tzinfo, whole)
    if working:  # else the count starts at 00:00 of the next working day
        landed += paid - midnight
    return landed + round((days - whole) * DAY) * _SECOND  # a product: cheaper than timedelta(seconds=...)


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
    the instant the world's clock stopped at. The fresh world keeps no history (the aggregates
    read the orders alone): pass a `world` to keep it."""
    if world is None:
        world = new_world(start, policy_meta, history=False)
    n = len(plans)
    orders: list[Any] = [None] * n
    # Placements come in plan order (plans are sorted by placement), so they are a queue of their
    # own beside the heap of follow-ups; on a tie a placement goes first (it was planned first).
    second = _SECOND
    placed_at = [start + p.placed * second for p in plans]
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
    # The engine's commands, bound once; the per-action helpers (act, after, later, paid) are folded
    # into the loop below: a Python call per action and per follow-up saved.
    seller_ship, seller_pack, confirm, pay = engine.seller_ship, engine.seller_pack, engine.confirm, engine.pay
    cancel_request, seller_respond, dispute_open = engine.cancel_request, engine.seller_respond, engine.dispute_open
    seller_cancel = engine.seller_cancel
    changed: list[int] = []  # the orders whatever just happened touched, for the follow-ups below

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
                for _, t in pushed[pos]:  # else superseded (the order shipped...)
                    if t == when:
                        due[pos] = None
                        break
            if not due:
                continue
            advance(world, when, [orders[pos] for pos in due])
            changed = list(due)
            now = when
        else:
            if at is None:
                break
            if at > world.now:
                # every deadline before `at` has fired (above): only the clock moves, which is what
                # engine.advance(world, at, []) would do, without building an empty deadline index
                set_now(at)
            now = at
            if placement:
                pos = placing
                placing += 1
                action = PLACE
                p = plans[pos]
                orders[pos] = order = place(world, p.fields, p.unpaid)
                if p.unpaid:
                    if p.pay_after is not None:
                        heappush(actions, (at + p.pay_after * second, ticket(), pos, PAY))
                    elif p.abandon_after is not None:
                        heappush(actions, (at + p.abandon_after * second, ticket(), pos, ABANDON))
                    paying = False
                else:
                    paying = True
            else:
                _, _, pos, action = heappop(actions)
                p = plans[pos]
                order = orders[pos]
                oid = order["id"]
                paying = False
                try:  # every action but a placement, the most frequent first
                    if action == SHIP:
                        if packs_first and order["packed_at"] is None:
                            if p.pack_after is not None:  # the seller packs later: the parcel waits for it
                                pack_waiting[pos] = True
                                continue
                            # pack_before_ship (R22) with no packing delay: the seller packs as it ships
                            seller_pack(world, oid)
                            if trace is not None:
                                trace.append((at, PACK, pos))
                        try:
                            seller_ship(world, oid)
                        except Refused as exc:
                            if exc.code == "request_pending":
                                ship_waiting[pos] = True  # ships once the request is answered or lapses
                            raise
                        if p.shipped_dispute_after is not None:
                            heappush(actions, (at + p.shipped_dispute_after * second, ticket(), pos, DISPUTE_SHIPPED))
                        if p.confirm_after is not None:
                            heappush(actions, (at + p.confirm_after * second, ticket(), pos, CONFIRM))
                    elif action == CONFIRM:
                        confirm(world, oid)
                    elif action == REQUEST:
                        cancel_request(world, oid, p.reason)
                        if p.answer_after is not None:
                            heappush(actions, (at + p.answer_after * second, ticket(), pos, RESPOND))
                    elif action == RESPOND:
                        seller_respond(world, oid, "accept" if p.accept else "reject")
                        if (
                            not p.accept
                            and p.rejected_dispute_after is not None
                            and CANCEL_REASONS[p.reason][1] == "seller"
                        ):
                            heappush(actions, (at + p.rejected_dispute_after * second, ticket(), pos, DISPUTE_REJECTED))
                    elif action == PAY:
                        pay(world, oid)
                        paying = True
                    elif action == HOLD:
                        engine.refund_hold(world, oid)
                        assert p.release_after is not None  # drawn for every held refund
                        heappush(actions, (at + p.release_after * second, ticket(), pos, RELEASE))
                        if p.overdue_dispute_after is not None:
                            due_by = parse_stored(order["refund"]["due_by"])
                            assert due_by is not None
                            heappush(
                                actions, (due_by + p.overdue_dispute_after * second, ticket(), pos, DISPUTE_OVERDUE)
                            )
                    elif action == RELEASE:
                        engine.refund_release(world, oid)
                    elif action == DISPUTE_OVERDUE:
                        dispute_open(world, oid, "refund-not-received")
                        assert p.resolve_after is not None  # drawn for every order that may be disputed
                        heappush(actions, (at + p.resolve_after * second, ticket(), pos, RESOLVE))
                    elif action == DISPUTE_REJECTED:
                        dispute_open(world, oid, p.reason)
                        assert p.resolve_after is not None  # drawn for every order that may be disputed
                        heappush(actions, (at + p.resolve_after * second, ticket(), pos, RESOLVE))
                    elif action == DISPUTE_SHIPPED:
                        dispute_open(world, oid, p.shipped_reason)
                        assert p.resolve_after is not None  # drawn for every order that may be disputed
                        heappush(actions, (at + p.resolve_after * second, ticket(), pos, RESOLVE))
                    elif action == RESOLVE:
                        engine.dispute_resolve(world, oid, "refund" if p.resolve_refund else "reject")
                    elif action == ABANDON:
                        cancel_request(world, oid, p.reason)
                    elif action == PACK:
                        seller_pack(world, oid)
                    elif action == SELLER_CANCEL:
                        seller_cancel(world, oid, p.seller_cancel_reason)
                except Refused:
                    continue  # as in life: the rules said no, so it did not happen
            if paying:  # paid: the seller's shipment and the buyer's and seller's next steps
                heappush(actions, (_ship_at(at, p.ship_days), ticket(), pos, SHIP))
                if p.request_after is not None:
                    heappush(actions, (at + p.request_after * second, ticket(), pos, REQUEST))
                if packs and p.pack_after is not None:
                    heappush(actions, (at + p.pack_after * second, ticket(), pos, PACK))
                if seller_cancels and p.seller_cancel_after is not None:
                    heappush(actions, (at + p.seller_cancel_after * second, ticket(), pos, SELLER_CANCEL))
            if trace is not None:
                trace.append((at, action, pos))
            changed = [pos]
        # whatever the engine just did to these orders: follow-ups and fresh deadlines
        for pos in changed:
            order = orders[pos]
            if not refund_seen[pos] and order["refund"] is not None:
                refund_seen[pos] = True
                if plans[pos].held:
                    heappush(actions, (now, ticket(), pos, HOLD))
            if ship_waiting[pos] and order["status"] == AWAITING_SHIPMENT:
                ship_waiting[pos] = False  # the request that stopped the seller is gone
                heappush(actions, (now, ticket(), pos, SHIP))
            if pack_waiting[pos] and order["packed_at"] is not None and order["status"] == AWAITING_SHIPMENT:
                pack_waiting[pos] = False  # packed at last: the parcel that was ready goes out
                heappush(actions, (now, ticket(), pos, SHIP))
            pending = pending_deadlines(order)
            if pending != pushed[pos]:
                pushed[pos] = pending
                for _, t in pending:
                    heappush(deadlines, (t, pos))
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
