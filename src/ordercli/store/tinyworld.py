"""The world of a data file, through TinyDB's tables: a unit of work.

Lookups and filters go through TinyDB (`Table.get(doc_id=...)`, `search(Query()...)`, `len`).
Stock TinyDB rebuilds a whole table on every write call (the store's `InPlaceTable` does not, but
each call still hands the data to the storage and clears the query cache), so nothing is written
while the engine works: new records are buffered, changed orders remembered, and `flush()` makes at
most one `insert_multiple` and one `update(..., doc_ids=[...])` per table, however many orders a
tick fires. Unless the file carries ordercli's seal (then ordercli wrote, and had checked, every byte),
every record read is validated first (`ordercli.store.integrity`): a damaged one stops the command before
anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Document, Table

from ordercli.core.errors import NotFound, StorageError
from ordercli.core.model import Event, Notification
from ordercli.core.world import _ID_RE, KEYS, StoredNotice, StoredOrder, World, order_id_for, per_channel
from ordercli.store import integrity as check

Damaged = Callable[[str], StorageError]


def _present(value: Any) -> bool:
    return value is not None


def _all_equal(**fields: Any) -> Any:
    """The query matching every field given (not None) by equality; None when none is given."""
    cond = None
    for field, value in fields.items():
        if value is not None:
            test = Query()[field] == value
            cond = test if cond is None else cond & test
    return cond


def _drain(rows: list[Any]) -> Iterator[Any]:
    """Hands rows to TinyDB (which copies each) and lets go of each original as it goes
    (popped off the end, in C: a generator would cost a resume per row)."""
    rows.reverse()
    rows.insert(0, None)  # the end mark: popped last
    return iter(rows.pop, None)


class TinyWorld(World):
    def __init__(
        self, db: TinyDB, damaged: Damaged, schema_on_disk: int, writable: bool = False, trusted: bool = False
    ):
        """`trusted`: the file's seal matches, so ordercli wrote (and had checked) every record in it."""
        self.db = db
        self.writable = writable
        self.trusted = trusted
        self._damaged = damaged
        self._orders = db.table("orders")
        self._events = db.table("events")
        self._notifications = db.table("notifications")
        self._meta = db.table("meta")
        self._keys = db.table(KEYS)
        meta = self._meta.get(doc_id=1)
        assert meta is not None  # the store checked the file's shape
        super().__init__({"meta": {"1": meta}, "orders": {}, "events": {}, "notifications": {}, KEYS: {}})
        self.schema_on_disk = schema_on_disk
        self._known: dict[int, StoredOrder] = {}  # the orders handed out: the engine changes these objects
        self._valid: set[int] = set()  # orders already validated (handed out or scanned)
        self._changed: set[int] = set()
        self._new_orders: list[StoredOrder] = []
        self._new_nums: set[int] = set()
        self._new_events: list[Event] = []
        self._new_notifications: list[StoredNotice] = []
        self._new_keys: dict[str, dict[str, Any]] = {}
        # the ids the new rows take: events are numbered by seq, notices 1, 2, 3 ...
        self._first = {"events": meta["next_event"], "notifications": len(self._notifications) + 1}

    # -- validation
    def _checked_order(self, num: int, doc: StoredOrder) -> StoredOrder:
        if not self.trusted and num not in self._valid:
            found = check.order_problems(str(num), doc, self.now)
            if found:
                raise self._damaged(found[0])
            self._valid.add(num)
        return doc

    def _checked_rows(self, table: str, rows: list[Any]) -> list[Any]:
        if self.trusted:
            return rows
        for row in rows:
            problem = check.row_problem(table, row)
            if problem:
                raise self._damaged(problem)
        return rows

    # -- orders
    def order_by_num(self, num: int) -> StoredOrder:
        known = self._known.get(num)
        if known is not None:
            return known
        doc = self._orders.get(doc_id=num)
        if doc is None:
            raise NotFound(f"no order with id {order_id_for(num)!r}", "order_not_found")
        self._known[num] = self._checked_order(num, doc)
        return doc

    def order(self, order_id: str) -> StoredOrder:
        m = _ID_RE.fullmatch(order_id) if isinstance(order_id, str) else None
        found = None
        if m:
            try:
                found = self.order_by_num(int(m.group(1)))
            except NotFound:
                found = None
        if found is None or found["id"] != order_id:
            raise NotFound(f"no order with id {order_id!r}", "order_not_found")
        return found

    def _order_slot_taken(self, num: int) -> bool:
        return num in self._known or self._orders.contains(doc_id=num)

    def _put_order(self, num: int, order: StoredOrder) -> None:
        self._known[num] = order
        self._valid.add(num)
        self._new_orders.append(order)
        self._new_nums.add(num)

    def _scan(self, docs: Iterable[Any]) -> Iterator[StoredOrder]:
        known, keep, trusted = self._known, self.writable, self.trusted
        for doc in docs:
            num = doc.doc_id
            mine = known.get(num)
            if mine is None:
                mine = doc if trusted else self._checked_order(num, doc)
                if keep:  # a writing command (a tick) may change what it scans: one copy, not two
                    known[num] = mine
            yield mine

    def iter_orders(self) -> Iterable[StoredOrder]:
        yield from self._scan(self._orders)
        yield from self._new_orders

    def find_orders(
        self, status: str | None = None, buyer: str | None = None, seller: str | None = None
    ) -> list[StoredOrder]:
        cond = _all_equal(status=status, buyer=buyer, seller=seller)
        if cond is None:
            return list(self.iter_orders())
        # an order this command changed is judged by its new values
        found = [o for o in self._scan(self._orders.search(cond)) if cond(o)]
        changed = [o for num, o in self._known.items() if num in self._changed and cond(o)]
        return _merge(found, changed + [o for o in self._new_orders if cond(o)])

    def orders_with_refund(self) -> list[StoredOrder]:
        return self._scan_where(Query().refund.test(_present))

    def orders_with_disputes(self) -> list[StoredOrder]:
        return self._scan_where(Query().disputes.test(bool))

    def _scan_where(self, cond: Any) -> list[StoredOrder]:
        found = [o for o in self._scan(self._orders.search(cond)) if cond(o)]
        return _merge(found, [o for o in self._new_orders if cond(o)])

    def count_orders(self) -> int:
        return len(self._orders) + len(self._new_orders)

    def has_history(self) -> bool:
        return bool(self.count_orders() or self.count_events())

    # -- history and notifications
    def _put_event(self, seq: int, ev: Event, order: StoredOrder | None) -> None:
        if order is not None:
            # every change to an order records an event (R19): so the events name the changed orders
            self._changed.add(int(order["id"][4:]))  # World.order_num, inlined: once per event
        self._new_events.append(ev)

    def _put_notice(self, notice: StoredNotice) -> None:
        self._new_notifications.append(notice)

    def count_events(self) -> int:
        return len(self._events) + len(self._new_events)

    def find_events(self, order_id: str | None = None) -> list[Event]:
        if order_id is None:
            rows = self._checked_rows("events", list(self._events))
            return rows + self._new_events
        rows = self._checked_rows("events", self._events.search(Query().order_id == order_id))
        return rows + [e for e in self._new_events if e["order_id"] == order_id]

    def find_notifications(self, to: str | None = None, order_id: str | None = None) -> list[Notification]:
        cond = _all_equal(to=to, order_id=order_id)
        rows = self._checked_rows(
            "notifications", list(self._notifications) if cond is None else self._notifications.search(cond)
        )
        return per_channel(rows + [n for n in self._new_notifications if cond is None or cond(n)])

    def events_since(self, seq: int) -> list[Event]:
        first = self._first["events"]
        if seq >= first:
            return self._new_events[seq - first :]
        return self.find_events()[seq - 1 :]

    # -- idempotency keys: looked at only by a command given a key
    def key_record(self, key: str) -> dict[str, Any] | None:
        if key in self._new_keys:
            return self._new_keys[key]
        # the raw table, not `get(doc_id=1)`: that would copy every key's record to find one
        kept = self._keys._read_table().get("1")
        record = kept.get(key) if isinstance(kept, dict) else None
        if record is not None and not self.trusted:
            problem = check.key_problem(key, record)
            if problem:
                raise self._damaged(problem)
        return record

    def keep_key(self, key: str, record: dict[str, Any]) -> None:
        self._new_keys[key] = record
        self.dirty = True

    def events_between(self, first: int, end: int) -> list[Event]:
        start = self._first["events"]
        if first >= start:
            return self._new_events[first - start : end - start]
        old = self._events.get(doc_ids=list(range(first, min(end, start))))
        rows = self._checked_rows("events", [dict(e) for e in old])
        return rows + self._new_events[: max(end - start, 0)]

    # -- the unit of work
    def flush(self) -> None:
        """Writes this command's changes into TinyDB's tables (in memory, until the store commits):
        at most one update and one insert_multiple per table."""
        if self._changed:
            changed = {num: self._known[num] for num in self._changed if num in self._known}

            def apply(doc: MutableMapping[str, Any]) -> None:
                doc.update(changed[int(doc["id"][4:])])

            existing = [num for num in changed if num not in self._new_nums]
            if existing:
                self._orders.update(apply, doc_ids=existing)
        if self._new_orders:
            self._insert("orders", self._orders, self._new_orders, World.order_num(self._new_orders[0]))
        self._insert("events", self._events, self._new_events, self._first["events"])
        self._insert("notifications", self._notifications, self._new_notifications, self._first["notifications"])
        if self._new_keys:
            if self._keys.contains(doc_id=1):
                self._keys.update(self._new_keys, doc_ids=[1])
            else:
                self._keys.insert(Document(self._new_keys, 1))
            self._new_keys = {}
        self._meta.update(dict(self.meta), doc_ids=[1])
        self._changed.clear()
        self._known.clear()
        self._new_nums.clear()

    def _insert(self, name: str, table: Table, rows: list[Any], first: int) -> None:
        """One insert_multiple of this command's new rows, with the ids first, first + 1, ... (orders
        and events: their meta counters; notices: the table's length + 1). A few rows into a big
        table name their ids (a Document each). Many rows are handed over whole and take TinyDB's
        next id, which must then be `first`. Either way, a row already there is never overwritten."""
        n = len(rows)
        if not n:
            return
        docs: Iterable[dict[str, Any]] = rows  # handed over whole: the world's table adopts them (no copies)
        if n < len(table) // 4:
            docs = (Document(row, first + i) for i, row in enumerate(_drain(rows)))
        try:
            got = table.insert_multiple(docs)
        except ValueError:  # a Document whose id is taken
            got = []
        if len(got) != n or got[0] != first or got[-1] != first + n - 1:
            raise self._damaged(f"the ids of its {name} table do not follow its counters")


def _merge(found: list[StoredOrder], extra: list[StoredOrder]) -> list[StoredOrder]:
    """Search results plus this command's own orders, once each, oldest first."""
    if not extra:
        return found
    by_num = {World.order_num(o): o for o in found}
    for o in extra:
        by_num[World.order_num(o)] = o
    return [by_num[n] for n in sorted(by_num)]
