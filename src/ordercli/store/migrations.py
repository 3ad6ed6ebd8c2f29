"""Schema migrations: MIGRATIONS[i] turns a schema i+1 world into schema i+2, in place.

They run when an older file is opened: a reading command migrates in memory only, a writing
command saves the migrated world with its own change. Files written by 0.1.0 are schema 2
(the current one) and open unchanged.
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


MIGRATIONS: list[Callable[[dict[str, Any]], None]] = [_v1_to_v2]


def migrate(tables: dict[str, Any]) -> bool:
    """Brings `tables` to SCHEMA_VERSION; True when anything changed."""
    meta = tables["meta"]["1"]
    changed = False
    while meta["schema"] < SCHEMA_VERSION:
        MIGRATIONS[meta["schema"] - 1](tables)
        meta["schema"] += 1
        changed = True
    return changed
