"""Schema migrations: MIGRATIONS[i] turns a schema i+1 world into schema i+2, in place.

They run when an older file is opened: a reading command migrates in memory only, a writing
command saves the migrated world with its own change. Files written by 0.1.0 are schema 2:
they open as they are, and their first writing command saves them as the current schema (5).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ordercli.core.world import SCHEMA_VERSION


def _v1_to_v2(tables: dict[str, Any]) -> None:
    """Schema 2 records where the policy in force came from: a preset or a file."""
    from ordercli.core.presets import PRESETS

    policy = tables["meta"]["1"]["policy"]
    source = "preset" if policy.get("name") in PRESETS else "file"
    policy.setdefault("source", source)
    policy.setdefault("origins", {})


_NOTICE = ("seq", "channel", "at", "to", "role", "order_id", "kind", "message")  # a schema-2 row's fields
_notice_fields = itemgetter(*_NOTICE)


def _v2_to_v3(tables: dict[str, Any]) -> None:
    """Schema 3 stores a notice once, with the channels it went out on, instead of a row per
    channel: the rows of one notice (the same notice, channels in turn, seq counting on) become one
    row, numbered 1, 2, 3 ... A row that is not a sound schema-2 row is carried over as it is,
    for the store's checks to name. (Reading commands run this on every open of an older file,
    so it is one pass, without a call per field.)"""
    notices: list[Any] = []
    last: dict[str, Any] | None = None
    last_same: tuple[Any, ...] = ()
    for row in tables["notifications"].values():
        try:
            seq, channel, *same = _notice_fields(row)
        except (KeyError, TypeError, IndexError):  # not an object, or a field missing
            seq = channel = None
        if type(seq) is not int or type(channel) is not str:
            notices.append(row)
            last = None
            continue
        if (
            last is not None
            and channel not in last["channels"]
            and seq == last["seq"] + len(last["channels"])
            and tuple(same) == last_same
        ):
            last["channels"].append(channel)
            continue
        at, to, role, order_id, kind, message = last_same = tuple(same)
        last = {"seq": seq, "at": at, "to": to, "role": role, "channels": [channel]}
        last.update(order_id=order_id, kind=kind, message=message)
        notices.append(last)
    tables["notifications"] = {str(n): notice for n, notice in enumerate(notices, start=1)}


def _v3_to_v4(tables: dict[str, Any]) -> None:
    """Schema 4 keeps the idempotency keys (`--idempotency-key`) in a table of their own: an older
    world has used none."""
    from ordercli.core.world import KEYS

    tables[KEYS] = {}


# What an order written before schema 5 lacks: it was never packed, never shipped late, never
# given a ship-by grace and never cancelled by its seller (docs/rules.md R22, R25, R26).
_V5_ORDER_FIELDS = {"packed_at": None, "shipped_late": False, "auto_cancel_by": None, "seller_cancel": None}


def _v4_to_v5(tables: dict[str, Any]) -> None:
    """Schema 5 stores issue 19's order fields on every order (packed_at, shipped_late,
    auto_cancel_by, seller_cancel); older orders get the values that mean "none of that".
    A row that is not an object is left for the store's checks to name."""
    for order in tables["orders"].values():
        if isinstance(order, dict):
            for key, value in _V5_ORDER_FIELDS.items():
                if key not in order:
                    order[key] = value


MIGRATIONS: list[Callable[[dict[str, Any]], None]] = [_v1_to_v2, _v2_to_v3, _v3_to_v4, _v4_to_v5]


def migrate(tables: dict[str, Any]) -> None:
    """Brings `tables` to SCHEMA_VERSION, in place (the store knows the file's own version)."""
    meta = tables["meta"]["1"]
    while meta["schema"] < SCHEMA_VERSION:
        MIGRATIONS[meta["schema"] - 1](tables)
        meta["schema"] += 1
