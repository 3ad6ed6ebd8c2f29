"""Schema migrations: MIGRATIONS[i] turns a schema i+1 world into schema i+2, in place.

They run when an older file is opened: a reading command migrates in memory only, a writing
command saves the migrated world with its own change. Files written by 0.1.0 are schema 2:
they open as they are, and their first writing command saves them as schema 3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordercli.world import SCHEMA_VERSION


def _v1_to_v2(tables: dict[str, Any]) -> None:
    """Schema 2 records where the policy in force came from: a preset or a file."""
    from ordercli.presets import PRESETS

    policy = tables["meta"]["1"]["policy"]
    source = "preset" if policy.get("name") in PRESETS else "file"
    policy.setdefault("source", source)
    policy.setdefault("origins", {})


_SAME_NOTICE = ("at", "to", "role", "order_id", "kind", "message")


def _v2_to_v3(tables: dict[str, Any]) -> None:
    """Schema 3 stores a notice once, with the channels it went out on, instead of a row per
    channel: the rows of one notice (the same notice, channels in turn, seq counting on) become one
    row, numbered 1, 2, 3 ... A row that is not a sound schema-2 row is carried over as it is,
    for the store's checks to name."""
    notices: list[Any] = []
    last: dict[str, Any] | None = None
    for row in tables["notifications"].values():
        channel = row.get("channel") if isinstance(row, dict) else None
        if (
            last is not None
            and isinstance(channel, str)
            and channel not in last["channels"]
            and row.get("seq") == last["seq"] + len(last["channels"])
            and all(row.get(k) == last[k] for k in _SAME_NOTICE)
        ):
            last["channels"].append(channel)
            continue
        if not (isinstance(channel, str) and type(row.get("seq")) is int and all(k in row for k in _SAME_NOTICE)):
            notices.append(row)
            last = None
            continue
        last = {k: row[k] for k in ("seq", "at", "to", "role")}
        last["channels"] = [channel]
        last.update((k, row[k]) for k in ("order_id", "kind", "message"))
        notices.append(last)
    tables["notifications"] = {str(n): notice for n, notice in enumerate(notices, start=1)}


MIGRATIONS: list[Callable[[dict[str, Any]], None]] = [_v1_to_v2, _v2_to_v3]


def migrate(tables: dict[str, Any]) -> bool:
    """Brings `tables` to SCHEMA_VERSION; True when anything changed."""
    meta = tables["meta"]["1"]
    changed = False
    while meta["schema"] < SCHEMA_VERSION:
        MIGRATIONS[meta["schema"] - 1](tables)
        meta["schema"] += 1
        changed = True
    return changed
