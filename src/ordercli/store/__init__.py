"""The store: the only code that touches the data file. Built here, in one place.

A command opens its world as `TinyDB(path, storage=OncePerCommand(AtomicJSONStorage))`: the file
is read once, the engine works on a `TinyWorld` (a unit of work over TinyDB's tables), and a
writing command writes the file once at the end, atomically, under the writers' lock.

The jobs live in their own modules: `file` (paths, reading, the lock, atomic writes),
`migrations` (the schema steps), `dbcheck` (db check, backup, restore), `tinyworld` (the world
over TinyDB).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercli.core.errors import StorageError
from ordercli.core.timecalc import parse_stored
from ordercli.core.world import APP, SCHEMA_VERSION, TABLES, World, empty_tables
from ordercli.store.file import (
    DataFile,
    atomic_write,
    check_output,
    checked_path,
    default_path,
    lock_timeout,
    not_ordercli_data,
    streamed_output,
    write_output,
)
from ordercli.store.migrations import MIGRATIONS, migrate

if TYPE_CHECKING:
    from ordercli.store.tinydb_storage import OncePerCommand
    from ordercli.store.tinyworld import TinyWorld

__all__ = [
    "MIGRATIONS",
    "CommandProcess",
    "DataFile",
    "Store",
    "atomic_write",
    "check_output",
    "checked_path",
    "default_path",
    "lock_timeout",
    "new_world_tables",
    "streamed_output",
    "write_output",
]


def check_shape(path: Path, data: Any) -> dict[str, Any] | None:
    """Returns the tables, None for an empty world; refuses what is not ordercli data."""
    foreign = not_ordercli_data(path)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise foreign
    if not data or data == {"_default": {}}:
        return None
    meta_table = data.get("meta")
    meta = meta_table.get("1") if isinstance(meta_table, dict) else None
    if not isinstance(meta, dict) or meta.get("app") != APP:
        raise foreign
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise foreign
    if schema > SCHEMA_VERSION:
        raise StorageError(
            f"data file {path} has schema version {schema}, newer than this ordercli understands "
            f"({SCHEMA_VERSION}): upgrade ordercli",
            "newer_schema",
        )
    for name in TABLES if schema >= 4 else TABLES[:-1]:  # the idempotency table came with schema 4
        if not isinstance(data.get(name), dict):
            raise foreign
    try:
        parse_stored(meta["clock"])
        counters_ok = all(type(meta[c]) is int for c in ("next_order", "next_event", "next_notification"))
        policy_ok = isinstance(meta["policy"], dict) and isinstance(meta["policy"].get("values"), dict)
    except (KeyError, TypeError, ValueError):
        counters_ok = policy_ok = False
    if not (counters_ok and policy_ok):
        raise damaged(path, "its meta table (clock, counters, policy) is malformed")
    return data


def damaged(path: Path, what: str) -> StorageError:
    return StorageError(
        f"data file {path} is damaged: {what}; it was left untouched: "
        "run `ordercli db check` for details and restore a backup",
        "damaged_data",
    )


class CommandProcess:
    """What a process that runs one command and then exits does around each use of its data file:
    the CLI makes one (cli/common.py) and hands it to the stores it opens. A library user's process
    has none, so its cycle collector, its frozen generation and its memory are left as they were
    (tests/core/test_caches.py checks gc after every kind of Sandbox call).

    Assumes the process ends with the command (the console script leaves with os._exit): a world is
    a tree of dicts without cycles, so pausing the collector only skips rescans, and the last world
    kept alive to the exit is never freed object by object."""

    FREEZE_ABOVE = 100_000  # objects a command made (net): above this, skip the collector's pass over them

    def __init__(self) -> None:
        self.kept: tuple[Any, ...] = ()

    def keep(self, *objects: Any) -> None:
        self.kept = objects  # the one before is freed now, while the collector is paused

    @contextmanager
    def collector_paused(self) -> Iterator[None]:
        # A command makes hundreds of thousands of dicts (a big tick) and the cycle collector would
        # rescan them all, again and again, for nothing.
        was = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was:
                # Re-enabled as is, the collector's first pass would walk every object the command made
                # (a big tick: millions, ~0.3 s) only to find no cycles: after a big command they join the
                # frozen world instead (the CLI in a test's process runs many commands).
                if gc.get_count()[0] > self.FREEZE_ABOVE:
                    gc.freeze()
                gc.enable()


class Store:
    def __init__(self, path: str | os.PathLike[str], new_world: Callable[[], dict[str, Any]], durable: bool = True):
        """`new_world` makes the tables of an empty world (its clock and default policy)."""
        self.path = Path(path)
        self.file = DataFile(self.path, durable=durable)
        self.new_world = new_world
        self.process: CommandProcess | None = None  # the CLI's own process only: see CommandProcess

    def _collector_paused(self) -> AbstractContextManager[None]:
        return self.process.collector_paused() if self.process is not None else nullcontext()

    def _keep(self, *objects: Any) -> None:
        if self.process is not None:
            self.process.keep(*objects)

    def _open(self, writable: bool) -> tuple[TinyWorld, OncePerCommand]:
        from ordercli.store.tinydb_storage import AtomicJSONStorage, OncePerCommand, WorldDB
        from ordercli.store.tinyworld import TinyWorld

        cache = OncePerCommand(AtomicJSONStorage)
        db = WorldDB(self.path, storage=cache, file=self.file)
        tables = check_shape(self.path, cache.read())
        on_disk = SCHEMA_VERSION
        if tables is None:
            cache.data = self.new_world()
        else:
            on_disk = tables["meta"]["1"]["schema"]
            tables["meta"]["1"].pop("seal", None)  # the file's, not the world's
            migrate(tables)
        world = TinyWorld(db, lambda what: damaged(self.path, what), on_disk, writable, trusted=self.file.sealed())
        world.dirty = on_disk < SCHEMA_VERSION  # a writing command saves the migration
        return world, cache

    @contextmanager
    def reading(self) -> Iterator[World]:
        """No lock: the file is only ever replaced whole. A missing file is an empty world,
        and nothing is created."""
        self.file.resolve()
        with self._collector_paused():
            world, cache = self._open(writable=False)
            self._keep(world, cache)
            yield world

    def _open_checked(self) -> tuple[TinyWorld, OncePerCommand]:
        world, cache = self._open(writable=True)
        if cache.data is not None and not self.file.sealed():
            self._check_whole(cache.data)
        return world, cache

    @contextmanager
    def writing(self) -> Iterator[World]:
        """Check the path, read, lock, let the caller change the world, write once if it changed.
        An exception from the caller leaves the file as it was.

        The file is read and judged before the lock is taken: a file that is refused (foreign,
        damaged, not JSON) never gets a lock file beside it. Every writer replaces the file whole,
        so once locked, a file still the one read (same inode, size and times) is the world to
        change; one replaced meanwhile is read again, under the lock."""
        self.file.resolve()
        self.file.check_kind()
        self.file.sealing = True
        with self._collector_paused():
            world, cache = self._open_checked()
            self.file.check_writable()
            self.file.ensure_folder()
            with self.file.locked():
                if not self.file.unchanged_since_read():
                    del world, cache  # never two big worlds at once
                    world, cache = self._open_checked()
                self.file.remove_leftovers()
                self._keep(world, cache)
                yield world
                if world.dirty:
                    world.flush()
                    cache.commit()

    def _check_whole(self, tables: dict[str, Any]) -> None:
        """Bytes ordercli did not write itself are checked whole before anything is written over
        them, as `db check` would: a damaged world is never rewritten."""
        from ordercli.store.integrity import first_problem

        found = first_problem(tables)
        if found:
            raise damaged(self.path, found)

    def replace_world(self, tables: dict[str, Any]) -> None:
        """Start this file afresh with the given world (a scenario's own world). Only an ordercli
        world (or nothing) is replaced: never foreign data."""
        from ordercli.store.file import check_output

        self.file.resolve()
        self.file.check_kind()
        check_output(self.file.real, what=f"data file {self.path}", existing="world")
        self.file.check_writable()
        self.file.ensure_folder()
        with self.file.locked():
            self.file.remove_leftovers()
            self.file.sealing = True
            self.file.write(tables)


def new_world_tables(now: datetime) -> dict[str, Any]:
    from ordercli.core import presets

    return empty_tables(now, presets.default().meta())


def open_store(path: Path, now: Callable[[], datetime], durable: bool = True) -> Store:
    """The store of a command: its file, and an empty world starting at `now()` when there is none."""
    return Store(path, lambda: new_world_tables(now()), durable=durable)
