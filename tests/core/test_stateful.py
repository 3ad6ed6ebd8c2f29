"""Stateful property test: random sequences of every command and clock move, run in-process
through the engine, with the invariants of docs/rules.md and docs/cli.md checked after every step.

A command that raises (exit 2-4 in the real program) writes nothing, so the machine snapshots the
world's tables before each command and puts the snapshot back when the command raises.
Anything other than an OrderCliError escaping the engine is a bug (exit 1) and fails the test.

Checked after every step:
- R14: at most one refund per order, only for paid orders, for the paid amount, currency and
  method; a paid order that is cancelled has its refund;
- final statuses (cancelled, completed) never change; R17: an order's terms never change;
- no pending deadline at or before the clock; the clock never goes back;
- R19: event seqs are 1..N without gaps, events already seen are never rewritten, events are in
  time order and never in the future (the same for notifications' seqs);
- R19, transition by transition: every change of an order since the last step (placed, paid,
  requested, answered, withdrawn, timed out, shipped, completed, cancelled, refund started, held,
  released, paid, dispute opened, resolved) has its event among the new events of that order,
  and every new event has its change; a paid refund never changes again and no order has two
  refund_completed events (R14);
- the stored world is plain JSON data;
- every order's CLI view has exactly docs/cli.md's order fields, with the right types;
- the `actions` of the order last touched: each action offered succeeds (on a copy of the
  world) and each action not offered is refused (exit 4) for every argument.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ordercli.core import engine, presets, views
from ordercli.core import policy as P
from ordercli.core.errors import NotFound, OrderCliError, Refused, UsageError
from ordercli.core.timecalc import UTC
from ordercli.core.world import World, order_id_for
from ordercli.store import new_world_tables

START = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday

BUYERS = ("alice", "bob", "carol")
SELLERS = ("acme", "globex", "bob")  # bob buys and sells: R20 must tell the roles apart by order
STRANGERS = ("mallory", "platform", "support", "alice", "acme")

# The policies the random worlds run under (overrides of the aliexpress preset's values).
POLICIES: dict[str, dict[str, Any]] = {
    "aliexpress": {},
    "ebay": {"seller_response_within": "3d", "on_seller_silence": "lapse"},
    "tight": {
        "pay_within": "2h",
        "ship_within": "1 working day",
        "seller_response_within": "90m",
        "on_seller_silence": "lapse",
        "cancel_requests_max": 2,
        "refund_within": {"alipay": "1h", "card": "1 working day", "paypal": "0s", "bank-transfer": "2 working days"},
    },
}

# issue 19: every preset as it ships (its whole resolved table), rotated with the policies above
PRESETS = tuple(p for p in presets.PRESETS if p not in ("aliexpress", "ebay"))
POLICY_NAMES = sorted(POLICIES) + ["ebay-preset", *PRESETS]
# every payment method some preset knows: under a policy that lacks one, placing with it is exit 2 (R27)
ALL_METHODS = tuple(dict.fromkeys(m for name in presets.PRESETS for m in presets.load(name).policy.payment_methods))
SELLER_REASONS = tuple(P.DEFAULT_SELLER_CANCEL_REASONS)

# docs/cli.md: the order object
REQUIRED_FIELDS = {
    "id", "buyer", "seller", "item", "quantity", "amount", "currency", "payment_method", "status",
    "placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at", "end_reason",
    "cancellation", "refund", "dispute", "next_deadline", "actions",
}
ALLOWED_EXTRA_FIELDS = {"pay_by", "tracking"}
# issue 19: packing (R22), the ship-by grace (R25), the seller's own cancellation (R26)
ALLOWED_EXTRA_FIELDS |= {"packed_at", "shipped_late", "auto_cancel_by", "seller_cancel"}
INSTANT_FIELDS = ("placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at")
CANCELLATION_FIELDS = {"reason", "fault", "note", "requested_at", "respond_by", "status", "responded_at", "requests"}
CANCELLATION_STATUSES = {"pending", "accepted", "rejected", "withdrawn", "timed_out"}
REFUND_FIELDS = {"order_id", "amount", "currency", "method", "status", "initiated_at", "due_by", "refunded_at",
                 "overdue"}
DISPUTE_FIELDS = {"reason", "status", "opened_at", "resolved_at", "outcome"}
TERMS = ("id", "buyer", "seller", "item", "quantity", "amount", "currency", "payment_method", "placed_at")
AMOUNT_RE = re.compile(r"\d+(\.\d{1,2})?")

# The action names of docs/cli.md's `actions`, each with the ways to try it (every argument it takes).
Attempt = Callable[[World, str], Any]
BUYER_ACTIONS: dict[str, list[Attempt]] = {
    "orders pay": [lambda w, i: engine.pay(w, i)],
    "orders confirm": [lambda w, i: engine.confirm(w, i)],
    "cancel request": [partial(engine.cancel_request, reason=r) for r in P.CANCEL_REASONS],
    "cancel withdraw": [lambda w, i: engine.cancel_withdraw(w, i)],
    "dispute open": [partial(engine.dispute_open, reason=r) for r in P.DISPUTE_REASONS],
}
SELLER_ACTIONS: dict[str, list[Attempt]] = {
    "seller ship": [lambda w, i: engine.seller_ship(w, i)],
    "seller respond": [partial(engine.seller_respond, answer=a) for a in P.RESPONSES],
    "seller pack": [lambda w, i: engine.seller_pack(w, i)],
    "seller cancel": [partial(engine.seller_cancel, reason=r) for r in SELLER_REASONS],
}
# Actions for which one working argument is enough (the others may be refused for their own reason).
ANY_ARGUMENT_WILL_DO = {"dispute open"}


def copy_tables(tables: dict) -> dict:
    """A deep copy, by the same road the real program takes: JSON out and back in."""
    return orjson.loads(orjson.dumps(tables))


def is_instant(value: Any) -> bool:
    if not isinstance(value, str) or not value.endswith("+00:00"):
        return False
    try:
        return datetime.fromisoformat(value).utcoffset() == timedelta(0)
    except ValueError:
        return False


def amounts() -> st.SearchStrategy[str]:
    cents = st.integers(min_value=1, max_value=10**9).map(lambda c: f"{c // 100}.{c % 100:02d}")
    tenths = st.integers(min_value=1, max_value=10**6).map(lambda c: f"{c // 10}.{c % 10}")
    whole = st.integers(min_value=1, max_value=10**6).map(str)
    return st.one_of(cents, tenths, whole, st.sampled_from(["0.01", "19.99", "0.10", "100.00", "007.50"]))


def durations() -> st.SearchStrategy[str]:
    minutes = st.integers(1, 59).map(lambda n: f"{n}m")
    hours = st.integers(1, 30).map(lambda n: f"{n}h")
    days = st.integers(1, 10).map(lambda n: f"{n}d")
    weeks = st.integers(1, 3).map(lambda n: f"{n}w")
    seconds = st.integers(1, 7200).map(lambda n: f"{n}s")
    combined = st.tuples(days, hours).map("".join)
    return st.one_of(minutes, hours, hours, hours, days, seconds, combined, st.one_of(weeks, days))


ANYTHING = object()  # run(): any outcome is fine
# Negative: an order the command plausibly applies to (the rule's `prefer`), so that orders live
# long lives; non-negative: any order at all.
order_picks = st.one_of(st.integers(min_value=-50, max_value=-1), st.integers(min_value=-50, max_value=-1),
                        st.integers(min_value=0, max_value=10**6))
# mostly the entitled party (None), sometimes someone else, sometimes the party by name
actors = st.sampled_from((None,) * 12 + STRANGERS)



def _refund_pending(refund: dict | None) -> bool:
    return refund is not None and refund["status"] == "pending"


class OrderWorld(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(new_world_tables(START))
        self.final: dict[str, tuple[str, dict]] = {}  # id -> (status, view fields that are then fixed)
        self.terms: dict[str, dict] = {}
        self.seen_events: list[dict] = []
        self.seen_notifications = 0
        self.last_now = self.world.now
        self.focus: str | None = None
        self.before: dict[str, dict] = {}  # id -> summary(order) after the last step
        self.events_checked = 0
        self.paid_refunds: dict[str, dict] = {}

    # -- helpers ----------------------------------------------------------------------------

    @initialize(policy=st.sampled_from(POLICY_NAMES),
                seed=st.lists(st.tuples(st.sampled_from(BUYERS), st.sampled_from(SELLERS), amounts(),
                                        st.sampled_from(ALL_METHODS), st.booleans()), max_size=3))
    def choose_policy_and_place(self, policy: str, seed: list) -> None:
        """The world's policy (set while it is empty), and a few first orders."""
        if policy in POLICIES:
            self.world.tables["meta"]["1"]["policy"]["values"].update(copy_tables(POLICIES[policy]))
        else:  # a preset as it ships
            self.world.tables["meta"]["1"]["policy"] = copy_tables(presets.load(policy.removesuffix("-preset")).meta())
        self.world = World(self.world.tables)
        for buyer, seller, amount, payment, unpaid in seed:
            if buyer == seller or payment not in self.world.policy.payment_methods:  # refused (exit 2)
                continue
            place = partial(engine.place_order, buyer=buyer, seller=seller, item="Mug", amount=amount,
                            payment=payment, unpaid=unpaid)
            self.focus = self.run(place, None)["id"]

    def pick(self, n: int, prefer: Callable[[dict], bool] = lambda o: True) -> str:
        if n < 0:
            liked = [o["id"] for o in self.world.iter_orders() if prefer(o)]
            if liked:
                return self.focus if self.focus is not None and self.focus in liked else liked[n % len(liked)]
        return order_id_for(n % len(self.world.orders) + 1)

    def run(self, command: Callable[[World], Any], expect: Any = ANYTHING) -> Any:
        """Run one command as the CLI would: a command that raises leaves the world as it was.
        `expect`: ANYTHING, None (must succeed) or the OrderCliError class it must raise."""
        snapshot = copy_tables(self.world.tables)
        try:
            result = command(self.world)
        except OrderCliError as exc:
            self.world = World(snapshot)
            if expect is not ANYTHING:
                assert expect is not None, f"expected success, got {type(exc).__name__}: {exc}"
                assert isinstance(exc, expect), f"expected {expect.__name__}, got {type(exc).__name__}: {exc}"
            return exc
        if expect is not ANYTHING:
            assert expect is None, f"expected {expect.__name__}, but the command succeeded"
        return result

    def act_as(self, order_id: str, role: str, actor: str | None,
               command: Callable[[World], Any]) -> Any:
        """R20: acting for another party is refused (exit 4), whatever the state."""
        entitled = self.world.order(order_id)[role]
        wrong = actor is not None and actor != entitled
        self.focus = order_id
        return self.run(command, Refused if wrong else ANYTHING)

    # -- orders ------------------------------------------------------------------------------

    @rule(buyer=st.sampled_from(BUYERS), seller=st.sampled_from(SELLERS), amount=amounts(),
          currency=st.sampled_from(["USD", "EUR", "CNY"]), payment=st.sampled_from(ALL_METHODS),
          quantity=st.integers(1, 5), unpaid=st.booleans(), actor=actors)
    def place(self, buyer: str, seller: str, amount: str, currency: str, payment: str, quantity: int,
              unpaid: bool, actor: str | None) -> None:
        wrong = actor is not None and actor != buyer
        same = buyer == seller or payment not in self.world.policy.payment_methods  # exit 2 (R27)
        out = self.run(
            lambda w: engine.place_order(w, buyer=buyer, seller=seller, item="Blue headset", amount=amount,
                                         currency=currency, payment=payment, quantity=quantity, unpaid=unpaid,
                                         actor=actor),
            UsageError if same else Refused if wrong else None,
        )
        if not wrong and not same:
            assert out["amount"] == str(Decimal(amount).quantize(Decimal("0.01")))  # USD, EUR, CNY: cents
            assert out["status"] in (P.AWAITING_PAYMENT if unpaid else P.AWAITING_SHIPMENT, P.CANCELLED)
            self.focus = out["id"]

    @rule(rows=st.lists(st.tuples(st.sampled_from(BUYERS), amounts(), st.sampled_from(ALL_METHODS),
                                  st.booleans()), min_size=1, max_size=3),
          broken=st.booleans())
    def import_orders(self, rows: list, broken: bool) -> None:
        lines = [(n, {"buyer": b, "seller": "acme", "item": "Cable", "amount": a, "payment": p, "unpaid": u})
                 for n, (b, a, p, u) in enumerate(rows, start=1)]
        if broken:  # all or nothing: one bad line, nothing imported
            lines.append((len(lines) + 1, {"buyer": "alice", "seller": "acme", "item": "Cable", "amount": "1.234"}))
        broken = broken or any(p not in self.world.policy.payment_methods for _, _, p, _ in rows)  # R27
        before = len(self.world.orders)
        self.run(lambda w: engine.import_orders(w, lines), UsageError if broken else None)
        assert len(self.world.orders) == before + (0 if broken else len(rows))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, actor=actors)
    def pay(self, n: int, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.AWAITING_PAYMENT)
        self.act_as(oid, "buyer", actor, lambda w: engine.pay(w, oid, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, actor=actors)
    def confirm(self, n: int, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.SHIPPED)
        self.act_as(oid, "buyer", actor, lambda w: engine.confirm(w, oid, actor))

    # -- cancellation --------------------------------------------------------------------------

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, reason=st.sampled_from(sorted(P.CANCEL_REASONS)),
          note=st.one_of(st.none(), st.just("found it cheaper")), actor=actors)
    def cancel_request(self, n: int, reason: str, note: str | None, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] in (P.AWAITING_PAYMENT, P.AWAITING_SHIPMENT))
        self.act_as(oid, "buyer", actor, lambda w: engine.cancel_request(w, oid, reason, note, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, actor=actors)
    def withdraw(self, n: int, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.CANCEL_REQUESTED)
        self.act_as(oid, "buyer", actor, lambda w: engine.cancel_withdraw(w, oid, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, answer=st.sampled_from(P.RESPONSES),
          message=st.one_of(st.none(), st.just("sorry")), actor=actors)
    def respond(self, n: int, answer: str, message: str | None, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.CANCEL_REQUESTED)
        self.act_as(oid, "seller", actor, lambda w: engine.seller_respond(w, oid, answer, message, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, tracking=st.one_of(st.none(), st.just("LP00123")), actor=actors)
    def ship(self, n: int, tracking: str | None, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.AWAITING_SHIPMENT)
        self.act_as(oid, "seller", actor, lambda w: engine.seller_ship(w, oid, tracking, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, actor=actors)
    def pack(self, n: int, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] == P.AWAITING_SHIPMENT and o["packed_at"] is None)
        self.act_as(oid, "seller", actor, lambda w: engine.seller_pack(w, oid, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, reason=st.one_of(st.sampled_from(SELLER_REASONS), st.just("bored")),
          message=st.one_of(st.none(), st.just("sorry")), actor=actors)
    def seller_cancel(self, n: int, reason: str, message: str | None, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] in (P.AWAITING_PAYMENT, P.AWAITING_SHIPMENT, P.CANCEL_REQUESTED))
        if reason not in SELLER_REASONS:  # exit 2 before anything else is looked at
            self.run(lambda w: engine.seller_cancel(w, oid, reason, message, actor), UsageError)
            return
        self.act_as(oid, "seller", actor, lambda w: engine.seller_cancel(w, oid, reason, message, actor))

    # -- refunds ---------------------------------------------------------------------------------

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, which=st.sampled_from(["hold", "release", "settle"]),
          actor=st.one_of(st.none(), st.none(), st.sampled_from(["platform", "support", "alice", "acme"])))
    def refund_action(self, n: int, which: str, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["refund"] is not None and o["refund"]["status"] != "refunded")
        fn = {"hold": engine.refund_hold, "release": engine.refund_release, "settle": engine.refund_settle}[which]
        has_refund = self.world.order(oid)["refund"] is not None
        expect: Any = ANYTHING
        if not has_refund:
            expect = NotFound
        elif actor not in (None, "platform"):
            expect = Refused
        self.focus = oid
        self.run(lambda w: fn(w, oid, actor), expect)

    @precondition(lambda self: any(_refund_pending(o["refund"]) for o in self.world.iter_orders()))
    @rule(n=st.integers(0, 50), late=st.integers(-2 * 86400, 3 * 86400),
          then=st.sampled_from(["wait", "dispute", "release", "settle"]))
    def stuck_refund(self, n: int, late: int, then: str) -> None:
        """A stuck payment: hold a pending refund, let the clock run to around its due_by (R16)."""
        pending = [o["id"] for o in self.world.iter_orders() if _refund_pending(o["refund"])]
        oid = pending[n % len(pending)]
        self.focus = oid
        self.run(lambda w: engine.refund_hold(w, oid), None)
        due = datetime.fromisoformat(self.world.order(oid)["refund"]["due_by"])
        target = max(due + timedelta(seconds=late), self.world.now)
        self.run(lambda w: engine.clock_set(w, target), None)
        refund = self.world.order(oid)["refund"]
        assert refund["status"] == "held", "a held refund settled by itself"
        assert P.refund_overdue(refund, self.world.now) == (self.world.now > due)
        if then == "dispute":  # R13 (c)
            disputes = self.world.order(oid)["disputes"]
            free = not (disputes and disputes[-1]["status"] == "open")
            self.run(lambda w: engine.dispute_open(w, oid, P.REFUND_DISPUTE_REASON),
                     None if self.world.now > due and free else Refused)
        elif then == "release":  # released past its due_by: paid at once
            self.run(lambda w: engine.refund_release(w, oid), None)
            refund = self.world.order(oid)["refund"]
            assert refund["status"] == ("refunded" if self.world.now >= due else "pending"), refund
        elif then == "settle":
            self.run(lambda w: engine.refund_settle(w, oid), None)
            assert self.world.order(oid)["refund"]["status"] == "refunded"

    # -- disputes --------------------------------------------------------------------------------

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, reason=st.one_of(st.sampled_from(P.DISPUTE_REASONS), st.just("fitting")), actor=actors)
    def dispute_open(self, n: int, reason: str, actor: str | None) -> None:
        oid = self.pick(n, lambda o: o["status"] in (P.AWAITING_SHIPMENT, P.SHIPPED, P.COMPLETED)
                        or P.refund_overdue(o["refund"], self.world.now))
        if reason == "fitting":  # the reason that fits the order's state, to reach every kind of dispute
            o = self.world.order(oid)
            if P.refund_overdue(o["refund"], self.world.now):
                reason = P.REFUND_DISPUTE_REASON
            elif o["status"] in (P.SHIPPED, P.COMPLETED):
                reason = P.POST_SHIPMENT_DISPUTE_REASONS[n % 3]
            else:
                reason = P.SELLER_FAULT_REASONS[n % 2]
        self.act_as(oid, "buyer", actor, lambda w: engine.dispute_open(w, oid, reason, actor))

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks, outcome=st.sampled_from(P.DISPUTE_OUTCOMES),
          actor=st.one_of(st.none(), st.none(), st.sampled_from(["support", "platform", "alice"])))
    def dispute_resolve(self, n: int, outcome: str, actor: str | None) -> None:
        oid = self.pick(n, lambda o: bool(o["disputes"]) and o["disputes"][-1]["status"] == "open")
        self.focus = oid
        self.run(lambda w: engine.dispute_resolve(w, oid, outcome, actor),
                 Refused if actor not in (None, "support") else ANYTHING)

    # -- bad input -------------------------------------------------------------------------------

    @rule(which=st.sampled_from(["pay", "confirm", "request", "withdraw", "respond", "ship", "hold", "dispute",
                                 "resolve"]), id_=st.sampled_from(["ORD-9999", "ORD-1", "ord-0001", "", "ORD-00001"]),
          bad=st.sampled_from(["because", "", "Second-Thought", "Refund", "damaged ", None]))
    def bad_input(self, which: str, id_: str, bad: str | None) -> None:
        """An unknown order id is exit 3; an unknown reason, answer or outcome is exit 2 (checked first)."""
        known = order_id_for(1) if self.world.orders else "ORD-0001"
        target, expect = (known, UsageError) if bad is not None else (id_, NotFound)
        if bad is None:
            bad = "other"
        calls: dict[str, Callable[[World], Any]] = {
            "pay": lambda w: engine.pay(w, id_),
            "confirm": lambda w: engine.confirm(w, id_),
            "request": lambda w: engine.cancel_request(w, target, bad if expect is UsageError else "other"),
            "withdraw": lambda w: engine.cancel_withdraw(w, id_),
            "respond": lambda w: engine.seller_respond(w, target, bad if expect is UsageError else "accept"),
            "ship": lambda w: engine.seller_ship(w, id_),
            "hold": lambda w: engine.refund_hold(w, id_),
            "dispute": lambda w: engine.dispute_open(w, target, bad if expect is UsageError else "damaged"),
            "resolve": lambda w: engine.dispute_resolve(w, target, bad if expect is UsageError else "refund"),
        }
        if which in ("pay", "confirm", "withdraw", "ship", "hold"):
            expect = NotFound  # no argument to get wrong
        self.run(calls[which], expect)

    # -- the clock -------------------------------------------------------------------------------

    @rule(how=st.sampled_from(["tick", "tick", "tick", "next", "set"]), duration=durations(),
          offset=st.integers(min_value=-3 * 86400, max_value=10 * 86400))
    def clock(self, how: str, duration: str, offset: int) -> None:
        before = self.world.now
        if how == "tick":
            move = self.run(lambda w: engine.clock_tick(w, duration), None)
            seconds = sum(int(n) * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}[u]
                          for n, u in re.findall(r"(\d+)([wdhms])", duration))
            assert self.world.now == before + timedelta(seconds=seconds)
        elif how == "next":
            pending = [at for o in self.world.iter_orders() for _, at in P.pending_deadlines(o)]
            move = self.run(engine.clock_next, None if pending else Refused)
            if not pending:
                return
            assert self.world.now == min(pending)
            assert move["fired"], "clock next fired nothing"
        else:
            target = before + timedelta(seconds=offset)
            backwards = offset < 0 and self.world.has_history()
            move = self.run(lambda w: engine.clock_set(w, target), Refused if backwards else None)
            if backwards:
                return
            assert self.world.now == target
        fired = [e["seq"] for e in move["fired"]]
        assert fired == list(range(fired[0], fired[0] + len(fired))) if fired else True
        assert all(before <= datetime.fromisoformat(e["at"]) <= self.world.now for e in move["fired"]), move

    @precondition(lambda self: self.world.orders)
    @rule(n=order_picks)
    def look_at(self, n: int) -> None:
        self.focus = self.pick(n)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def stored_world_is_json(self) -> None:
        assert copy_tables(self.world.tables) == self.world.tables

    @invariant()
    def clock_never_goes_back(self) -> None:
        if self.world.has_history():  # an empty world's clock may go anywhere
            assert self.world.now >= self.last_now, f"clock went back from {self.last_now} to {self.world.now}"
        self.last_now = self.world.now

    @invariant()
    def refunds_r14(self) -> None:
        started: dict[str, int] = {}
        for e in self.world.events.values():
            if e["kind"] == "refund_started":
                started[e["order_id"]] = started.get(e["order_id"], 0) + 1
        for o in self.world.iter_orders():
            oid = o["id"]
            assert started.get(oid, 0) <= 1, f"{oid}: {started[oid]} refunds started"
            r = o["refund"]
            if r is None:
                assert started.get(oid, 0) == 0, f"{oid}: a refund_started event but no refund"
                assert not (o["status"] == P.CANCELLED and o["paid_at"] is not None), \
                    f"{oid}: cancelled after payment ({o['end_reason']}) without a refund"
                continue
            assert o["paid_at"] is not None, f"{oid}: a refund for an unpaid order"
            assert r["order_id"] == oid
            assert r["amount"] == o["amount"], f"{oid}: refund {r['amount']} != paid {o['amount']}"
            assert r["currency"] == o["currency"]
            assert r["method"] == o["payment_method"]
            assert r["status"] in ("pending", "held", "refunded")
            assert (r["refunded_at"] is not None) == (r["status"] == "refunded")

    @invariant()
    def transitions_record_their_events(self) -> None:
        events = self.world.events
        new: dict[str, list[str]] = {}
        for i in range(self.events_checked + 1, len(events) + 1):
            e = events[str(i)]
            new.setdefault(e["order_id"], []).append(e["kind"])
        for o in self.world.iter_orders():
            oid = o["id"]
            now = summary(o)
            expected = transitions(self.before.get(oid), now, o)
            got = new.pop(oid, [])
            assert expected <= set(got), f"{oid}: changed {self.before.get(oid)} -> {now}, events {got}"
            unexplained = set(got) - expected - QUIET_KINDS
            assert not unexplained, f"{oid}: {unexplained} without their change: {self.before.get(oid)} -> {now}"
            assert got.count("refund_completed") <= 1, f"{oid}: {got}"
            self.before[oid] = now
        assert not new, f"events for orders that don't exist: {new}"
        self.events_checked = len(events)

    @invariant()
    def one_refund_completed_and_a_paid_refund_never_changes(self) -> None:
        paid = [e["order_id"] for e in self.world.events.values() if e["kind"] == "refund_completed"]
        assert len(paid) == len(set(paid)), f"an order has two refund_completed events: {sorted(paid)}"
        for o in self.world.iter_orders():
            r = o["refund"]
            if o["id"] in self.paid_refunds:
                assert r == self.paid_refunds[o["id"]], f"{o['id']}: a paid refund changed: {r}"
            elif r is not None and r["status"] == "refunded":
                self.paid_refunds[o["id"]] = copy_tables(r)

    @invariant()
    def final_statuses_and_terms_never_change(self) -> None:
        for o in self.world.iter_orders():
            oid = o["id"]
            terms = {k: o[k] for k in TERMS}
            assert self.terms.setdefault(oid, terms) == terms, f"{oid}: its terms changed (R17)"
            if oid in self.final:
                status, fixed = self.final[oid]
                now_fixed = {k: o[k] for k in fixed}
                assert o["status"] == status, f"{oid} left final status {status} for {o['status']}"
                assert now_fixed == fixed, f"{oid}: a final order changed {fixed} -> {now_fixed}"
            elif o["status"] in P.FINAL_STATUSES:
                fixed_keys = ("status", "end_reason", "cancelled_at", "completed_at", "shipped_at", "paid_at")
                self.final[oid] = (o["status"], {k: o[k] for k in fixed_keys})

    @invariant()
    def no_deadline_left_behind(self) -> None:
        now = self.world.now
        for o in self.world.iter_orders():
            for kind, at in P.pending_deadlines(o):
                assert at > now, f"{o['id']}: {kind} {at} is pending at or before the clock {now}"

    @invariant()
    def history_is_append_only(self) -> None:
        events = self.world.events
        assert list(events) == [str(i) for i in range(1, len(events) + 1)], "event keys are not 1..N"
        assert self.world.meta["next_event"] == len(events) + 1
        seen = len(self.seen_events)
        assert len(events) >= seen, "events disappeared"
        for i, old in enumerate(self.seen_events, start=1):
            assert events[str(i)] == old, f"event {i} was rewritten: {old} -> {events[str(i)]}"
        prev = self.seen_events[-1]["at"] if self.seen_events else None
        for i in range(seen + 1, len(events) + 1):
            e = events[str(i)]
            assert e["seq"] == i
            assert is_instant(e["at"]), e
            assert datetime.fromisoformat(e["at"]) <= self.world.now, f"event {i} is in the future: {e}"
            if prev is not None:
                back = datetime.fromisoformat(prev) > datetime.fromisoformat(e["at"])
                assert not back, f"event {i} goes back in time: {e}"
            prev = e["at"]
            self.seen_events.append(copy_tables(e))
        notes = self.world.notifications  # one stored row per notice, listed once per channel
        assert list(notes) == [str(i) for i in range(1, len(notes) + 1)], "notice keys are not 1..N"
        assert [n["channels"] for n in notes.values()] == [["email", "app"]] * len(notes)
        assert [n["seq"] for n in notes.values()] == list(range(1, 2 * len(notes), 2))
        listed = self.world.find_notifications()
        assert [n["seq"] for n in listed] == list(range(1, len(listed) + 1)) == list(range(1, 2 * len(notes) + 1))
        assert len(listed) == self.world.meta["next_notification"] - 1
        assert len(notes) >= self.seen_notifications
        self.seen_notifications = len(notes)

    @invariant()
    def views_follow_cli_md(self) -> None:
        for o in self.world.iter_orders():
            check_view(views.order(self.world, o))

    @invariant()
    def actions_are_what_the_engine_accepts(self) -> None:
        if self.focus is None:
            return
        oid = self.focus
        offered = views.order(self.world, self.world.order(oid))["actions"]
        for role, table in (("buyer", BUYER_ACTIONS), ("seller", SELLER_ACTIONS)):
            assert len(set(offered[role])) == len(offered[role]), offered
            assert set(offered[role]) <= set(table), f"unknown action names in {offered}"
            for name, attempts in table.items():
                outcomes = [self.attempt(attempt, oid) for attempt in attempts]
                if name in offered[role]:
                    ok = any(o is None for o in outcomes) if name in ANY_ARGUMENT_WILL_DO else all(
                        o is None for o in outcomes)
                    assert ok, f"{oid}: {role} action {name!r} is offered but fails: {outcomes}"
                else:
                    assert all(isinstance(o, Refused) for o in outcomes), \
                        f"{oid}: {role} action {name!r} is not offered but is not refused: {outcomes}"

    def attempt(self, attempt: Attempt, oid: str) -> OrderCliError | None:
        trial = World(copy_tables(self.world.tables))
        try:
            attempt(trial, oid)
        except OrderCliError as exc:
            return exc
        return None


def summary(o: dict) -> dict:
    c, r = o["cancellation"] or {}, o["refund"]
    return {
        "status": o["status"],
        "paid": o["paid_at"] is not None,
        "requests": c.get("requests", 0),
        "request": c.get("status"),
        "refund": None if r is None else r["status"],
        "disputes": len(o["disputes"]),
        "resolved": sum(d["status"] == "resolved" for d in o["disputes"]),
        "packed": o["packed_at"] is not None,
        "grace": o["auto_cancel_by"] is not None,
        "seller_cancel": o["seller_cancel"] is not None,
    }


# Kinds that may come without a change visible in the summary: a clock move can hold nothing
# back, but a hold released past due_by is paid at once (released + completed both show).
QUIET_KINDS = {"refund_released", "refund_held", "cancel_timed_out"}
ANSWERS = {"accepted": "cancel_accepted", "rejected": "cancel_rejected", "withdrawn": "cancel_withdrawn"}


def transitions(before: dict | None, now: dict, o: dict) -> set[str]:
    """The event kinds R19 requires for the change from `before` to `now` (docs/rules.md)."""
    want: set[str] = set()
    if before is None:
        want.add("order_placed")
        before = {"status": None, "paid": False, "requests": 0, "request": None, "refund": None, "disputes": 0,
                  "resolved": 0, "packed": False, "grace": False, "seller_cancel": False}
    if now["packed"] and not before["packed"]:
        want.add("order_packed")  # R22
    if now["grace"] and not before["grace"]:
        want.add("ship_by_passed")  # R25
    if now["seller_cancel"] and not before["seller_cancel"]:
        want.add("seller_cancelled")  # R26: it answers a pending request too, without cancel_accepted
        now = {**now, "request": before["request"]} if before["request"] == "pending" else now
    if now["paid"] and not before["paid"]:
        want.add("order_paid")
    if now["status"] != before["status"]:
        want |= {P.CANCELLED: {"order_cancelled"}, P.SHIPPED: {"order_shipped"},
                 P.COMPLETED: {"order_completed"}}.get(now["status"], set())
    if now["requests"] > before["requests"]:
        want.add("cancel_requested")
        if now["status"] == P.CANCELLED and not now["paid"]:  # R1: granted at once
            return want | {"order_cancelled"} | ({"order_placed"} if before["status"] is None else set())
    if before["request"] == "pending" and now["requests"] == before["requests"]:
        if now["request"] in ANSWERS:
            want.add(ANSWERS[now["request"]])
        elif now["request"] == "timed_out" and o["end_reason"] != "ship_timeout":
            want.add("cancel_timed_out")  # R10 (a ship_by timeout closes the request with the order)
    if now["refund"] is not None and before["refund"] is None:
        want.add("refund_started")
    if now["refund"] == "refunded" and before["refund"] != "refunded":
        want.add("refund_completed")
    if now["refund"] == "held" and before["refund"] != "held":
        want.add("refund_held")
    if before["refund"] == "held" and now["refund"] == "pending":
        want.add("refund_released")
    if now["disputes"] > before["disputes"]:
        want.add("dispute_opened")
    if now["resolved"] > before["resolved"]:
        want.add("dispute_resolved")
    return want


def check_view(v: dict) -> None:
    oid = v.get("id")
    keys = set(v)
    assert REQUIRED_FIELDS <= keys, f"{oid}: missing fields {REQUIRED_FIELDS - keys}"
    assert keys <= REQUIRED_FIELDS | ALLOWED_EXTRA_FIELDS, f"{oid}: extra fields {keys - REQUIRED_FIELDS}"
    assert json.loads(json.dumps(v)) == v, f"{oid}: the view is not plain JSON"
    assert isinstance(oid, str) and oid
    for k in ("buyer", "seller", "item"):
        assert isinstance(v[k], str) and v[k]
    assert isinstance(v["quantity"], int) and not isinstance(v["quantity"], bool) and v["quantity"] >= 1
    assert isinstance(v["amount"], str) and AMOUNT_RE.fullmatch(v["amount"]) and Decimal(v["amount"]) > 0, v["amount"]
    assert isinstance(v["currency"], str) and re.fullmatch(r"[A-Z]{3}", v["currency"])
    assert v["payment_method"] in ALL_METHODS  # issue 19: any preset's (R27)
    status = v["status"]
    assert status in P.STATUSES
    for k in INSTANT_FIELDS + tuple(ALLOWED_EXTRA_FIELDS & {"pay_by"}):
        assert v.get(k) is None or is_instant(v[k]), f"{oid}: {k} = {v.get(k)!r}"
    assert v["placed_at"] is not None
    if status == P.CANCELLED:
        assert v["end_reason"] in P.END_REASONS and v["cancelled_at"] is not None, v
    else:
        assert v["end_reason"] is None and v["cancelled_at"] is None, f"{oid}: {status} with {v['end_reason']}"
    if status == P.AWAITING_PAYMENT:
        assert v["paid_at"] is None and v["ship_by"] is None
    if status in (P.AWAITING_SHIPMENT, P.CANCEL_REQUESTED, P.SHIPPED, P.COMPLETED):
        assert v["paid_at"] is not None and v["ship_by"] is not None
    if status in (P.SHIPPED, P.COMPLETED):
        assert v["shipped_at"] is not None
    if status == P.COMPLETED:
        assert v["completed_at"] is not None
    c = v["cancellation"]
    if c is not None:
        assert set(c) == CANCELLATION_FIELDS, f"{oid}: cancellation fields {set(c)}"
        assert c["reason"] in P.CANCEL_REASONS and c["fault"] == P.CANCEL_REASONS[c["reason"]][1]
        assert c["status"] in CANCELLATION_STATUSES
        assert isinstance(c["requests"], int) and c["requests"] >= 1
        for k in ("requested_at", "respond_by", "responded_at"):
            assert c[k] is None or is_instant(c[k])
        assert (c["status"] == "pending") == (status == P.CANCEL_REQUESTED), f"{oid}: {status} with request {c}"
    else:
        assert status != P.CANCEL_REQUESTED
    r = v["refund"]
    if r is not None:
        assert set(r) == REFUND_FIELDS, f"{oid}: refund fields {set(r)}"
        assert r["status"] in ("pending", "held", "refunded")
        assert isinstance(r["overdue"], bool)
        for k in ("initiated_at", "due_by"):
            assert is_instant(r[k])
        assert r["refunded_at"] is None or is_instant(r["refunded_at"])
    d = v["dispute"]
    if d is not None:
        assert set(d) == DISPUTE_FIELDS, f"{oid}: dispute fields {set(d)}"
        assert d["reason"] in P.DISPUTE_REASONS
        assert d["status"] in ("open", "resolved")
        assert (d["outcome"] is None) == (d["status"] == "open")
        assert d["outcome"] in (None, *P.DISPUTE_OUTCOMES)
        assert is_instant(d["opened_at"]) and (d["resolved_at"] is None or is_instant(d["resolved_at"]))
    nd = v["next_deadline"]
    if nd is not None:
        assert set(nd) == {"kind", "at"} and nd["kind"] in P.DEADLINE_KINDS and is_instant(nd["at"])
    a = v["actions"]
    assert isinstance(a, dict) and set(a) == {"buyer", "seller"}
    assert all(isinstance(x, list) and all(isinstance(n, str) for n in x) for x in a.values())


OrderWorld.TestCase.settings = settings(
    max_examples=int(os.environ.get("ORDERCLI_FUZZ_EXAMPLES", "200")),  # more for a deeper run
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestOrderWorld = OrderWorld.TestCase
