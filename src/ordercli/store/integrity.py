"""`db check`: what is wrong with a world's tables, as a list of problems. Pure.

Also used after an unexpected failure, to tell a damaged file (exit 5) from a bug (exit 1),
so every field the engine reads is checked for its type here.

The checks of each record's fields are derived from its declaration (ordercli.core.model): on first
use, Python source is generated from the record's field table (one straight-line function per
record: a type test and the constraints of each field) and compiled once, for the fast path a
command reading every order takes; when that says no, the same field expressions, one by one,
name the field and the rule broken. The rules between records (an order's id and its key, a
status and its instants, a refund's amount) follow in plain code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from ordercli.core import model as R
from ordercli.core import policy as P
from ordercli.core import validate
from ordercli.core.errors import UsageError
from ordercli.core.timecalc import parse_stored
from ordercli.core.world import KEYS

Check = Callable[[Any], bool]

# -- the field rules, as the generated code calls them ------------------------------------------------

_INSTANT_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")  # as ordercli writes one
_ID_RE = re.compile(r"ORD-\d{4,}")
_ZERO = timedelta(0)

# Values already found sound, by rule: a world repeats its instants, amounts and names a lot.
_SOUND: dict[Any, None] = {}
_SOUND_LIMIT = 200_000


def _remember(key: Any) -> bool:
    if len(_SOUND) < _SOUND_LIMIT:
        _SOUND[key] = None
    return True


def _instant(value: Any) -> bool:
    if type(value) is not str:
        return False
    if value in _SOUND:
        return True
    if not _INSTANT_RE.fullmatch(value):
        return False
    try:
        at = parse_stored(value)
    except ValueError:
        return False
    return at is not None and at.utcoffset() == _ZERO and at.microsecond == 0 and _remember(value)


def _accepts(rule: Callable[..., Any], *args: Any) -> bool:
    """An input rule of ordercli.core.validate, as a test: a stored value is sound when the CLI would
    have taken it as it is."""
    try:
        return bool(rule(*args) == args[0])
    except UsageError:
        return False


def _currency(value: Any) -> bool:
    return type(value) is str and _accepts(validate.currency, value)


def _money(value: Any, currency: Any) -> bool:
    if type(value) is not str:
        return False
    key = ("money", value, currency)
    if key in _SOUND:
        return True
    code = currency if _currency(currency) else None
    try:
        validate.amount(value, "amount", code)
    except UsageError:
        return False
    return _remember(key)


def _text(value: Any, limit: int) -> bool:
    if type(value) is not str:
        return False
    key = ("text", value, limit)
    return key in _SOUND or (_accepts(validate.name, value, "text", limit) and _remember(key))


def _party(value: Any) -> bool:
    if type(value) is not str:
        return False
    key = ("party", value)
    return key in _SOUND or (_accepts(validate.party, value, "party") and _remember(key))


def _id(value: Any) -> bool:
    return type(value) is str and _ID_RE.fullmatch(value) is not None


def _slug(value: Any) -> bool:
    return type(value) is str and P.is_name(value)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


# -- the generated checkers ---------------------------------------------------------------------------

_ABSENT = object()
_GLOBALS: dict[str, Any] = {
    "_instant": _instant,
    "_currency": _currency,
    "_money": _money,
    "_text": _text,
    "_party": _party,
    "_id": _id,
    "_slug": _slug,
    "_ABSENT": _ABSENT,
}


def _const(value: Any) -> str:
    name = f"_k{len(_GLOBALS)}"
    _GLOBALS[name] = value
    return name


def _constraint_expr(c: R.Constraint, v: str, r: str) -> str:
    if isinstance(c, R.Instant):
        return f"_instant({v})"
    if isinstance(c, R.Money):
        return f"_money({v}, {r}.get({c.currency!r}))"
    if isinstance(c, R.Currency):
        return f"_currency({v})"
    if isinstance(c, R.Text):
        return f"_text({v}, {c.max_len})"
    if isinstance(c, R.Party):
        return f"_party({v})"
    if isinstance(c, R.Count):
        return f"{v} >= {c.min}"
    if isinstance(c, R.Id):
        return f"_id({v})"
    if isinstance(c, R.Slug):
        return f"_slug({v})"
    if isinstance(c, R.OneOf):
        return f"{v} in {_const(frozenset(c.allowed()))}"
    if isinstance(c, R.Differs):
        return f"{v} != {r}.get({c.other!r})"
    if isinstance(c, R.Unique):
        return f"(len({v}) > 0 and len(set({v})) == len({v}))"
    raise TypeError(c)  # pragma: no cover - a constraint the declaration added without a check


def _type_expr(f: R.Field, v: str, depth: int) -> str:
    if f.kind in ("str", "int", "bool", "dict"):
        return f"type({v}) is {f.kind}"
    if f.kind == "enum":
        return f"type({v}) is str and {v} in {_const(frozenset(f.choices))}"
    if f.kind == "record":
        assert f.record is not None
        return f"{_const(stored_checker(f.record))}({v})"
    assert f.item is not None
    e = f"_e{depth}"
    return f"type({v}) is list and all({_field_expr(f.item, e, v, depth + 1)} for {e} in {v})"


def _field_expr(f: R.Field, v: str, r: str, depth: int = 0) -> str:
    parts = [_type_expr(f, v, depth)] + [_constraint_expr(c, v, r) for c in f.constraints]
    test = " and ".join(f"({p})" for p in parts)
    return f"({v} is None or ({test}))" if f.optional else test


@cache
def stored_checker(record: type) -> Check:
    """The fast test of a stored record: one function, generated from the record's field table and
    compiled once. False for any value that breaks a rule (the slow path then names it)."""
    lines = [
        "def ok(r):",
        "    if not isinstance(r, dict):  # TinyDB hands out its Document, a dict",
        "        return False",
        "    try:",
    ]
    for f in R.stored_fields(record):
        if f.required:
            lines.append(f"        v = r[{f.name!r}]")
            lines.append(f"        if not ({_field_expr(f, 'v', 'r')}):")
        else:
            lines.append(f"        v = r.get({f.name!r}, _ABSENT)")
            lines.append(f"        if v is not _ABSENT and not ({_field_expr(f, 'v', 'r')}):")
        lines.append("            return False")
    lines += ["    except (KeyError, TypeError):  # a key missing, a value unhashable", "        return False"]
    lines.append("    return True")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<stored check of {record.__name__}>", "exec"), _GLOBALS, namespace)
    ok: Check = namespace["ok"]
    return ok


@cache
def _field_tests(record: type) -> tuple[tuple[R.Field, Callable[[Any, Any], bool], tuple[Any, ...]], ...]:
    """Each stored field with its type test and one test per constraint, from the same expressions
    as the fast checker: for naming what is wrong."""

    def compiled(expr: str) -> Callable[[Any, Any], bool]:
        fn: Callable[[Any, Any], bool] = eval(f"lambda v, r: {expr}", _GLOBALS)
        return fn

    out = []
    for f in R.stored_fields(record):
        constraints = tuple((c, compiled(_constraint_expr(c, "v", "r"))) for c in f.constraints)
        out.append((f, compiled(_type_expr(f, "v", 0)), constraints))
    return tuple(out)


def _safely(test: Callable[[Any, Any], bool], value: Any, record: Any) -> bool:
    try:
        return test(value, record)
    except (TypeError, KeyError, AttributeError):
        return False


def record_problems(record: type, value: Any, prefix: str = "") -> list[str]:
    """What is wrong with one stored record, field by field: [] when it is sound."""
    if not isinstance(value, dict):
        return [f"{prefix.rstrip('.') or 'record'}: not an object"]
    if stored_checker(record)(value):
        return []
    out = []
    for f, type_ok, constraints in _field_tests(record):
        name = f"{prefix}{f.name}"
        if f.name not in value:
            if f.required:
                out.append(f"missing {name}")
            continue
        v = value[f.name]
        if v is None and f.optional:
            continue
        if not _safely(type_ok, v, value):
            if f.kind == "record" and isinstance(v, dict):
                assert f.record is not None
                out += record_problems(f.record, v, f"{name}.") or [f"malformed {name}"]
            elif f.kind == "list" and isinstance(v, list) and f.item is not None and f.item.kind == "record":
                assert f.item.record is not None
                bad = next(i for i, e in enumerate(v) if not stored_checker(f.item.record)(e))
                out += record_problems(f.item.record, v[bad], f"{name}[{bad}].")
            else:
                word = "unknown" if f.kind == "enum" else "malformed"
                out.append(f"{word} {name} {v!r:.40}")
            continue
        for c, test in constraints:
            if not _safely(test, v, value):
                word = "unknown" if isinstance(c, R.OneOf) else "malformed"
                out.append(f"{word} {name} {v!r:.40} ({c.what})")
                break
    return out or [f"malformed {prefix.rstrip('.') or 'record'}"]


def _shape_problems(value: dict[str, Any], fields: dict[str, Check]) -> list[str]:
    """For the idempotency keys' records (not declared records: see ordercli.core.idempotency)."""
    out = []
    for key, check in fields.items():
        if key not in value:
            out.append(f"missing {key}")
        elif not check(value[key]):
            out.append(f"malformed {key} {value[key]!r:.40}")
    return out


def _range(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(type(v) is int and v >= 1 for v in value)
        and value[0] <= value[1]
    )


_KEY_RESULTS: dict[str, dict[str, Check]] = {  # what a kept key remembers, by the kind of its command's answer
    "order": {"order": _is_str},
    "refund": {"order": _is_str},
    "message": {"order": _is_str, "n": lambda v: _count(v) and v >= 1},
    "imported": {"orders": _range},
    "move": {"from": _instant, "to": _instant},
    "policy": {},
}


def key_problem(key: str, record: Any) -> str | None:
    """What is wrong with one kept idempotency key's record, None when it is sound."""
    from ordercli.core.idempotency import COMMANDS

    where = f"idempotency key {key!r:.40}"
    if not isinstance(record, dict):
        return f"{where}: not an object"
    command = record.get("command")
    if command not in COMMANDS:
        return f"{where}: unknown command {command!r:.40}"
    fields: dict[str, Check] = {
        "fingerprint": lambda v: isinstance(v, str) and len(v) == 64,
        "at": _instant,
        "result": lambda v: isinstance(v, dict),
    }
    shape = _shape_problems(record, fields) or _shape_problems(
        record["result"], {"events": _range, **_KEY_RESULTS[COMMANDS[command]]}
    )
    return f"{where}: {shape[0]}" if shape else None


def _keys_problems(table: Any, next_event: Any, next_order: Any) -> list[str]:
    """The idempotency table (schema 4): empty, or one document mapping each key to its record,
    whose ranges lie within the history."""
    if not table:
        return []
    if set(table) != {"1"} or not isinstance(table["1"], dict):
        return [f"{KEYS}: not one document (id 1) of keys"]
    out = []
    for key, record in table["1"].items():
        problem = key_problem(key, record)
        if problem is None and _count(next_event) and record["result"]["events"][1] > next_event:
            problem = f"idempotency key {key!r:.40}: its events are past next_event"
        orders = record["result"].get("orders") if problem is None else None
        if orders and _count(next_order) and orders[1] > next_order:
            problem = f"idempotency key {key!r:.40}: its orders are past next_order"
        if problem:
            out.append(problem)
    return out


_PAID = (P.AWAITING_SHIPMENT, P.CANCEL_REQUESTED, P.SHIPPED, P.COMPLETED)


def _thread_ok(thread: list[Any]) -> bool:
    return [m["n"] for m in thread] == list(range(1, len(thread) + 1))


def order_problems(key: str, order: Any, now: datetime | None) -> list[str]:
    """What is wrong with one order (stored under `key`); [] when it is sound."""
    if not isinstance(order, dict):
        return [f"order {key}: not an object"]
    where = f"order {order.get('id', key)}"
    shape = record_problems(R.Order, order)
    if shape:
        return [f"{where}: {p}" for p in shape]
    out = []
    if not key.isdigit() or key != str(int(key)) or order["id"] != f"ORD-{int(key):04d}":
        out.append(f"{where}: id does not match its key {key!r}")
    if not _thread_ok(order.get("messages", [])):
        out.append(f"{where}: malformed messages thread")
    status = order["status"]
    if status in _PAID and (order["paid_at"] is None or order["ship_by"] is None):
        out.append(f"{where}: {status} but paid_at or ship_by is missing")
    if status == P.CANCEL_REQUESTED and (
        order["cancellation"] is None
        or order["cancellation"]["status"] != "pending"
        or order["cancellation"]["respond_by"] is None
    ):
        out.append(f"{where}: cancel_requested without a pending request")
    if (status == P.CANCELLED) != (order["end_reason"] is not None):
        out.append(f"{where}: end_reason {order['end_reason']!r} does not fit status {status}")
    refund = order["refund"]
    if refund is not None:
        if order["paid_at"] is None:
            out.append(f"{where}: a refund on an unpaid order")
        elif refund["amount"] != order["amount"]:
            out.append(f"{where}: refund amount {refund['amount']!r} differs from the paid {order['amount']!r}")
    elif status == P.CANCELLED and order["paid_at"] is not None:
        out.append(f"{where}: cancelled after payment but no refund")
    if now is not None and not out:
        for kind, at in P.pending_deadlines(order):
            if at <= now:
                out.append(f"{where}: {kind} {at.isoformat()} is past but still pending")
    return out


_ROWS: dict[str, type] = {"events": R.Event, "notifications": R.Notification}


def problems(tables: dict[str, Any], limit: int = 100) -> list[str]:
    out: list[str] = []
    meta = tables["meta"]["1"]
    now = parse_stored(meta["clock"]) if _instant(meta.get("clock")) else None
    if now is None:
        out.append(f"meta: clock {meta.get('clock')!r} is not an instant")
    try:
        pol = meta["policy"]
        P.policy_from_mapping(pol["values"], pol["name"])
    except (KeyError, TypeError):
        out.append("meta: the policy is missing or malformed")
    except UsageError as exc:
        out.append(f"meta: {exc.message}")
    for counter in ("next_order", "next_event", "next_notification"):
        if not _count(meta.get(counter)):
            out.append(f"meta: {counter} is not a count")
    for key, order in tables["orders"].items():
        out += order_problems(key, order, now)
        if len(out) >= limit:
            return out[:limit]
    for name, record in _ROWS.items():
        # events: ids and seq 1, 2, 3 ...; notices: ids 1, 2, 3 ..., seq counting one per channel
        before, seq = len(out), 1
        for n, (key, row) in enumerate(tables[name].items(), start=1):
            if not isinstance(row, dict) or row.get("seq") != seq or key != str(n):
                out.append(f"{name}: seq {seq} is missing, duplicated or out of order")
                break
            shape = record_problems(record, row)
            if shape:
                out.append(f"{name} {seq}: {shape[0]}")
                break
            seq += len(row["channels"]) if name == "notifications" else 1
        counter = meta.get(f"next_{name[:-1]}")
        if len(out) == before and _count(counter) and counter != seq:
            out.append(f"meta: next_{name[:-1]} does not follow the {name} table")
    out += _keys_problems(tables.get(KEYS), meta.get("next_event"), meta.get("next_order"))
    return out[:limit]


def first_problem(tables: dict[str, Any]) -> str | None:
    """What is wrong first, for refusing a file: also when the checks themselves choke on it
    (a shape they never expected), since then the file is what's wrong."""
    try:
        found = problems(tables, limit=1)
    except Exception:
        return "it does not have the shape of ordercli data"
    return found[0] if found else None


def row_problem(table: str, row: Any) -> str | None:
    """What is wrong with one event or notification, None when it is sound."""
    if not isinstance(row, dict):
        return f"{table}: a row that is not an object"
    shape = record_problems(_ROWS[table], row)
    return f"{table} {row.get('seq', '?')}: {shape[0]}" if shape else None
