"""The world: orders, clock, policy, events and notifications, in TinyDB's file layout.

The layout is TinyDB's (tables of doc_id -> document), so `TinyDB(path,
storage=ordercli.tinydb_storage.AtomicJSONStorage)` opens a data file. The engine works on these dicts directly:
TinyDB's Table API rewrites a whole table per insert, which is quadratic for a tick that
appends thousands of events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ordercli.errors import NotFound, StorageError, UsageError
from ordercli.policy import Policy, policy_from_mapping
from ordercli.timecalc import fmt, parse_stored

SCHEMA_VERSION = 2
APP = "ordercli"
TABLES = ("meta", "orders", "events", "notifications")
_ID_RE = re.compile(r"ORD-(\d+)")
CHANNELS = ("email", "app")


def order_id_for(num: int) -> str:
    return f"ORD-{num:04d}"


def empty_tables(now: datetime, policy_meta: dict[str, Any]) -> dict[str, dict]:
    meta = {
        "app": APP,
        "schema": SCHEMA_VERSION,
        "clock": fmt(now),
        "next_order": 1,
        "next_event": 1,
        "next_notification": 1,
        "policy": policy_meta,
    }
    return {"meta": {"1": meta}, "orders": {}, "events": {}, "notifications": {}}


def _damaged(what: str) -> StorageError:
    # history is append-only: never overwrite a row the file already has
    return StorageError(
        f"the data file is damaged: {what}; it was left untouched: run `ordercli db check`", "damaged_data"
    )


class World:
    def __init__(self, tables: dict[str, dict]):
        self.tables = tables
        self.meta: dict[str, Any] = tables["meta"]["1"]
        self.orders: dict[str, dict] = tables["orders"]
        self.events: dict[str, dict] = tables["events"]
        self.notifications: dict[str, dict] = tables["notifications"]
        self.now: datetime = parse_stored(self.meta["clock"])  # type: ignore[assignment]
        self.dirty = False
        self.schema_on_disk = SCHEMA_VERSION
        self._policy: Policy | None = None

    # -- clock and policy
    def set_now(self, instant: datetime) -> None:
        self.now = instant
        self.meta["clock"] = fmt(instant)
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

    # -- orders
    def order(self, order_id: str) -> dict:
        m = _ID_RE.fullmatch(order_id) if isinstance(order_id, str) else None
        found = self.orders.get(str(int(m.group(1)))) if m else None
        if found is None or found["id"] != order_id:
            raise NotFound(f"no order with id {order_id!r}", "order_not_found")
        return found

    def add_order(self, order: dict) -> dict:
        num = self.meta["next_order"]
        if str(num) in self.orders:
            raise _damaged("its next_order counter points at an existing order")
        self.meta["next_order"] = num + 1
        order["id"] = order_id_for(num)
        self.orders[str(num)] = order
        self.dirty = True
        return order

    def iter_orders(self) -> Iterable[dict]:
        return self.orders.values()

    @staticmethod
    def order_num(order: dict) -> int:
        return int(order["id"][4:])

    # -- history (R19) and notifications (R18)
    def event(self, kind: str, order: dict | None, actor: str, details: dict | None = None) -> dict:
        seq = self.meta["next_event"]
        if str(seq) in self.events:
            raise _damaged("its next_event counter points at an existing event")
        self.meta["next_event"] = seq + 1
        ev = {
            "seq": seq,
            "at": fmt(self.now),
            "order_id": order["id"] if order else None,
            "kind": kind,
            "actor": actor,
            "details": details or {},
        }
        self.events[str(seq)] = ev
        self.dirty = True
        return ev

    def notify(self, order: dict, role: str, kind: str, message: str) -> None:
        for channel in CHANNELS:
            seq = self.meta["next_notification"]
            if str(seq) in self.notifications:
                raise _damaged("its next_notification counter points at an existing notification")
            self.meta["next_notification"] = seq + 1
            self.notifications[str(seq)] = {
                "seq": seq,
                "at": fmt(self.now),
                "to": order[role],
                "role": role,
                "channel": channel,
                "order_id": order["id"],
                "kind": kind,
                "message": message,
            }
        self.dirty = True
