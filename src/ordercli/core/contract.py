"""The machine contract shipped with the program: the JSON Schemas of everything a command
prints (src/ordercli/schemas/*.json) and the fixed table columns derived from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson

from ordercli.core.errors import UsageError

# The columns a table shows when --fields is not given (csv shows every column), in the csv's
# order. A group name (details, refund) is one column holding the whole object.
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "order": (
        "id",
        "buyer",
        "seller",
        "item",
        "amount",
        "currency",
        "status",
        "next_deadline.kind",
        "next_deadline.at",
    ),
    "event": ("seq", "at", "order_id", "kind", "actor", "details"),
    "seller-stats": (
        "seller",
        "orders",
        "seller_cancellations",
        "cancel_rate",
        "cancel_rate_status",
        "late_shipment_rate",
        "late_shipment_rate_status",
        "answered_in_time_rate",
    ),
}


@cache
def schema_names() -> tuple[str, ...]:
    files = resources.files("ordercli") / "schemas"
    return tuple(sorted(p.name[: -len(".json")] for p in files.iterdir() if p.name.endswith(".json")))


@cache
def load_schema(name: str) -> dict[str, Any]:
    if name not in schema_names():
        raise UsageError(f"unknown schema {name!r} (see ordercli schema --list)", "unknown_schema")
    value: dict[str, Any] = orjson.loads((resources.files("ordercli") / "schemas" / f"{name}.json").read_bytes())
    return value


def _object_part(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The fixed-field object a property holds (alone or as `X or null`), else None."""
    for alt in schema.get("anyOf", [schema]):
        if alt.get("type") == "object" and "properties" in alt and alt.get("additionalProperties") is False:
            return alt
    return None


@cache
def columns(kind: str) -> tuple[str, ...]:
    """Every column of an object type: its fields in schema order, fixed-field objects flattened to
    dotted names (refund.due_by) whatever the data; free-form objects and lists stay one column."""

    def walk(schema: dict[str, Any], prefix: str) -> list[str]:
        out: list[str] = []
        for key, sub in schema["properties"].items():
            inner = _object_part(sub)
            out += walk(inner, f"{prefix}{key}.") if inner is not None else [f"{prefix}{key}"]
        return out

    return tuple(walk(load_schema(kind), ""))


@cache
def groups(kind: str) -> tuple[str, ...]:
    """The flattened objects' own names (refund, next_deadline), each usable as one column."""
    return tuple(sorted({c.rsplit(".", i)[0] for c in columns(kind) for i in range(1, c.count(".") + 1)}))


def table_columns(kind: str) -> tuple[str, ...]:
    return TABLE_FIELDS.get(kind, columns(kind))


def pick(row: Mapping[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def getter(dotted: str) -> Callable[[Mapping[str, Any]], Any]:
    """pick() for one column, split once: a csv of 100k rows asks it millions of times."""
    if "." not in dotted:
        return lambda row: row.get(dotted)
    first, rest = dotted.split(".", 1)
    inner = getter(rest)
    return lambda row: inner(v) if isinstance(v := row.get(first), dict) else None


def choose_fields(kind: str, fields: str | None) -> tuple[str, ...] | None:
    """--fields a,b,c: known column names, in the order given; an unknown one is exit 2 naming it."""
    if fields is None:
        return None
    known = columns(kind)
    chosen = tuple(f.strip() for f in fields.split(","))
    for name in chosen:
        if name not in known and name not in groups(kind):
            raise UsageError(f"--fields: unknown field {name!r} (fields: {', '.join(known)})", "unknown_field")
    return chosen
