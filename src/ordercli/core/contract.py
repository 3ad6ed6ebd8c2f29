"""The machine contract shipped with the program: the JSON Schemas of everything a command
prints (src/ordercli/schemas/*.json) and the fixed table columns derived from them.

The schemas of the declared records (ordercli.core.model.SCHEMAS: order, refund, event...) are
generated from the declaration by `record_schema` and written by `python tools/schemas.py`
(tests/core/test_records_declared_once.py fails when a file drifts from it); the others are written by
hand, and embed no declared record."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson

from ordercli.core.errors import UsageError

# The columns a table shows when --fields is not given (csv shows every column), in the csv's
# order. A group name (details, refund) is one column holding the whole object. The declared
# records' come from their `Column()` fields (see default_columns); the rest are listed here.
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
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
            found: dict[str, Any] = alt
            return found
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


@cache
def default_columns(kind: str) -> tuple[str, ...] | None:
    """A declared record's table columns: its `Column()` fields in declared order, a `Column()`
    record field as its own `Column()` fields (next_deadline.kind); None when none is marked."""
    from ordercli.core import model as R

    record = R.SCHEMAS.get(kind)
    if record is None:
        return None

    def walk(rec: type, prefix: str) -> list[str]:
        out: list[str] = []
        for f in R.fields(rec):
            if f.column and f.kind == "record" and f.record is not None and walk(f.record, ""):
                out += walk(f.record, f"{prefix}{f.name}.")
            elif f.column:
                out.append(f"{prefix}{f.name}")
        return out

    return tuple(walk(record, "")) or None


def table_columns(kind: str) -> tuple[str, ...]:
    return default_columns(kind) or TABLE_FIELDS.get(kind) or columns(kind)


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


# -- the declared records' JSON Schemas -----------------------------------------------------------------

_INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$"


def _constraint_schema(c: Any) -> dict[str, Any]:
    from ordercli.core import model as R

    if isinstance(c, R.Instant):
        return {
            "format": "date-time",
            "pattern": _INSTANT_PATTERN,
            "description": "UTC ISO 8601 with an offset, whole seconds",
        }
    if isinstance(c, R.Money):
        return {
            "pattern": "^[0-9]+(\\.[0-9]{1,4})?$",
            "description": "a decimal string with exactly as many places as the currency has minor units "
            "(ISO 4217: 0 to 4)",
        }
    if isinstance(c, R.Currency):
        return {"pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"}
    if isinstance(c, (R.Text, R.Party)):
        return {"minLength": 1, "maxLength": c.max_len}
    if isinstance(c, R.Count):
        return {"minimum": c.min}
    if isinstance(c, R.Id):
        return {"pattern": "^ORD-\\d{4,}$"}
    if isinstance(c, R.Slug):
        return {"pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"}
    if isinstance(c, R.OneOf):
        return {"enum": list(c.allowed())}
    if isinstance(c, R.Unique):
        return {"minItems": 1, "uniqueItems": True}
    return {}  # Differs: a rule between two fields, which JSON Schema does not say


def _field_schema(f: Any) -> dict[str, Any]:
    if f.kind == "record":
        out = _object_schema(f.record)
    elif f.kind == "list":
        out = {"type": "array", "items": _field_schema(f.item)}
    elif f.kind == "enum":
        out = {"type": "string", "enum": [str(c) for c in f.choices]}
    else:
        out = {"type": {"str": "string", "int": "integer", "bool": "boolean", "dict": "object"}[f.kind]}
    for c in f.constraints:
        out.update(_constraint_schema(c))
    if f.optional:
        out = {"anyOf": [out, {"type": "null"}]}
    if f.doc:
        out["description"] = f.doc
    return out


def _object_schema(record: type) -> dict[str, Any]:
    from ordercli.core import model as R

    declared = R.fields(record)
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in declared},
        "required": [f.name for f in declared if f.required],
        "additionalProperties": False,
    }


def record_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a declared record (ordercli.core.model.SCHEMAS), from its declaration."""
    from ordercli.core import model as R

    record = R.SCHEMAS[name]
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:ordercli:schema:{name}",
        "title": " ".join((record.__doc__ or "").split()),
    }
    return {**head, **_object_schema(record)}


def schema_text(name: str) -> str:
    return json.dumps(record_schema(name), indent=2, ensure_ascii=False) + "\n"
