"""The only module that touches the data file.

A command reads the file once and writes it at most once. Writers hold an inter-process
lock (a separate `.lock` file) from read to write, and write a temporary file in the same
folder, fsync it, and `os.replace` it over the old one: a reader or a crash sees the old
world or the new one, never half of either. Readers take no lock for the same reason.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ordercli.errors import StorageError
from ordercli.timecalc import parse_stored
from ordercli.world import APP, SCHEMA_VERSION, TABLES, World, empty_tables

DEFAULT_LOCK_TIMEOUT = 5.0


def _v1_to_v2(tables: dict[str, Any]) -> None:
    """Schema 2 records where the policy in force came from: a preset or a file."""
    from ordercli.presets import PRESETS

    policy = tables["meta"]["1"]["policy"]
    source = "preset" if policy.get("name") in PRESETS else "file"
    policy.setdefault("source", source)
    policy.setdefault("origins", {})


# Migrations, run in order when an older file is opened by a writing command (readers
# migrate in memory only): MIGRATIONS[i] turns a schema i+1 world into schema i+2, in place.
MIGRATIONS: list[Callable[[dict[str, Any]], None]] = [_v1_to_v2]


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` whole or not at all. `durable=False` skips the fsyncs (a
    scenario's throwaway world): still atomic, just not crash-proof."""
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if not durable:
        return
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is done either way
    finally:
        os.close(dir_fd)


class JSONFile:
    """The data file as bytes and JSON: read whole with orjson, replaced atomically.

    This is TinyDB's Storage interface (read/write of the whole tables dict);
    `ordercli.tinydb_storage.AtomicJSONStorage` hands it to TinyDB itself. The CLI uses it
    directly so that no command pays for importing TinyDB.
    """

    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = False, durable: bool = True, **_: Any):
        self.path = Path(path)
        self.create_dirs = create_dirs
        self.durable = durable

    def read_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise StorageError(f"data file {self.path} is a directory", "storage_unreadable") from None
        except OSError as exc:
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None

    def read(self) -> dict[str, Any] | None:
        return self.parse(self.read_bytes())

    def parse(self, raw: bytes | None) -> dict[str, Any] | None:
        if raw is None or not raw.strip():
            return None
        # A world is a tree of dicts without cycles: the cycle collector would only rescan
        # millions of objects (half the time of loading a 100k-order world), so it is paused
        # while parsing and the loaded objects are frozen out of its later passes.
        gc.disable()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"data file {self.path} is not valid JSON ({exc}); it was left untouched: "
                "restore a backup or point --db elsewhere",
                "storage_unreadable",
            ) from None
        finally:
            gc.enable()
        gc.freeze()
        return data  # type: ignore[no-any-return]

    def write(self, data: dict[str, Any]) -> None:
        if self.create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, orjson.dumps(data), self.durable)


def _check_shape(path: Path, data: Any) -> dict[str, Any] | None:
    """Returns the tables, None for an empty world; refuses what is not ordercli data."""
    foreign = StorageError(
        f"data file {path} is not ordercli data; it was left untouched: point --db at an ordercli file",
        "not_ordercli_data",
    )
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
    for name in TABLES:
        if not isinstance(data.get(name), dict):
            raise foreign
    try:
        parse_stored(meta["clock"])
        counters_ok = all(type(meta[c]) is int for c in ("next_order", "next_event", "next_notification"))
        policy_ok = isinstance(meta["policy"], dict) and isinstance(meta["policy"].get("values"), dict)
    except (KeyError, TypeError, ValueError):
        counters_ok = policy_ok = False
    if not (counters_ok and policy_ok):
        raise _damaged(path, "its meta table (clock, counters, policy) is malformed")
    return data


def _damaged(path: Path, what: str) -> StorageError:
    return StorageError(
        f"data file {path} is damaged: {what}; it was left untouched: "
        "run `ordercli db check` for details and restore a backup",
        "damaged_data",
    )


def _migrate(data: dict[str, Any]) -> None:
    meta = data["meta"]["1"]
    while meta["schema"] < SCHEMA_VERSION:
        MIGRATIONS[meta["schema"] - 1](data)
        meta["schema"] += 1


class Store:
    def __init__(self, path: Path, new_world: Callable[[], dict[str, Any]], durable: bool = True):
        """`new_world` makes the tables of an empty world (its clock and default policy)."""
        self.path = Path(path)
        self.storage = JSONFile(self.path, create_dirs=True, durable=durable)
        self.new_world = new_world

    def _load(self, raw: bytes | None = None) -> World:
        """The world in the file (or in `raw`, its bytes already read)."""
        tables = _check_shape(self.path, self.storage.parse(raw) if raw is not None else self.storage.read())
        if tables is None:
            return World(self.new_world())
        on_disk = tables["meta"]["1"]["schema"]
        if on_disk < SCHEMA_VERSION:
            _migrate(tables)
        world = World(tables)
        world.schema_on_disk = on_disk
        world.dirty = on_disk < SCHEMA_VERSION  # a writing command saves the migration
        return world

    @contextmanager
    def reading(self) -> Iterator[World]:
        """No lock: the file is only ever replaced whole. A missing file is an empty world,
        and nothing is created."""
        yield self._load()

    @contextmanager
    def writing(self) -> Iterator[World]:
        """Lock, read, let the caller change the world, write once if it changed. An
        exception from the caller leaves the file as it was."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the folder of {self.path}: {exc.strerror or exc}", "write_failed"
            ) from None
        with self._locked():
            world = self._load()
            yield world
            if world.dirty:
                try:
                    self.storage.write(world.tables)
                except OSError as exc:
                    raise StorageError(
                        f"could not write {self.path}: {exc.strerror or exc}; the file was left as it was",
                        "write_failed",
                    ) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        timeout = _lock_timeout()
        lock = FileLock(str(self.path) + ".lock", timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise StorageError(
                f"database is busy: another ordercli command holds {self.path} (waited {timeout:g}s; "
                "ORDERCLI_LOCK_TIMEOUT sets the wait)",
                "database_busy",
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot lock {self.path}: {exc.strerror or exc}", "storage_unreadable") from None
        try:
            yield
        finally:
            lock.release()

    def replace_world(self, tables: dict[str, Any]) -> None:
        """Start this file afresh with the given world (a scenario's own world)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                self.storage.write(tables)
        except OSError as exc:
            raise StorageError(f"could not write {self.path}: {exc.strerror or exc}", "write_failed") from None

    def diagnose(self) -> StorageError | None:
        """After an unexpected failure: is the data file to blame? (exit 5, not a bug)"""
        try:
            world = self._load()
        except StorageError as exc:
            return exc
        try:
            from ordercli.check import problems

            found = problems(world.tables)
        except Exception:  # the checker itself choked on it: the file is what's wrong
            return _damaged(self.path, "it does not have the shape of ordercli data")
        return _damaged(self.path, found[0]) if found else None

    def check(self) -> dict[str, Any]:
        """`db check`: read-only; a report of the file, or StorageError listing its problems."""
        from ordercli.check import problems

        exists = self.path.exists()
        world = self._load()
        found = problems(world.tables) if exists else []
        report = {
            "path": str(self.path),
            "exists": exists,
            "schema": world.schema_on_disk,
            "orders": len(world.orders),
            "events": len(world.events),
            "notifications": len(world.notifications),
            "problems": found,
            "ok": not found,
        }
        if found:
            raise StorageError(
                f"data file {self.path} has {len(found)} problem(s): {'; '.join(found[:5])}",
                "data_problems",
                {"problems": found},
            )
        return report

    def backup(self, dest: Path) -> dict[str, Any]:
        """A consistent copy: taken under the writers' lock, checked, written atomically."""
        from ordercli.errors import NotFound

        if not self.path.exists():
            raise NotFound(f"no data file at {self.path}: nothing to back up", "no_data_file")
        dest = Path(dest)
        if dest.resolve() == self.path.resolve():
            raise StorageError("the backup can't overwrite the data file itself", "bad_backup_path")
        with self._locked():
            raw = self.storage.read_bytes() or b""
            world = self._load(raw)  # checks the very bytes it copies
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(dest, raw)
            except OSError as exc:
                raise StorageError(
                    f"could not write the backup {dest}: {exc.strerror or exc}", "write_failed"
                ) from None
        return {"path": str(self.path), "backup": str(dest), "bytes": len(raw), "orders": len(world.orders)}


def _lock_timeout() -> float:
    raw = os.environ.get("ORDERCLI_LOCK_TIMEOUT")
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        from ordercli.errors import UsageError

        raise UsageError(f"ORDERCLI_LOCK_TIMEOUT: {raw!r} is not a number of seconds", "bad_lock_timeout")
    return value


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ordercli", appauthor=False)) / "ordercli.json"


def new_world_tables(now: datetime) -> dict[str, Any]:
    from ordercli import presets

    return empty_tables(now, presets.default().meta())
