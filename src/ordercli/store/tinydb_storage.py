"""TinyDB storage and middleware for ordercli data files.

Every command opens its world as `TinyDB(path, storage=OncePerCommand(AtomicJSONStorage))`:
the file is read once, TinyDB's writes stay in memory, and the store writes the result once at
the end of the command, atomically and under the writers' lock (`OncePerCommand.commit`).

Your own scripts can open a data file the same way, or with the storage alone:

    from tinydb import TinyDB, Query
    from ordercli.store.tinydb_storage import AtomicJSONStorage

    db = TinyDB("ordercli.json", storage=AtomicJSONStorage)
    db.table("orders").search(Query().status == "cancelled")

TinyDB's own JSONStorage rewrites the file in place (a crash mid-write leaves half a file) and
takes no lock; this storage reads with orjson and replaces the file atomically. Take ordercli's
lock (`FileLock(os.path.realpath(path) + ".lock")`: a symlinked world's lock is its target's) around
writes made while ordercli runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import Middleware
from tinydb.storages import Storage
from tinydb.table import Table

from ordercli.store.file import DataFile


class AtomicJSONStorage(Storage):
    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = False,
        durable: bool = True,
        file: DataFile | None = None,
        **_: Any,
    ):
        self.file = file or DataFile(path, durable=durable)
        self.create_dirs = create_dirs

    def read(self) -> dict[str, Any] | None:
        return self.file.read()  # type: ignore[no-any-return]

    def write(self, data: dict[str, Any]) -> None:
        if self.create_dirs:
            self.file.ensure_folder()
        self.file.write(data)


class OncePerCommand(Middleware):
    """Reads the storage once; TinyDB's writes replace the data in memory only, and `commit()`
    hands the final data to the storage in one write. A command that fails never commits."""

    def __init__(self, storage_cls: Any = AtomicJSONStorage) -> None:
        super().__init__(storage_cls)
        self.data: dict[str, Any] | None = None
        self.loaded = False
        self.changed = False

    def read(self) -> dict[str, Any] | None:
        if not self.loaded:
            self.data = self.storage.read()
            self.loaded = True
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data
        self.loaded = True
        self.changed = True

    def commit(self) -> None:
        if self.data is not None:
            self.storage.write(self.data)
        self.changed = False

    def close(self) -> None:
        """Closing never writes: only `commit` does."""


class _IntKeyed(MutableMapping[Any, Any]):
    """A raw table (str keys, as stored) seen with the keys TinyDB's write helpers use (ids)."""

    __slots__ = ("raw", "id_class")

    def __init__(self, raw: dict[str, Any], id_class: Callable[[str], Any]):
        self.raw = raw
        self.id_class = id_class

    def __getitem__(self, doc_id: Any) -> Any:
        return self.raw[str(doc_id)]

    def __setitem__(self, doc_id: Any, doc: Any) -> None:
        self.raw[str(doc_id)] = doc

    def __delitem__(self, doc_id: Any) -> None:
        del self.raw[str(doc_id)]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self.raw

    def __iter__(self) -> Iterator[Any]:
        return map(self.id_class, self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def clear(self) -> None:
        self.raw.clear()


class InPlaceTable(Table):
    """TinyDB's Table, writing in place. TinyDB's `_update_table` rebuilds the whole table twice
    (to int keys and back) on every write call, and `_get_next_id` scans every key with a
    generator: on a world of 100k orders and 200k events that is most of what an `orders place`
    costs beyond reading the file. Here a write call changes the table it read, in place, so it
    costs what it changes. TinyDB's semantics are kept: the same ids (max + 1, or a Document's
    own), copies of the inserted documents, the same order of rows, the query cache cleared,
    and the result handed to the storage's `write`. Keys are canonicalised once, on the first
    write, as TinyDB's rebuild would (a hand-edited "007" becomes "7")."""

    keys_canonical = False  # True: every stored key is already str(doc_id), no need to look
    # True: insert_multiple keeps the plain dicts of a list it is given instead of copying them (the
    # caller hands them over and holds on to none of them)
    adopts_rows = False

    def __init__(self, *args: Any, **kwargs: Any):
        self._canonical: dict[str, Any] | None = None  # the raw table last seen with canonical keys
        self._rebuild = False
        super().__init__(*args, **kwargs)

    def _update_table(self, updater: Callable[[Any], None]) -> None:
        if self._rebuild:
            super()._update_table(updater)
            self._canonical = None
            return
        tables = self._storage.read()
        if tables is None:
            tables = {}
        raw = tables.get(self.name)
        if raw is None:
            raw = tables[self.name] = {}
        elif raw is not self._canonical and not self.keys_canonical:
            keys = list(raw)
            ids = list(map(self.document_id_class, keys))
            if list(map(str, ids)) != keys:
                raw = tables[self.name] = {str(doc_id): doc for doc_id, doc in zip(ids, raw.values(), strict=True)}
        self._canonical = raw
        updater(_IntKeyed(raw, self.document_id_class))
        self._storage.write(tables)
        self.clear_cache()

    def _get_next_id(self) -> Any:
        next_id: Any = self._next_id
        if next_id is None:  # TinyDB's max(existing ids) + 1, without a Python generator per key
            next_id = self._largest_id() + 1
        self._next_id = next_id + 1
        return next_id

    def _largest_id(self) -> Any:
        return max(map(self.document_id_class, self._read_table()), default=0)

    def update(
        self,
        fields: Mapping[str, Any] | Callable[[MutableMapping[str, Any]], None],
        cond: Any = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """TinyDB's update; by ids (what ordercli uses) without going through the id view per row."""
        if doc_ids is None:
            return super().update(fields, cond)
        requested = list(doc_ids)
        updated: list[int] = []

        def updater(table: _IntKeyed) -> None:
            raw = table.raw
            found = [(doc_id, key) for doc_id, key in zip(requested, map(str, requested), strict=True) if key in raw]
            updated.extend(doc_id for doc_id, _ in found)
            if callable(fields):
                for _, key in found:
                    fields(raw[key])
            else:
                for _, key in found:
                    raw[key].update(fields)

        self._update_table(updater)
        return updated

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        """TinyDB's insert_multiple, with its per-document checks made cheap for plain dicts."""
        doc_ids: list[int] = []
        document_class = self.document_class

        def adopt(raw: dict[str, Any], rows: list[dict[str, Any]]) -> None:
            # TinyDB's ids (the next id, then one each) in one C-level pass, without a copy per row
            first = self._get_next_id()
            ids = range(first, first + len(rows))
            keys = list(map(str, ids))
            if not raw.keys().isdisjoint(keys):  # only a hand-set _next_id could get here
                taken = next(k for k in keys if k in raw)
                raise ValueError(f"Document with ID {taken} already exists")
            self._next_id = first + len(rows)
            raw.update(zip(keys, rows, strict=True))
            doc_ids.extend(ids)

        def updater(table: _IntKeyed) -> None:
            raw = table.raw
            if self.adopts_rows and type(documents) is list and documents and set(map(type, documents)) == {dict}:
                adopt(raw, documents)
                return
            next_id: Any = None  # TinyDB's _get_next_id, asked once, then counted on here
            for document in documents:
                if type(document) is not dict:  # a dict is a Mapping and not a Document
                    if not isinstance(document, Mapping):
                        raise ValueError("Document is not a Mapping")
                    if isinstance(document, document_class):
                        if str(document.doc_id) in raw:
                            raise ValueError(f"Document with ID {document.doc_id!s} already exists")
                        doc_ids.append(document.doc_id)
                        raw[str(document.doc_id)] = dict(document)
                        continue
                if next_id is None:
                    next_id = self._get_next_id()
                else:
                    next_id += 1
                    self._next_id = next_id + 1
                doc_ids.append(next_id)
                raw[str(next_id)] = dict(document)

        def all_or_nothing(table: _IntKeyed) -> None:
            # TinyDB's rebuilt table is dropped when a document is refused: so are the rows added here
            try:
                updater(table)
            except BaseException:
                for doc_id in doc_ids:
                    table.raw.pop(str(doc_id), None)
                raise

        self._update_table(all_or_nothing)
        return doc_ids

    def remove(self, cond: Any = None, doc_ids: Iterable[int] | None = None) -> list[int]:
        """TinyDB's own remove, on a rebuilt table (O(table), as in TinyDB): a condition that fails
        half-way then leaves the table as it was. ordercli never removes rows."""
        self._rebuild = True
        try:
            return super().remove(cond, doc_ids)
        finally:
            self._rebuild = False


class _WorldTable(InPlaceTable):
    # An ordercli world's keys are canonical and ascending: ordercli writes str(doc_id) in order, and a
    # file it did not seal is checked whole (`db check`'s checks, keys included) before any command
    # writes it. So the last key is the largest (and the world's inserts refuse a taken id either way).
    keys_canonical = True

    def _largest_id(self) -> int:
        return int(next(reversed(self._read_table()), 0))

    # The world's new rows are made for the table and handed over at the end of a command: a copy of
    # each (600k rows on a big tick) would cost a fifth of the command for nothing.
    adopts_rows = True


class WorldDB(TinyDB):
    """TinyDB as ordercli's store opens a world: tables that write in place (TinyDB's documented
    `table_class` extension point). Scripts that want the same can set `table_class = InPlaceTable`."""

    table_class = _WorldTable
