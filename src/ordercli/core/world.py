"""The world: orders, clock, policy, events and notifications, in TinyDB's file layout.

The layout is TinyDB's (tables of doc_id -> document). `World(tables)` is a world in memory, on
plain dicts (what the engine, the simulator and the Python API use); the store opens a data file
as a `ordercli.store.tinyworld.TinyWorld`, the same interface over TinyDB's tables.

The notifications table keeps one row per notice, with the `channels` it went out on (schema 3:
a big tick stores half the rows it stored before); `per_channel` lists them as the contract has
them, one notification per channel.

The idempotency table (schema 4) remembers what each `--idempotency-key` did, for a retry to
replay: one document (id 1) mapping each key to its record (the command, a fingerprint of its
values, when it was done and the ids and event range it made: never a copy of its answer), so a
key is found by one dict lookup and a command without a key never looks at the table.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from ordercli.core import policy as P
from ordercli.core.errors import NotFound, StorageError, UsageError
from ordercli.core.model import Event, EventDetails, EventKind, Notification, NotificationKind
from ordercli.core.policy import Policy, policy_from_mapping
from ordercli.core.timecalc import fmt, parse_stored

SCHEMA_VERSION = 5
APP = "ordercli"
KEYS = "idempotency"  # the table of idempotency keys (schema 4)
TABLES = ("meta", "orders", "events", "notifications", KEYS)
_ID_RE = re.compile(r"ORD-(\d+)")
CHANNELS = ("email", "app")


# the stored forms live in the model (so the policy can name them without importing the world)
from ordercli.core.model import StoredMessage as StoredMessage  # noqa: E402
from ordercli.core.model import StoredNotice as StoredNotice  # noqa: E402
from ordercli.core.model import StoredOrder as StoredOrder  # noqa: E402
from ordercli.core.model import StoredRefund as StoredRefund  # noqa: E402
from ordercli.core.model import Table as Table  # noqa: E402
from ordercli.core.model import Tables as Tables  # noqa: E402


def order_id_for(num: int) -> str:
    return "ORD-%04d" % num  # noqa: UP031 - printf-style: half the cost of the f-string, once per order


def empty_tables(now: datetime, policy_meta: dict[str, Any]) -> Tables:
    meta = {
        "app": APP,
        "schema": SCHEMA_VERSION,
        "clock": fmt(now),
        "next_order": 1,
        "next_event": 1,
        "next_notification": 1,
        "policy": policy_meta,
    }
    return {"meta": {"1": meta}, "orders": {}, "events": {}, "notifications": {}, KEYS: {}}


def _damaged(what: str) -> StorageError:
    # history is append-only: never overwrite a row the file already has
    return StorageError(
        f"the data file is damaged: {what}; it was left untouched: run `ordercli db check`", "damaged_data"
    )


class World:
    def __init__(self, tables: Tables):
        self.tables = tables
        self.meta: dict[str, Any] = tables["meta"]["1"]
        self.orders: dict[str, StoredOrder] = tables["orders"]
        self.events: dict[str, Event] = tables["events"]
        self.notifications: dict[str, StoredNotice] = tables["notifications"]
        # {"1": {key: record}} once a key is kept
        self.keys: dict[str, dict[str, dict[str, Any]]] = tables.setdefault(KEYS, {})
        self.now: datetime = parse_stored(self.meta["clock"])
        self.now_text: str = fmt(self.now)  # stamped on every record made now
        self.dirty = False
        self.schema_on_disk = SCHEMA_VERSION
        self._policy: Policy | None = None
        # the engine's index of this world's pending deadlines (DeadlineIndex below, with its
        # invariant), built on first need: it belongs to this world and goes with it
        self.deadline_index: DeadlineIndex | None = None

    # -- clock and policy
    def set_now(self, instant: datetime) -> None:
        self.now = instant
        self.now_text = self.meta["clock"] = fmt(instant)
        self.dirty = True

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            p = self.meta["policy"]
            try:
                self._policy = policy_from_mapping(p["values"], p["name"])
            except UsageError as exc:  # the file's own policy: a damaged file, not bad input
                raise _damaged(f"its policy is invalid: {exc.message}") from None
        return self._policy

    def set_policy(self, meta: dict[str, Any], policy: Policy) -> None:
        self.meta["policy"] = meta
        self._policy = policy
        self.dirty = True

    def has_history(self) -> bool:
        return bool(self.orders) or bool(self.events)

    # -- queries (a TinyWorld answers them through TinyDB's search)
    def count_orders(self) -> int:
        return len(self.orders)

    def count_events(self) -> int:
        return len(self.events)

    def find_orders(
        self, status: str | None = None, buyer: str | None = None, seller: str | None = None
    ) -> list[StoredOrder]:
        return [
            o
            for o in self.iter_orders()
            if (status is None or o["status"] == status)
            and (buyer is None or o["buyer"] == buyer)
            and (seller is None or o["seller"] == seller)
        ]

    def orders_with_refund(self) -> list[StoredOrder]:
        return [o for o in self.iter_orders() if o.get("refund") is not None]

    def orders_with_disputes(self) -> list[StoredOrder]:
        return [o for o in self.iter_orders() if o.get("disputes")]

    def find_events(self, order_id: str | None = None) -> list[Event]:
        return [e for e in self.events.values() if order_id is None or e["order_id"] == order_id]

    def find_notifications(self, to: str | None = None, order_id: str | None = None) -> list[Notification]:
        return per_channel(
            n
            for n in self.notifications.values()
            if (to is None or n["to"] == to) and (order_id is None or n["order_id"] == order_id)
        )

    def events_since(self, seq: int) -> list[Event]:
        """The events appended from `seq` on (what a clock move fired)."""
        return [self.events[str(s)] for s in range(seq, self.meta["next_event"])]

    # -- idempotency keys (schema 4)
    def key_record(self, key: str) -> dict[str, Any] | None:
        """What the command first run with `key` did, None for a new key."""
        return self.keys.get("1", {}).get(key)

    def keep_key(self, key: str, record: dict[str, Any]) -> None:
        self.keys.setdefault("1", {})[key] = record
        self.dirty = True

    def events_between(self, first: int, end: int) -> list[Event]:
        """The events seq first .. end - 1 (what one command appended)."""
        return [self.events[str(s)] for s in range(first, end)]

    # -- orders
    def order(self, order_id: str) -> StoredOrder:
        if type(order_id) is str:
            # the usual id, ORD-0042 under "42", without a regex: an order found whose id is order_id
            # is the one the regex finds; anything else (and every refusal) takes the long way
            found = self.orders.get(order_id[4:].lstrip("0"))
            if found is not None and found["id"] == order_id:
                return found
        m = _ID_RE.fullmatch(order_id) if isinstance(order_id, str) else None
        found = self.orders.get(str(int(m.group(1)))) if m else None
        if found is None or found["id"] != order_id:
            raise NotFound(f"no order with id {order_id!r}", "order_not_found")
        return found

    def add_order(self, order: StoredOrder) -> StoredOrder:
        num = self.meta["next_order"]
        if self._order_slot_taken(num):
            raise _damaged("its next_order counter points at an existing order")
        self.meta["next_order"] = num + 1
        order["id"] = order_id_for(num)
        self._put_order(num, order)
        self.dirty = True
        return order

    def _put_order(self, num: int, order: StoredOrder) -> None:
        self.orders[str(num)] = order

    def _order_slot_taken(self, num: int) -> bool:
        return str(num) in self.orders

    def iter_orders(self) -> Iterable[StoredOrder]:
        return self.orders.values()

    def order_by_num(self, num: int) -> StoredOrder:
        """The order whose id is ORD-<num> (an order the engine already knows exists)."""
        return self.orders[str(num)]

    @staticmethod
    def order_num(order: StoredOrder) -> int:
        return int(order["id"][4:])

    # -- history (R19) and notifications (R18)
    def event(
        self, kind: EventKind, order: StoredOrder | None, actor: str, details: EventDetails | None = None
    ) -> Event:
        seq = self.meta["next_event"]
        self.meta["next_event"] = seq + 1
        ev: Event = {
            "seq": seq,
            "at": self.now_text,
            "order_id": order["id"] if order else None,
            "kind": kind,
            "actor": actor,
            "details": details or {},
        }
        self._put_event(seq, ev, order)
        self.dirty = True
        return ev

    def _put_event(self, seq: int, ev: Event, order: StoredOrder | None) -> None:
        key = str(seq)
        if key in self.events:
            raise _damaged("its next_event counter points at an existing event")
        self.events[key] = ev

    def notify(self, order: StoredOrder, role: str, kind: NotificationKind, message: str) -> None:
        """One notice, sent on every channel: stored once (a row of the notifications table), listed
        once per channel, each channel numbered in turn from the notice's `seq`."""
        first = self.meta["next_notification"]
        self.meta["next_notification"] = first + len(CHANNELS)
        self._put_notice(
            {
                "seq": first,
                "at": self.now_text,
                "to": order[role],
                "role": role,
                "channels": list(CHANNELS),
                "order_id": order["id"],
                "kind": kind,
                "message": message,
            }
        )
        self.dirty = True

    def _put_notice(self, notice: StoredNotice) -> None:
        key = str(len(self.notifications) + 1)
        if key in self.notifications:
            raise _damaged("the ids of its notifications table are not 1, 2, 3 ...")
        self.notifications[key] = notice


class CountingWorld(World):
    """A world that counts its history but keeps none of it: every event and notice takes its
    number (meta's next_event and next_notification move as in any world) and is then dropped.

    What a simulation runs its population in when no one reads the history (the aggregates read
    the orders alone): the rules are the engine's, as in any world, and leave every order exactly
    as they do there (tests/simulate/test_speed_shortcuts.py compares the two under every preset).
    The engine never reads history back, but to return what a clock move fired: here, nothing."""

    # what `event` answers (no caller of World.event reads its answer): one placeholder, not a record
    _unkept: ClassVar[Event] = {
        "seq": 0,
        "at": "",
        "order_id": None,
        "kind": EventKind.ORDER_PLACED,
        "actor": "",
        "details": {},
    }

    def event(
        self, kind: EventKind, order: StoredOrder | None, actor: str, details: EventDetails | None = None
    ) -> Event:
        seq = self.meta["next_event"]
        self.meta["next_event"] = seq + 1
        self.dirty = True
        return self._unkept

    def notify(self, order: StoredOrder, role: str, kind: NotificationKind, message: str) -> None:
        self.meta["next_notification"] += len(CHANNELS)
        self.dirty = True

    def events_since(self, seq: int) -> list[Event]:
        return []

    def events_between(self, first: int, end: int) -> list[Event]:
        return []


def per_channel(notices: Iterable[StoredNotice]) -> list[Notification]:
    """Stored notices as the notifications a party received: one per channel, `seq` counting on."""
    return [
        {
            "seq": n["seq"] + i,
            "at": n["at"],
            "to": n["to"],
            "role": n["role"],
            "channel": channel,
            "order_id": n["order_id"],
            "kind": n["kind"],
            "message": n["message"],
        }
        for n in notices
        for i, channel in enumerate(n["channels"])
    ]


# a queued deadline: (instant, order number, kind rank, kind); ties at one instant fire by order
# number, then in the kinds' documented order
Entry = tuple[datetime, int, int, str]
_KIND_RANK: dict[str, int] = {k: i for i, k in enumerate(P.DEADLINE_KINDS)}


class DeadlineIndex:
    """Every pending deadline of a world, as a heap of (instant, order number, kind rank, kind).

    Built once per World by a full scan and kept on it (`World.deadline_index`: it lives and dies
    with the world it indexes, so a world rebuilt from its tables, e.g. a transaction rolled back,
    starts without one), then kept up to date by the commands (each pushes the deadlines of the
    order it changed), so a clock move on a world kept in memory (the API, scenarios) costs what
    falls due, not a scan of every order. Entries go stale when an order moves on; they are dropped
    when they surface.

    Invariant: every (kind, instant) of `policy.pending_deadlines(order)`, for every order of the
    world, is queued. It holds because the only code that changes an order is the engine's, and
    every engine command ends in `settle_now`/`advance` with the order it changed. Code that edits
    an order's dict by hand on a world with an index breaks it (`missing` names what is lost;
    tests/core/test_caches.py checks it after every kind of command).
    """

    def __init__(self, orders: Iterable[StoredOrder]):
        # the same entries push() would queue, heapified at once: the pop order is the same (entries
        # are distinct and totally ordered), without a heappush and a set lookup per order
        entries = [
            (at, int(order["id"][4:]), _KIND_RANK[kind], kind)
            for order in orders
            for kind, at in P.pending_deadlines(order)
        ]
        self.queued: set[Entry] = set(entries)
        self.heap: list[Entry] = list(self.queued) if len(self.queued) != len(entries) else entries
        heapq.heapify(self.heap)

    def push(self, order: StoredOrder, target: datetime | None = None) -> int:
        """Queue the order's pending deadlines; returns how many new ones fall at or before `target`."""
        num = int(order["id"][4:])  # World.order_num, inlined: once per deadline queued
        due = 0
        for kind, at in P.pending_deadlines(order):
            entry = (at, num, _KIND_RANK[kind], kind)
            if entry not in self.queued:
                self.queued.add(entry)
                heapq.heappush(self.heap, entry)
                due += target is not None and at <= target
        return due

    def pop_due(self, world: World, target: datetime) -> tuple[StoredOrder, str, datetime] | None:
        """The earliest deadline still pending at or before `target`, taken off the heap."""
        while self.heap and self.heap[0][0] <= target:
            entry = heapq.heappop(self.heap)
            self.queued.discard(entry)
            at, num, _, kind = entry
            order = world.order_by_num(num)
            if (kind, at) in P.pending_deadlines(order):
                return order, kind, at
        return None

    def earliest(self, world: World) -> datetime | None:
        while self.heap:
            at, num, _, kind = self.heap[0]
            if (kind, at) in P.pending_deadlines(world.order_by_num(num)):
                return at
            self.queued.discard(heapq.heappop(self.heap))  # superseded
        return None

    def missing(self, world: World) -> list[tuple[str, str, datetime]]:
        """The pending deadlines this index lost, as (order id, kind, instant): [] while the invariant holds."""
        return [
            (order["id"], kind, at)
            for order in world.iter_orders()
            for kind, at in P.pending_deadlines(order)
            if (at, int(order["id"][4:]), _KIND_RANK[kind], kind) not in self.queued
        ]

    def due_count(self, target: datetime) -> int:
        return sum(1 for entry in self.heap if entry[0] <= target)
