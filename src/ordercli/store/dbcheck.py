"""`db check`, `db backup` and `db restore`: the data file as a whole, and what went wrong with it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercli.core.errors import NotFound, StorageError, UsageError
from ordercli.store.file import DataFile, check_output, write_output
from ordercli.store.migrations import migrate

if TYPE_CHECKING:
    from ordercli.store import Store


def _tables_and_schema(path: Path, raw: bytes | None) -> tuple[dict[str, Any] | None, int]:
    """The file's tables, migrated in memory (None: an empty world), and the schema version it was
    written with; refuses foreign data."""
    from ordercli.core.world import SCHEMA_VERSION
    from ordercli.store import check_shape

    tables = check_shape(path, DataFile(path).parse(raw))
    if tables is None:
        return None, SCHEMA_VERSION
    on_disk: int = tables["meta"]["1"]["schema"]  # before the migration bumps it
    migrate(tables)
    return tables, on_disk


def _tables(path: Path, raw: bytes | None) -> dict[str, Any] | None:
    return _tables_and_schema(path, raw)[0]


def _problems(tables: dict[str, Any] | None) -> list[str]:
    from ordercli.store.integrity import problems

    return problems(tables) if tables is not None else []


def _diagnose(store: Store) -> StorageError | None:
    """After an unexpected failure: is the data file to blame? (exit 5, not a bug)"""
    from ordercli.store import damaged

    try:
        tables = _tables(store.path, store.file.read_bytes())
    except StorageError as exc:
        return exc
    from ordercli.store.integrity import first_problem

    found = first_problem(tables) if tables is not None else None
    return damaged(store.path, found) if found else None


def _notifications(tables: dict[str, Any]) -> int:
    """As `notifications list` counts them: one per channel of each stored notice."""
    rows = tables["notifications"].values()
    return sum(len(r["channels"]) for r in rows if isinstance(r, dict) and isinstance(r.get("channels"), list))


def _keys(tables: dict[str, Any]) -> int:
    """The idempotency keys the world keeps (schema 4: one document mapping each key to its record)."""
    from ordercli.core.world import KEYS

    kept = tables.get(KEYS, {}).get("1")
    return len(kept) if isinstance(kept, dict) else 0


def _check(store: Store) -> dict[str, Any]:
    """`db check`: read-only; a report of the file, or StorageError listing its problems.
    Temporary files left by a writer that was killed mid-write are reported (`leftovers`, only
    when there are some): they are not part of the world, and the next writing command removes them."""
    raw = store.file.read_bytes()
    tables, schema_on_disk = _tables_and_schema(store.path, raw)
    found = _problems(tables)
    report: dict[str, Any] = {
        "path": str(store.path),
        "exists": raw is not None,
        "schema": schema_on_disk,
        "orders": len(tables["orders"]) if tables else 0,
        "events": len(tables["events"]) if tables else 0,
        "notifications": _notifications(tables) if tables else 0,
        "idempotency_keys": _keys(tables) if tables else 0,
        "problems": found,
        "ok": not found,
    }
    leftovers = [p.name for p in store.file.leftovers()]
    if leftovers:
        report["leftovers"] = leftovers
    if found:
        raise StorageError(
            f"data file {store.path} has {len(found)} problem(s): {'; '.join(found[:5])}",
            "data_problems",
            {"problems": found},
        )
    return report


def _backup(store: Store, dest: Path | None) -> tuple[dict[str, Any], bytes]:
    """A consistent copy, checked: written to `dest` by the careful writer, or returned (dest
    None: `db backup -` prints it). No lock: a writer replaces the file whole, so the bytes read
    are one world (and a world on a read-only mount can be backed up). The copy takes the mode of
    the world it copies; an existing `dest` is replaced only if it is an ordercli world or backup."""
    store.file.resolve()
    if not store.file.exists():
        raise NotFound(f"no data file at {store.path}: nothing to back up", "no_data_file")
    store.file.check_kind()
    if dest is not None:
        if dest.resolve() == store.file.real.resolve() or _same_file(dest, store.file.real):
            raise StorageError("the backup can't overwrite the data file itself", "bad_backup_path")
        check_output(dest, what="the backup", existing="world")
    raw = store.file.read_bytes() or b""
    like = store.file.read_stat
    tables = _tables(store.path, raw)  # checks the very bytes it copies
    if dest is not None:
        mode = stat.S_IMODE(like.st_mode) if like is not None else None
        write_output(dest, raw, what="the backup", mode=mode)
    report = {
        "path": str(store.path),
        "backup": "-" if dest is None else str(dest),
        "bytes": len(raw),
        "orders": len(tables["orders"]) if tables else 0,
    }
    return report, raw


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def backup_name(path: Path) -> Path:
    """Where `db restore` keeps the world it replaces: beside it, NAME.bak."""
    return path.with_name(path.name + ".bak")


def _restore(store: Store, source: Path) -> dict[str, Any]:
    """Check SOURCE as `db check` would, then make it the world, atomically and under the lock;
    the replaced world (if any) is kept as NAME.bak beside it."""
    src = DataFile(source)
    src.check_kind()
    raw = src.read_bytes()
    if raw is None:
        raise UsageError(f"no file at {source}: nothing to restore", "no_such_file")
    if store.path.exists() and source.resolve() == store.path.resolve():
        raise UsageError("the file to restore is the data file itself", "bad_restore_path")
    tables = _tables(source, raw)
    if tables is None:
        raise StorageError(f"{source} holds an empty world: nothing to restore", "not_ordercli_data")
    found = _problems(tables)
    if found:
        raise StorageError(
            f"{source} has {len(found)} problem(s), so it was not restored: {'; '.join(found[:5])}",
            "data_problems",
            {"problems": found},
        )
    store.file.resolve()
    store.file.check_kind()
    store.file.check_writable()
    store.file.ensure_folder()
    kept = None
    with store.file.locked():
        store.file.remove_leftovers()
        old = store.file.read_bytes()
        like = store.file.read_stat
        if old is not None and like is not None:
            kept = backup_name(store.file.real)
            # the replaced world, with its own mode: a private world never gets a readable copy
            write_output(
                kept, old, what="the replaced world", durable=store.file.durable, mode=stat.S_IMODE(like.st_mode)
            )
        try:
            store.file.write(
                raw, like=like
            )  # the bytes as checked above; a seal they carry is verified on the next read
        except StorageError as exc:
            raise StorageError(f"could not restore {store.path}: {exc.message}", "write_failed") from None
    return {
        "path": str(store.path),
        "restored_from": str(source),
        "replaced_world_kept_as": None if kept is None else str(kept),
        "orders": len(tables["orders"]),
    }


# The cycle collector paused around each (the CLI's process only: store.CommandProcess).
def diagnose(store: Store) -> StorageError | None:
    with store._collector_paused():
        return _diagnose(store)


def check(store: Store) -> dict[str, Any]:
    with store._collector_paused():
        return _check(store)


def backup(store: Store, dest: Path | None) -> tuple[dict[str, Any], bytes]:
    with store._collector_paused():
        return _backup(store, dest)


def restore(store: Store, source: Path) -> dict[str, Any]:
    with store._collector_paused():
        return _restore(store, source)
