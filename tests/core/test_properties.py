"""Property tests (hypothesis), in-process on the engine:

(a) docs/rules.md "A 30-day tick gives exactly the history that thirty 1-day ticks give": one long
    clock move and many short ones covering the same span leave identical worlds;
(b) add_working_days lands on a working day, keeps the time of day, is monotonic and composes;
(c) after any clock move (and any command), no pending deadline is at or before the clock.
"""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordercli.core import engine
from ordercli.core import policy as P
from ordercli.core.errors import OrderCliError
from ordercli.core.timecalc import UTC, add_working_days, is_working_day
from ordercli.core.world import World, order_id_for
from ordercli.store import new_world_tables

START = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday
PAYMENTS = ("card", "paypal", "alipay", "bank-transfer")

# Policies the random worlds run under (overrides of the aliexpress defaults).
POLICIES = {
    "aliexpress": {},
    "ebay": {"seller_response_within": "3d", "on_seller_silence": "lapse"},
    "shanghai": {
        "timezone": "Asia/Shanghai",
        "holidays": "CN",
        "seller_response_within": "48h",
        "cancel_requests_max": 2,
        "refund_within": {"alipay": "0s", "card": "0 working days", "paypal": "1h", "bank-transfer": "3 working days"},
    },
    "tight": {  # short windows so that firings cascade within one move
        "pay_within": "1h",
        "ship_within": "1 working day",
        "seller_response_within": "30m",
        "on_seller_silence": "lapse",
        "refund_within": {"alipay": "1h", "card": "1 working day", "paypal": "2h", "bank-transfer": "0 working days"},
    },
}

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fresh(policy: str) -> World:
    tables = new_world_tables(START)
    tables["meta"]["1"]["policy"]["values"].update(copy.deepcopy(POLICIES[policy]))
    return World(tables)


def clone(w: World) -> World:
    return World(copy.deepcopy(w.tables))


# -- random programs ------------------------------------------------------------------------------

ACTIONS = (
    "pay", "request", "withdraw", "accept", "reject", "ship", "confirm",
    "dispute", "resolve-refund", "resolve-reject", "hold", "release", "settle",
)
CANCEL_REASONS = tuple(P.CANCEL_REASONS)
DISPUTE_REASONS = P.DISPUTE_REASONS

hours = st.integers(1, 24 * 12).map(lambda h: h * 3600)
seconds = st.integers(1, 12 * 86400)
tick_span = st.one_of(hours, seconds)

cut_list = st.lists(st.integers(0, 10**6), max_size=6)
place_step = st.tuples(st.just("place"), st.sampled_from(PAYMENTS), st.booleans())
act_step = st.tuples(st.just("act"), st.integers(0, 50), st.sampled_from(ACTIONS), st.integers(0, 50))
tick_step = st.tuples(st.just("tick"), tick_span, cut_list)

# Scripts that drive the order just placed towards each state (("wait", H) ticks up to H hours).
SCRIPTS: dict[str, list[tuple]] = {
    "unpaid": [],
    "paid-later": [("wait", 20), ("pay", 0)],
    "unpaid-cancel": [("wait", 5), ("request", "wrong-product")],
    "paid": [],
    "requested": [("wait", 48), ("request", "second-thought")],
    "requested-seller-fault": [("request", "shipping-delay"), ("wait", 100)],
    "rejected": [("request", "other"), ("wait", 70), ("reject", 0)],
    "rejected-thrice": [("request", "other"), ("reject", 0), ("request", "other"), ("reject", 0),
                        ("request", "other"), ("reject", 0), ("request", "other")],
    "accepted": [("wait", 30), ("request", "wrong-product"), ("wait", 70), ("accept", 0)],
    "withdrawn": [("request", "seller-unresponsive"), ("wait", 10), ("withdraw", 0),
                  ("dispute", "seller-unresponsive")],
    "shipped": [("wait", 100), ("ship", 0)],
    "completed": [("ship", 0), ("wait", 200), ("confirm", 0)],
    "shipped-dispute": [("ship", 0), ("wait", 50), ("dispute", "not-received"), ("wait", 50), ("resolve-refund", 0)],
    "completed-dispute": [("ship", 0), ("confirm", 0), ("dispute", "damaged"), ("wait", 50), ("resolve-reject", 0)],
    "pre-dispute": [("dispute", "shipping-delay"), ("wait", 100)],
    "pre-dispute-refund": [("dispute", "seller-unresponsive"), ("wait", 20), ("resolve-refund", 0)],
    "held": [("request", "other"), ("accept", 0), ("hold", 0), ("wait", 400), ("release", 0)],
    "held-overdue": [("request", "other"), ("accept", 0), ("hold", 0), ("wait", 24 * 25),
                     ("dispute", "refund-not-received"), ("wait", 30), ("resolve-refund", 0)],
    "settled": [("request", "other"), ("accept", 0), ("wait", 24), ("settle", 0)],
}
UNPAID_SCRIPTS = ("unpaid", "paid-later", "unpaid-cancel")


@st.composite
def order_script(draw) -> list[tuple]:
    kind = draw(st.sampled_from(sorted(SCRIPTS)))
    steps: list[tuple] = []
    gap = draw(st.one_of(st.just(0), st.integers(1, 96).map(lambda h: h * 3600), st.integers(1, 4 * 86400)))
    if gap:
        steps.append(("tick", gap, draw(cut_list)))
    steps.append(("place", draw(st.sampled_from(PAYMENTS)), kind in UNPAID_SCRIPTS))
    for action, arg in SCRIPTS[kind]:
        if action == "wait":
            span = draw(st.one_of(st.integers(1, arg).map(lambda h: h * 3600), st.integers(1, arg * 3600)))
            steps.append(("tick", span, draw(cut_list)))
        else:
            steps.append(("act", -1, action, arg))  # -1: the order placed last
    return steps


@st.composite
def programs(draw) -> list[tuple]:
    """A few orders, each driven towards some state at a random offset, then random commands
    and ticks on random orders."""
    steps = [s for script in draw(st.lists(order_script(), min_size=1, max_size=6)) for s in script]
    steps += draw(st.lists(st.one_of(act_step, act_step, tick_step, place_step), max_size=10))
    return steps


program = programs()


def cuts_for(span: int, raw: list[int]) -> list[int]:
    """Cut points strictly inside (0, span), whole hours when the span is whole hours
    (so that cuts fall exactly on deadlines now and then)."""
    if span % 3600 == 0 and span > 3600:
        pts = {(c % (span // 3600 - 1) + 1) * 3600 for c in raw}
    elif span > 1:
        pts = {c % (span - 1) + 1 for c in raw}
    else:
        pts = set()
    return sorted(pts)


def pieces(span: int, cuts: list[int]) -> list[int]:
    bounds = [0, *cuts, span]
    out = [b - a for a, b in itertools.pairwise(bounds)]
    assert sum(out) == span and all(p > 0 for p in out)
    return out


def act(w: World, step: tuple) -> str:
    """Run one command; returns 'ok' or the error's class and code (refusals are expected)."""
    kind = step[0]
    try:
        if kind == "place":
            _, payment, unpaid = step
            n = w.meta["next_order"]
            engine.place_order(w, buyer=f"buyer{n % 3}", seller=f"seller{n % 2}", item="thing",
                               amount="10.50", payment=payment, unpaid=unpaid)
        elif kind == "act":
            _, idx, action, arg = step
            count = w.meta["next_order"] - 1
            if count == 0:
                return "no order"
            oid = order_id_for(count if idx < 0 else idx % count + 1)
            if action == "pay":
                engine.pay(w, oid)
            elif action == "request":
                reason = arg if isinstance(arg, str) else CANCEL_REASONS[arg % len(CANCEL_REASONS)]
                engine.cancel_request(w, oid, reason)
            elif action == "withdraw":
                engine.cancel_withdraw(w, oid)
            elif action in ("accept", "reject"):
                engine.seller_respond(w, oid, action)
            elif action == "ship":
                engine.seller_ship(w, oid, "TRK")
            elif action == "confirm":
                engine.confirm(w, oid)
            elif action == "dispute":
                reason = arg if isinstance(arg, str) else DISPUTE_REASONS[arg % len(DISPUTE_REASONS)]
                engine.dispute_open(w, oid, reason)
            elif action == "resolve-refund":
                engine.dispute_resolve(w, oid, "refund")
            elif action == "resolve-reject":
                engine.dispute_resolve(w, oid, "reject")
            elif action == "hold":
                engine.refund_hold(w, oid)
            elif action == "release":
                engine.refund_release(w, oid)
            elif action == "settle":
                engine.refund_settle(w, oid)
            else:  # pragma: no cover
                raise AssertionError(action)
        else:  # pragma: no cover
            raise AssertionError(kind)
    except OrderCliError as exc:
        return f"{type(exc).__name__}:{exc.code}"
    return "ok"


def assert_nothing_overdue(w: World) -> None:
    """(c): every deadline still pending lies strictly after the clock."""
    for o in w.iter_orders():
        for kind, at in P.pending_deadlines(o):
            assert at > w.now, f"{o['id']} {kind} {at} is not after the clock {w.now} (status {o['status']})"


def assert_history_sound(w: World) -> None:
    """R14 and R19, which every world the programs build must keep."""
    seqs = sorted(int(k) for k in w.events)
    assert seqs == list(range(1, w.meta["next_event"]))
    ats = [w.events[str(s)]["at"] for s in seqs]
    assert ats == sorted(ats), "history is not in time order"
    assert all(at <= w.meta["clock"] for at in ats)
    started = {}
    for s in seqs:
        e = w.events[str(s)]
        if e["kind"] == "refund_started":
            assert e["order_id"] not in started, f"two refunds for {e['order_id']}"
            started[e["order_id"]] = e
    for o in w.iter_orders():
        if o["paid_at"] is None:
            assert o["refund"] is None, f"refund for unpaid order {o['id']}"
        if o["status"] == "cancelled" and o["paid_at"] is not None:
            assert o["refund"] is not None, f"paid order {o['id']} cancelled without a refund"
        if o["refund"] is not None:
            assert o["id"] in started
            assert o["refund"]["amount"] == o["amount"]
            assert o["refund"]["method"] == o["payment_method"]
        opened = [d for d in o["disputes"] if d["status"] == "open"]
        assert len(opened) <= 1


def run(w: World, steps: list[tuple], split: bool) -> list:
    """Runs a program; with `split`, every tick is made of its cut pieces. Returns the outcomes
    (commands' results and every event fired by the clock)."""
    outcomes: list = []
    final: dict[str, str] = {}
    for step in steps:
        if step[0] == "tick":
            _, span, raw = step
            parts = pieces(span, cuts_for(span, raw)) if split else [span]
            fired: list = []
            for part in parts:
                before = w.now
                res = engine.clock_tick(w, f"{part}s")
                assert w.now == before + timedelta(seconds=part)
                fired.extend(res["fired"])
                assert_nothing_overdue(w)
            outcomes.append(("tick", fired))
        else:
            outcomes.append((step, act(w, step)))
            assert_nothing_overdue(w)
        for o in w.iter_orders():  # cancelled and completed are final
            if o["id"] in final:
                assert o["status"] == final[o["id"]], f"{o['id']} left {final[o['id']]}"
            elif o["status"] in P.FINAL_STATUSES:
                final[o["id"]] = o["status"]
    assert_history_sound(w)
    return outcomes


def build(policy: str, steps: list[tuple]) -> World:
    w = fresh(policy)
    run(w, steps, split=False)
    return w


# -- (a) one long tick == many short ticks -------------------------------------------------------------


@SETTINGS
@given(policy=st.sampled_from(sorted(POLICIES)), steps=program)
def test_thirty_one_day_ticks_equal_one_thirty_day_tick(policy, steps):
    base = build(policy, steps)
    long, short = clone(base), clone(base)

    res = engine.clock_tick(long, "30d")
    fired_short = []
    for _ in range(30):
        fired_short.extend(engine.clock_tick(short, "1d")["fired"])

    assert long.now == base.now + timedelta(days=30)
    assert short.tables == long.tables
    assert fired_short == res["fired"]
    assert res["from"] == base.meta["clock"] and res["to"] == long.meta["clock"]


@SETTINGS
@given(
    policy=st.sampled_from(sorted(POLICIES)),
    steps=program,
    span=st.one_of(st.integers(1, 40 * 24).map(lambda h: h * 3600), st.integers(1, 40 * 86400)),
    raw_cuts=st.lists(st.integers(0, 10**7), max_size=25),
)
def test_one_long_tick_equals_random_short_ticks(policy, steps, span, raw_cuts):
    base = build(policy, steps)
    long, short = clone(base), clone(base)

    res = engine.clock_tick(long, f"{span}s")
    fired_short = []
    for part in pieces(span, cuts_for(span, raw_cuts)):
        fired_short.extend(engine.clock_tick(short, f"{part}s")["fired"])

    assert short.tables == long.tables
    assert fired_short == res["fired"]
    # the fired events are exactly the new tail of the history, in time order
    new = [long.events[str(s)] for s in range(base.meta["next_event"], long.meta["next_event"])]
    assert res["fired"] == new
    assert [e["at"] for e in new] == sorted(e["at"] for e in new)
    assert all(base.meta["clock"] <= e["at"] <= long.meta["clock"] for e in new)


@SETTINGS
@given(policy=st.sampled_from(sorted(POLICIES)), steps=program, days=st.integers(1, 40))
def test_clock_next_steps_then_set_equal_one_tick(policy, steps, days):
    """Walking deadline by deadline with `clock next`, then `clock set`, is the same move."""
    base = build(policy, steps)
    long, walk = clone(base), clone(base)
    target = base.now + timedelta(days=days)

    res = engine.clock_tick(long, f"{days}d")
    fired = []
    while True:
        pending = [at for o in walk.iter_orders() for _, at in P.pending_deadlines(o)]
        if not pending or min(pending) > target:
            break
        step = engine.clock_next(walk)
        assert walk.now == min(pending)
        assert step["fired"], "clock next fired nothing"
        fired.extend(step["fired"])
        assert_nothing_overdue(walk)
    fired.extend(engine.clock_set(walk, target)["fired"])

    assert walk.tables == long.tables
    assert fired == res["fired"]


@SETTINGS
@given(policy=st.sampled_from(sorted(POLICIES)), steps=program)
def test_splitting_every_tick_of_a_program_changes_nothing(policy, steps):
    """Commands interleaved with ticks: splitting each tick into pieces gives the same
    outcomes for every command and the same world."""
    a, b = fresh(policy), fresh(policy)
    out_a = run(a, steps, split=False)
    out_b = run(b, steps, split=True)
    assert out_b == out_a
    assert b.tables == a.tables


def test_thirty_day_tick_fires_everything_at_its_own_instant():
    """A fixed world: the long tick's history carries each deadline's own instant."""
    w = fresh("aliexpress")
    unpaid = engine.place_order(w, buyer="a", seller="s", item="x", amount="1", unpaid=True)
    paid = engine.place_order(w, buyer="a", seller="s", item="x", amount="2", payment="alipay")
    asked = engine.place_order(w, buyer="a", seller="s", item="x", amount="3", payment="paypal")
    engine.clock_tick(w, "12h")
    engine.cancel_request(w, asked["id"], "other")
    short = clone(w)
    res = engine.clock_tick(w, "30d")
    for _ in range(30):
        engine.clock_tick(short, "1d")
    assert short.tables == w.tables
    got = [(e["at"], e["order_id"], e["kind"]) for e in res["fired"]]
    assert got == [
        ("2030-03-05T09:00:00+00:00", unpaid["id"], "order_cancelled"),  # R2: pay_by = placed + 24h
        ("2030-03-07T21:00:00+00:00", asked["id"], "cancel_timed_out"),  # R10: respond_by = +72h
        ("2030-03-07T21:00:00+00:00", asked["id"], "order_cancelled"),
        ("2030-03-07T21:00:00+00:00", asked["id"], "refund_started"),
        ("2030-03-13T09:00:00+00:00", paid["id"], "order_cancelled"),  # R4: ship_by = +7 working days
        ("2030-03-13T09:00:00+00:00", paid["id"], "refund_started"),
        ("2030-03-20T09:00:00+00:00", paid["id"], "refund_completed"),  # alipay: 7 calendar days
        ("2030-03-28T21:00:00+00:00", asked["id"], "refund_completed"),  # paypal: 15 working days
    ]
    assert w.orders["1"]["end_reason"] == "payment_timeout"
    assert w.orders["2"]["end_reason"] == "ship_timeout"
    assert w.orders["3"]["end_reason"] == "seller_silent"


# -- (b) working-day arithmetic ---------------------------------------------------------------------

ZONES = [UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Tokyo"), ZoneInfo("Etc/GMT+5")]

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))


@st.composite
def holiday_sets(draw, around: datetime):
    offsets = draw(st.lists(st.integers(-3, 60), max_size=12))
    return frozenset(around.date() + timedelta(days=k) for k in offsets)


def _check_working_days(start: datetime, n: int, tz, is_holiday) -> datetime:
    got = add_working_days(start, n, tz, is_holiday)
    assert got.utcoffset() == timedelta(0)
    local_start, local_got = start.astimezone(tz), got.astimezone(tz)
    starts_on_working_day = is_working_day(local_start.date(), is_holiday)
    # lands on a working day
    assert is_working_day(local_got.date(), is_holiday)
    # keeps the time of day, or 00:00 after moving off a non-working start
    expected_tod = local_start.time().replace(tzinfo=None) if starts_on_working_day else time(0, 0)
    assert local_got.time().replace(tzinfo=None) == expected_tod
    # exactly n working days are counted after the (moved) start day
    first = local_start.date()
    while not is_working_day(first, is_holiday):
        first += timedelta(days=1)
    counted = sum(
        1 for k in range(1, (local_got.date() - first).days + 1)
        if is_working_day(first + timedelta(days=k), is_holiday)
    )
    assert counted == n
    assert local_got.date() >= first
    return got


@SETTINGS
@given(start=instants, n=st.integers(0, 40), m=st.integers(0, 40), tz=st.sampled_from(ZONES))
def test_add_working_days_lands_on_working_day_monotonic(start, n, m, tz):
    a = _check_working_days(start, n, tz, None)
    b = _check_working_days(start, m, tz, None)
    if n < m:
        assert a < b
    elif n == m:
        assert a == b
    assert a >= start
    if is_working_day(start.astimezone(tz).date()):
        assert add_working_days(start, 0, tz) == start
    # composes: adding n then m is adding n + m
    assert add_working_days(a, m, tz) == add_working_days(start, n + m, tz)


@SETTINGS
@given(data=st.data(), start=instants, n=st.integers(0, 30), tz=st.sampled_from(ZONES))
def test_add_working_days_with_holidays(data, start, n, tz):
    hols = data.draw(holiday_sets(start.astimezone(tz)))
    is_holiday = hols.__contains__
    a = _check_working_days(start, n, tz, is_holiday)
    b = _check_working_days(start, n + 1, tz, is_holiday)
    assert a < b
    assert a.astimezone(tz).date() not in hols
    # holidays only ever push the answer later
    assert a >= add_working_days(start, n, tz)
    assert add_working_days(a, 1, tz, is_holiday) == b


@SETTINGS
@given(start=instants, n=st.integers(1, 30))
def test_five_working_days_are_a_week_from_a_weekday_or_the_next_monday(start, n):
    """5n working days (UTC, no holidays) are n weeks on from a weekday start; from a Saturday
    or Sunday they are n weeks on from the next Monday 00:00 (docs/rules.md's move)."""
    if start.weekday() < 5:
        expected = start + timedelta(weeks=n)
    else:
        monday = start.date() + timedelta(days=7 - start.weekday())
        expected = datetime.combine(monday, time(0, 0), tzinfo=UTC) + timedelta(weeks=n)
    assert add_working_days(start, 5 * n) == expected


# An oracle for (a) written from docs/rules.md alone, so that a long tick is compared with the rules
# and not only with itself: UTC, no holidays, the aliexpress defaults.

def naive_working_days(t: datetime, n: int) -> datetime:
    if t.weekday() >= 5:
        t = datetime.combine(t.date() + timedelta(days=7 - t.weekday()), time(0, 0), tzinfo=UTC)
    while n:
        t += timedelta(days=1)
        n -= t.weekday() < 5
    return t


def naive_history(placed: list[tuple[datetime, str]], end: datetime) -> dict[str, list[tuple[str, datetime]]]:
    """Untouched orders: R2 cancels the unpaid at pay_by; R4 cancels the paid at ship_by and
    refunds (R15: alipay 7 days, the others 15 working days); R16 pays at due_by."""
    out: dict[str, list[tuple[str, datetime]]] = {}
    for num, (t, payment) in enumerate(placed, start=1):
        h = [("order_placed", t)]
        if payment == "unpaid":
            if t + timedelta(hours=24) <= end:
                h.append(("order_cancelled", t + timedelta(hours=24)))
        else:
            h.append(("order_paid", t))
            ship_by = naive_working_days(t, 7)
            if ship_by <= end:
                h += [("order_cancelled", ship_by), ("refund_started", ship_by)]
                due = ship_by + timedelta(days=7) if payment == "alipay" else naive_working_days(ship_by, 15)
                if due <= end:
                    h.append(("refund_completed", due))
        out[order_id_for(num)] = h
    return out


@SETTINGS
@given(
    orders=st.lists(st.tuples(st.integers(0, 6 * 86400), st.sampled_from(PAYMENTS + ("unpaid",))), min_size=1,
                    max_size=6),
    span=st.one_of(st.integers(1, 60 * 24).map(lambda h: h * 3600), st.integers(1, 60 * 86400)),
)
def test_a_long_tick_gives_the_history_the_rules_give(orders, span):
    w = fresh("aliexpress")
    placed = []
    for gap, payment in orders:
        if gap:
            engine.clock_tick(w, f"{gap}s")
        engine.place_order(w, buyer="a", seller="s", item="x", amount="1",
                           payment="card" if payment == "unpaid" else payment, unpaid=payment == "unpaid")
        placed.append((w.now, payment))
    engine.clock_tick(w, f"{span}s")
    got: dict[str, list[tuple[str, datetime]]] = {}
    for e in w.events.values():
        got.setdefault(e["order_id"], []).append((e["kind"], datetime.fromisoformat(e["at"])))
    assert got == naive_history(placed, w.now)


# -- (c) no deadline at or before the clock after a move ------------------------------------------------

moves = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), tick_span),
        st.tuples(st.just("set"), st.integers(0, 20 * 86400)),
        st.tuples(st.just("next"), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


@SETTINGS
@given(policy=st.sampled_from(sorted(POLICIES)), steps=program, clock_moves=moves)
def test_no_pending_deadline_at_or_before_the_clock_after_any_move(policy, steps, clock_moves):
    w = build(policy, steps)  # `run` already checks after every command and every tick
    assert_nothing_overdue(w)
    for kind, amount in clock_moves:
        before = w.now
        if kind == "tick":
            engine.clock_tick(w, f"{amount}s")
            assert w.now == before + timedelta(seconds=amount)
        elif kind == "set":
            engine.clock_set(w, before + timedelta(seconds=amount))
            assert w.now == before + timedelta(seconds=amount)
        else:
            pending = [at for o in w.iter_orders() for _, at in P.pending_deadlines(o)]
            try:
                engine.clock_next(w)
            except OrderCliError as exc:
                assert not pending
                assert exc.exit_code == 4
            else:
                assert pending and w.now == min(pending)
        assert_nothing_overdue(w)
        assert_history_sound(w)
        nd = [P.next_deadline(o) for o in w.iter_orders()]
        assert all(d is None or d["at"] > w.now for d in nd)
