"""Input rules of docs/cli.md, shared by the CLI, imports and scenarios. Broken input is exit 2.

The rules of a declared record's fields come from its declaration (ordercli.core.model): `field`
applies one field's constraints, `record_input` every `Input()` field of a record (an order's
buyer, seller, item... for `orders place` and each row of `orders import`). The functions below
are the rules themselves, one per kind of constraint; the stored-record checks (ordercli.store.integrity)
call the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, NamedTuple

from ordercli.core import model as R
from ordercli.core.errors import UsageError
from ordercli.core.policy import PAYMENT_METHODS

_AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # ASCII digits only
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def amount(value: object, name: str = "amount", currency_code: str | None = None) -> str:
    """A positive decimal. With a currency, a whole number of the currency's minor units (ISO 4217:
    JPY 0 decimal places, USD 2, KWD 3, CLF 4), written with exactly that many places (5 USD is
    "5.00", 5.1 KWD is "5.100", 5 JPY is "5"). Numbers from JSON (imports) are taken by their text,
    so 19.99 stays 19.99 and 5 is 5.00."""
    if type(value) is str:
        known = _AMOUNTS.get((value, currency_code))
        if known is not None:
            return known
    checked = _amount(value, name, currency_code)
    if type(value) is str:
        if len(_AMOUNTS) >= _AMOUNTS_MAX:
            _AMOUNTS.clear()
        _AMOUNTS[value, currency_code] = checked
    return checked


# Amounts already checked, as text with their currency: a simulation (or an import) checks the same
# prices over and over, and the check (Decimal, the currency's places, quantize) is a pure function.
# Assumes the answer depends on the text and the currency alone (`name` only words a refusal, and
# refusals are never kept); tests/core/test_caches.py compares it with `_amount`.
_AMOUNTS: dict[tuple[str, str | None], str] = {}
_AMOUNTS_MAX = 65536


def _amount(value: object, name: str, currency_code: str | None) -> str:
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip() if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) else None
    if text is None or not _AMOUNT_RE.fullmatch(text):
        raise UsageError(f"{name}: {value!r} is not a positive decimal number (e.g. 19.99)", "bad_amount", field=name)
    try:
        dec = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise UsageError(f"{name}: {value!r} is not a decimal", "bad_amount", field=name) from None
    if dec <= 0:
        raise UsageError(f"{name}: must be positive, not {value!r}", "bad_amount", field=name)
    if currency_code is None:
        return str(dec)
    digits, quantum = _minor_unit(currency_code)
    try:
        exact = dec.quantize(quantum)
    except InvalidOperation:  # more digits than a decimal holds: not an amount anyone pays
        raise UsageError(f"{name}: {value!r} is too large", "bad_amount", field=name) from None
    if dec != exact:  # by value: "5.00" JPY is 5 yen, "5.5" JPY is no amount
        raise UsageError(
            f"{name}: {value!r} has more decimal places than {currency_code} has minor units ({digits})",
            "bad_amount",
            field=name,
        )
    return str(exact)


@cache
def _minor_unit(currency_code: str) -> tuple[int, Decimal]:
    """A currency's decimal places and its smallest amount (0.01 for USD), found once per code (an
    unknown code raises, and is not kept). Assumes the currency table does not change while the
    process runs, as `_CURRENCIES` does."""
    from ordercli.core.currency import places

    digits = places(currency_code)
    return digits, Decimal(1).scaleb(-digits)


def currency(value: object, name: str = "currency") -> str:
    if type(value) is str and value in _CURRENCIES:
        return value
    if not isinstance(value, str) or not _CURRENCY_RE.fullmatch(value):
        raise UsageError(f"{name}: {value!r} is not three uppercase letters (e.g. USD)", "bad_currency", field=name)
    from ordercli.core.currency import places

    places(value, name)  # a real ISO 4217 currency of payment
    if type(value) is str:
        _CURRENCIES.add(value)
    return value


# codes already found to be currencies of payment (at most ISO 4217's); assumes the currency table
# (ordercli.core.currency, read once from the package) does not change while the process runs
_CURRENCIES: set[str] = set()


_QUANTITY_MAX = 2**63 - 1  # the data file (JSON through orjson) holds 64-bit integers


def quantity(value: object, name: str = "quantity") -> int:
    """An integer of at least 1, in ASCII digits (int() would also take other scripts' digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        number = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        if len(text.lstrip("0")) > 19 and text.isascii() and text.isdigit():  # int() refuses 4,300 digits
            raise UsageError(f"{name}: {value!r} is too large (at most {_QUANTITY_MAX})", "bad_quantity", field=name)
        if not (text.isascii() and text.isdigit() and int(text) >= 1):
            raise UsageError(f"{name}: {value!r} is not an integer of at least 1", "bad_quantity", field=name)
        number = int(text)
    if number > _QUANTITY_MAX:
        raise UsageError(f"{name}: {value!r} is too large (at most {_QUANTITY_MAX})", "bad_quantity", field=name)
    return number


def name(value: object, option: str, limit: int = 200) -> str:
    """Party names and item text: non-empty, at most `limit` characters, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{option}: must not be empty", "bad_value", field=option)
    if len(value) > limit:
        raise UsageError(f"{option}: at most {limit} characters, got {len(value)}", "bad_value", field=option)
    if value.isascii() and value.isprintable():
        return value  # no control character (in ASCII: exactly the unprintable ones) and no surrogate
    if _CONTROL_RE.search(value):
        raise UsageError(f"{option}: must not contain control characters", "bad_value", field=option)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal could not decode arrive as surrogates
        raise UsageError(f"{option}: is not valid UTF-8 text", "bad_value", field=option) from None
    return value


# The system's own actors in the history (engine.PLATFORM, engine.SUPPORT): a party of that name
# would read there as the system.
RESERVED_PARTIES = ("platform", "support")


def party(value: object, option: str) -> str:
    """A buyer's or seller's name: as `name`, without the spaces around it (so "a " and "a" are
    one party), and not a name of the system's own actors, in any case."""
    trimmed = name(value, option).strip()
    if trimmed.casefold() in RESERVED_PARTIES:
        raise UsageError(
            f"{option}: {trimmed!r} is reserved: the history names the system's own actors "
            f"{' and '.join(RESERVED_PARTIES)}",
            "reserved_name",
            field=option,
        )
    return trimmed


def text(value: object, option: str, limit: int = 1000) -> str | None:
    """Free text (notes, messages, tracking): optional, else as `name` with a longer limit."""
    if value is None:
        return None
    return name(value, option, limit)


def payment(value: object, option: str = "payment", methods: tuple[str, ...] = PAYMENT_METHODS) -> str:
    """One of the policy's payment methods (R27: the keys of its refund_within)."""
    if value not in methods:
        raise UsageError(
            f"{option}: {value!r} is not one of the policy's payment methods: {', '.join(methods)}",
            "bad_payment",
            field=option,
        )
    return value


def choice(value: object, allowed: tuple[str, ...], what: str, code: str = "bad_value") -> str:
    if value not in allowed:
        raise UsageError(f"unknown {what} {value!r} (expected one of: {', '.join(allowed)})", code)
    return value


def path(value: object, option: str) -> str:
    """A file path as the OS will take it: non-empty, no NUL byte."""
    text = str(value)
    if not text or "\x00" in text:
        raise UsageError(f"{option}: not a usable file path", "bad_path", field=option)
    return text


# One input rule, as an expression over v (the value), o (the option that names it), s (the record's
# fields checked so far) and m (the policy's payment methods, or None), with its constants as
# {placeholders}: written out inline by `_checker` (record_input), made a function by `_step` (field).
class _Rule(NamedTuple):
    code: str
    consts: tuple[tuple[str, Any], ...] = ()


def _rule(c: R.Constraint, f: R.Field) -> _Rule | None:
    """The input rule of one declared constraint (ordercli.core.model)."""
    if isinstance(c, R.Party):
        return _Rule("party(v, o)")
    if isinstance(c, R.Text):
        return _Rule("name(v, o, {limit})", (("limit", c.max_len),))
    if isinstance(c, R.Currency):
        return _Rule("currency(v, o)")
    if isinstance(c, R.Money):
        return _Rule("amount(v, o, s.get({sibling}))", (("sibling", c.currency),))
    if isinstance(c, R.Count) and c.min == 1:
        return _Rule("quantity(v, o)")
    if isinstance(c, R.Slug) and f.input is not None:  # an input slug is a payment method (R27)
        return _Rule("v if m is None else payment(v, o, m)")
    if isinstance(c, R.OneOf):
        return _Rule("choice(v, {c}.allowed(), o)", (("c", c),))
    if isinstance(c, R.Differs):
        return _Rule("_differs(v, o, s, {other}, {own})", (("other", c.other), ("own", f.name)))
    return None


def _differs(v: Any, o: str, s: Mapping[str, Any], other: str, own: str) -> Any:
    if v == s.get(other):
        raise UsageError(f"{o}: the {own} must not be the {other} ({v})", "same_party", field=o)
    return v


def _rules(f: R.Field) -> tuple[_Rule, ...]:
    rules = [r for r in (_rule(c, f) for c in f.constraints) if r is not None]
    if f.kind == "enum":
        rules.append(_Rule("choice(v, {choices}, o)", (("choices", tuple(f.choices)),)))
    return tuple(rules)


def _written(rule: _Rule, names: dict[str, Any]) -> str:
    """The rule's expression with each constant bound to a fresh name in `names`."""
    bound = {}
    for placeholder, value in rule.consts:
        bound[placeholder] = unique = f"_k{len(names)}"
        names[unique] = value
    return rule.code.format(**bound)


# One input rule, as a function: (value, option, the record's fields checked so far, the policy's payment
# methods or None) -> the value as the record keeps it.
_Step = Callable[[Any, str, Mapping[str, Any], "tuple[str, ...] | None"], Any]


def _step(rule: _Rule) -> _Step:
    names: dict[str, Any] = dict(globals())
    step: _Step = eval(f"lambda v, o, s, m: {_written(rule, names)}", names)
    return step


@cache
def _field_steps(record: type, field_name: str) -> tuple[bool, tuple[_Step, ...]]:
    f = R.field(record, field_name)
    return f.optional, tuple(_step(r) for r in _rules(f))


def field(record: type, field_name: str, value: object, option: str | None = None) -> Any:
    """One field of a declared record, checked by its declaration (e.g. a message's text, at most
    2,000 characters): the value as the record keeps it, or exit 2 naming `option`."""
    optional, steps = _field_steps(record, field_name)
    if optional and value is None:
        return None
    out: Any = value
    for step in steps:
        out = step(out, option or field_name, {}, None)
    return out


def _depends_on(f: R.Field) -> str | None:
    return next((c.currency for c in f.constraints if isinstance(c, R.Money)), None)


_Plan = tuple[tuple[tuple[str, str, bool, tuple[_Rule, ...]], ...], tuple[tuple[str, str, _Rule], ...], tuple[str, ...]]


@cache
def _plan(record: type) -> _Plan:
    """How `record_input` checks a record's input fields, read from the declaration once (an import
    or a simulation checks many orders): each field's steps, a field whose rule reads another (an
    amount, its currency) after it, and the rules between two fields (the seller is not the buyer)
    last, once each field is sound on its own."""
    fields = R.input_fields(record)
    ordered = [f for f in fields if _depends_on(f) is None]
    for f in fields:
        after = _depends_on(f)
        if after is not None:
            ordered.insert(next((i + 1 for i, g in enumerate(ordered) if g.name == after), len(ordered)), f)

    def key(f: R.Field) -> str:
        return (f.input.option if f.input else "") or f.name

    own = tuple(
        (
            f.name,
            key(f),
            f.optional,
            _rules(f._replace(constraints=tuple(c for c in f.constraints if not isinstance(c, R.Differs)))),
        )
        for f in ordered
    )
    between = tuple(
        (f.name, key(f), rule)
        for f in fields
        for c in f.constraints
        if isinstance(c, R.Differs) and (rule := _rule(c, f))
    )
    return own, between, tuple(f.name for f in fields)


def record_input(
    record: type,
    values: Mapping[str, object],
    labels: Mapping[str, str] | None = None,
    methods: tuple[str, ...] | None = PAYMENT_METHODS,
) -> dict[str, Any]:
    """Every `Input()` field of a record (ordercli.core.model), checked by its declaration: the values
    as the record keeps them, in declared order. `values` and `labels` are keyed by the input's
    name (`Input("payment")` for payment_method); `labels` names a field in the messages (an
    import's row and column). `methods`: the payment methods the policy in force accepts (R27);
    None leaves that rule to the caller. A field whose rule reads another (an amount, its
    currency) is checked after it; a rule between two fields (the seller is not the buyer) last."""
    if labels:
        return _checker(record, True)(values, labels, methods)
    return _checker(record, False)(values, {}, methods)


def record_inputs(
    record: type, rows: Iterable[Mapping[str, object]], methods: tuple[str, ...] | None = PAYMENT_METHODS
) -> list[dict[str, Any]]:
    """`record_input` for many records at once (a simulation's drawn population): the same rules."""
    check = _checker(record, False)
    return [check(values, {}, methods) for values in rows]


_Checker = Callable[[Mapping[str, object], Mapping[str, str], "tuple[str, ...] | None"], dict[str, Any]]


@cache
def _checker(record: type, labelled: bool) -> _Checker:
    """`_plan` written out as straight-line Python, compiled once per record: the same rules in the
    same order, each written inline, without a loop over the plan or a call per step (an import
    or a simulation checks many orders). `s` is the record kept so far, `m` the payment methods:

        def check(values, label, m):
            s = {}
            v = values.get('buyer')
            o = label.get('buyer', 'buyer')
            v = party(v, o)                   # the field's rules, in turn
            s['buyer'] = v
            ...                               # an optional field's rules only when it is given
            o = label.get('seller', 'seller')
            _differs(s['seller'], o, s, _k3, _k4)   # rules between two fields
            return {'buyer': s['buyer'], ...}       # in declared order

    Not `labelled`: the messages name each field by its input's name, written in (o = 'buyer')."""
    own, between, declared = _plan(record)
    names: dict[str, Any] = dict(globals())

    def option(key: str) -> str:
        return f"label.get({key!r}, {key!r})" if labelled else repr(key)

    lines = ["def check(values, label, m):", "    s = {}"]
    for field_name, key, optional, rules in own:
        lines.append(f"    v = values.get({key!r})")
        pad = "    "
        if optional:
            lines.append("    if v is not None:")
            pad = "        "
        if rules:
            lines.append(f"{pad}o = {option(key)}")
        for rule in rules:
            lines.append(f"{pad}v = {_written(rule, names)}")
        if optional and not rules:
            lines.append(f"{pad}pass")
        lines.append(f"    s[{field_name!r}] = v")
    for field_name, key, rule in between:
        lines.append(f"    v = s[{field_name!r}]")
        lines.append(f"    o = {option(key)}")
        lines.append(f"    {_written(rule, names)}")
    lines.append("    return {" + ", ".join(f"{n!r}: s[{n!r}]" for n in declared) + "}")
    exec(compile("\n".join(lines), f"<record_input {record.__name__}>", "exec"), names)
    check: _Checker = names["check"]
    return check
