"""Behaviour files: the population a simulation runs, read from YAML and checked key by key.

A behaviour file says how buyers, sellers, the payment processor and support behave; it says
nothing about the rules (that is the policy). Every bad key or value is exit 2 naming it.
Durations are distributions: a duration string ("6h", fixed), or one of
`{fixed: 6h}`, `{uniform: [1h, 3d]}`, `{exponential: {mean: 1d}}`,
`{lognormal: {median: 8h, sigma: 1.0}}`, `{empirical: {csv: FILE, column: NAME, unit: h}}`.
Working days (the seller's ship delay) are the same distributions over plain numbers.
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import accumulate
from pathlib import Path
from statistics import NormalDist
from typing import Any

from ordercli.core.errors import UsageError
from ordercli.core.policy import CANCEL_REASONS, PAYMENT_METHODS, POST_SHIPMENT_DISPUTE_REASONS, is_name
from ordercli.core.reader import Key, Source, Table, Value, check, join, read_file
from ordercli.core.timecalc import parse_duration

FAULTS = ("buyer", "seller")
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
WEEKDAYS = 7

# The bounds of a behaviour file's numbers: past them a value is a typo, not a population, and
# would overflow the clock (past the year 9999) or run for ever.
MAX_ORDERS = 100_000_000  # as `simulate --orders`
MAX_DELAY = 3660 * 86400.0  # ten years, in seconds: a longer delay is "never" to a simulation
MAX_WORKING_DAYS = 2610.0  # ten years of Monday-to-Friday
MAX_AMOUNT = 1e9  # currency units
MAX_WEIGHT = 1e6  # shares, mix and weekday weights (relative)
LATEST_START = datetime(9900, 1, 1, tzinfo=UTC)  # the period and its deadlines end before the year 9999


@dataclass(frozen=True)
class Dist:
    """A distribution of seconds (or of working days); plain data, so it pickles to workers."""

    kind: str  # fixed | uniform | exponential | lognormal | empirical
    a: float = 0.0
    b: float = 0.0
    values: tuple[float, ...] = ()
    high: float = math.inf  # the unbounded kinds' draws stop there (their parameters are bounded)

    def draws(self, us: list[float]) -> list[float]:
        """The value drawn from each of the uniforms `us`, a column at a time. Each kind takes exactly one
        uniform per value, so every order consumes the same number of draws whatever its behaviour's
        shape; a lognormal goes through the normal's inverse CDF for that reason."""
        a, b, values, high = self.a, self.b, self.values, self.high
        if self.kind == "fixed":
            return [a] * len(us)
        if self.kind == "uniform":
            span = b - a
            return [a + span * u for u in us]
        if self.kind == "exponential":
            log = math.log
            return [min(-a * log(1.0 - u), high) for u in us]
        if self.kind == "lognormal":
            exp, quantile = math.exp, _STD_NORMAL.inv_cdf
            lo, hi = _U_MIN, _U_MAX
            return [min(a * exp(b * quantile(min(max(u, lo), hi))), high) for u in us]
        n = len(values)
        last = n - 1
        return [values[min(int(u * n), last)] for u in us]


_U_MIN, _U_MAX = 1e-12, 1 - 1e-12  # a uniform's bounds for the normal quantile


_STD_NORMAL = NormalDist()


@dataclass(frozen=True)
class Mix:
    """A categorical choice: codes and cumulative weights."""

    codes: tuple[str, ...]
    cum: tuple[float, ...]

    def used(self) -> tuple[str, ...]:
        """The codes with a weight above zero."""
        return tuple(c for c, lo, hi in zip(self.codes, (0.0, *self.cum), self.cum, strict=False) if hi > lo)

    def draws(self, us: list[float]) -> list[str]:
        """The code drawn from each of the uniforms `us`: the first whose cumulative weight exceeds u x total."""
        # the last code once more at the end: bisect_right's len(cum) lands on it, as min(..., last) would
        codes, cum, total = (*self.codes, self.codes[-1]), self.cum, self.cum[-1]
        return [codes[bisect_right(cum, u * total)] for u in us]


@dataclass(frozen=True)
class SellerType:
    name: str
    answer_probability: float
    answer_delay: Dist
    accept_probability: dict[str, float]  # fault -> probability
    ship_delay: Dist  # working days
    # issue 19, none by default: packing (R22) and the seller's own cancellations (R26)
    pack_delay: Dist | None = None  # after payment; None: packs as it ships where the policy wants packing
    cancel_share: float = 0.0  # of paid orders the seller cancels, where the policy lets them
    cancel_delay: Dist | None = None  # after payment
    cancel_reasons: Mix | None = None  # the seller's reasons (the policy's seller_cancel_reasons)


@dataclass(frozen=True)
class Behaviour:
    path: str
    start: datetime
    days: int
    per_day: float
    weekday_profile: tuple[float, ...]
    amount: Dist
    payment: Mix
    unpaid_share: float
    pay_probability: float
    pay_delay: Dist
    abandon_probability: float
    abandon_delay: Dist
    cancel_probability: float
    cancel_delay: Dist
    reasons: Mix
    sellers: tuple[SellerType, ...]
    seller_mix: Mix
    held_share: float
    release_delay: Dist
    overdue_dispute_probability: float
    overdue_dispute_delay: Dist
    rejected_dispute_probability: float
    rejected_dispute_delay: Dist
    shipped_dispute_probability: float
    shipped_dispute_delay: Dist
    shipped_dispute_reasons: Mix
    resolve_delay: Dist
    resolve_refund_probability: float
    confirm_probability: float
    confirm_delay: Dist

    @property
    def seller_steps(self) -> bool:
        """Whether any seller type packs or cancels (issue 19): only then are they drawn."""
        return any(s.pack_delay is not None or s.cancel_share for s in self.sellers)

    def seller_cancel_reasons(self) -> tuple[str, ...]:
        return tuple(c for s in self.sellers if s.cancel_share and s.cancel_reasons for c in s.cancel_reasons.used())

    def default_orders(self) -> int:
        """Orders per day times the weekday profile, over the period (at most MAX_ORDERS: a
        bigger default is refused naming orders.per_day; `--orders` may still pick a number)."""
        total = 0.0
        for day in range(self.days):
            weekday = (self.start.weekday() + day) % WEEKDAYS
            total += self.per_day * self.weekday_profile[weekday]
        if total > MAX_ORDERS:
            raise _Reader(Path(self.path)).bad(
                "orders.per_day",
                f"the period would place {total:,.0f} orders, more than {MAX_ORDERS:,} (lower it, or give --orders)",
            )
        return max(1, round(total))

    def day_weights(self) -> tuple[float, ...]:
        return tuple(
            self.per_day * self.weekday_profile[(self.start.weekday() + d) % WEEKDAYS] for d in range(self.days)
        )


# -- reading -------------------------------------------------------------------------------


def _show(bound: float) -> str:
    return f"{bound:,.0f}" if bound == int(bound) else f"{bound:g}"


DURATION_TEXT = "a duration like 30m, 6h, 2d or 1d12h"
_READ_BELOW = Value("a value")  # a behaviour value's kind depends on its key: parse reads each
DIST_KINDS = ("fixed", "uniform", "exponential", "lognormal", "empirical")


class _Reader:
    """A behaviour file's keys, read through ordercli.core.reader: its messages, its paths."""

    def __init__(self, path: Path):
        self.path = path
        self.source = Source(f"behaviour file {path}", "bad_behaviour")

    def bad(self, key: str, message: str) -> UsageError:
        return self.source.problem(key, message)

    def expected(self, key: str, expected: str, found: Any) -> UsageError:
        return self.source.bad(key, expected, found)

    def section(self, value: Any, key: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        """The mapping at `key` (empty when null) with keys among `allowed`, the `required` ones given;
        their values are read below, by kind (a distribution is a duration or a one-key mapping)."""
        table = Table(tuple(Key(k, _READ_BELOW, required=k in required) for k in allowed), null_is_empty=True)
        return dict(check(value, table, self.source, key))

    def number(self, value: Any, key: str, low: float = 0.0, high: float = MAX_WEIGHT) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
            raise self.expected(key, f"a number from {_show(low)} to {_show(high)}", value)
        return float(value)

    def probability(self, value: Any, key: str) -> float:
        return self.number(value, key, 0.0, 1.0)

    def seconds(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, str):
            raise self.expected(key, DURATION_TEXT, value)
        try:
            seconds = parse_duration(value, key).total_seconds()
        except UsageError:
            raise self.expected(key, DURATION_TEXT, value) from None
        if seconds > MAX_DELAY:
            raise self.expected(key, f"a duration of at most {MAX_DELAY / 86400:.0f}d (ten years)", value)
        return seconds

    def dist(self, value: Any, key: str, days: bool = False, high: float = MAX_WORKING_DAYS) -> Dist:
        """A duration distribution (seconds, at most MAX_DELAY), or with `days` one of plain
        numbers (working days, or money) from 0 to `high`."""
        if not days:
            high = MAX_DELAY

        def scalar(v: Any, k: str) -> float:
            return self.number(v, k, 0.0, high) if days else self.seconds(v, k)

        if not isinstance(value, dict):
            return Dist("fixed", scalar(value, key))
        if len(value) != 1:
            raise self.expected(key, f"a mapping with one of {', '.join(DIST_KINDS)}", value)
        ((kind, spec),) = value.items()
        k = join(key, kind)
        if kind == "fixed":
            return Dist("fixed", scalar(spec, k))
        if kind == "uniform":
            if isinstance(spec, dict):
                spec = self.section(spec, k, ("low", "high"), ("low", "high"))
                spec = [spec["low"], spec["high"]]
            if not isinstance(spec, list) or len(spec) != 2:
                raise self.expected(k, "[low, high]", spec)
            low, high = scalar(spec[0], f"{k}.low"), scalar(spec[1], f"{k}.high")
            if high < low:
                raise self.expected(k, "high at least low", spec)
            return Dist("uniform", low, high)
        if kind == "exponential":
            spec = self.section(spec, k, ("mean",), ("mean",))
            mean = scalar(spec["mean"], f"{k}.mean")
            if mean <= 0:
                raise self.expected(f"{k}.mean", "a positive value", spec["mean"])
            return Dist("exponential", mean, high=high)
        if kind == "lognormal":
            spec = self.section(spec, k, ("median", "sigma"), ("median", "sigma"))
            median = scalar(spec["median"], f"{k}.median")
            if median <= 0:
                raise self.expected(f"{k}.median", "a positive value", spec["median"])
            return Dist("lognormal", median, self.number(spec["sigma"], f"{k}.sigma", 0.0, 10.0), high=high)
        if kind == "empirical":
            return self.empirical(spec, k, days, high)
        raise self.source.unknown(k, DIST_KINDS)

    def empirical(self, spec: Any, key: str, days: bool, high: float) -> Dist:
        spec = self.section(spec, key, ("csv", "column", "unit"), ("csv", "column"))
        if not isinstance(spec["csv"], str) or not spec["csv"]:
            raise self.expected(f"{key}.csv", "a file name", spec["csv"])
        file = Path(spec["csv"])
        if not file.is_absolute():
            file = self.path.parent / file  # beside the behaviour file
        unit = spec.get("unit", "d" if days else "h")
        if unit not in UNITS:
            raise self.expected(f"{key}.unit", f"one of {', '.join(UNITS)}", unit)
        scale = 1.0 if days else UNITS[unit]
        column = spec["column"]
        try:
            with open(file, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise self.bad(
                f"{key}.csv", f"cannot read {str(file)!r}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if not rows or column not in rows[0]:
            raise self.bad(f"{key}.column", f"{column!r} is not a column of {str(file)!r}")
        values = []
        for line, row in enumerate(rows, start=2):
            text = (row[column] or "").strip()
            if not text:
                continue  # a missing observation
            try:
                v = float(text)
            except ValueError:
                raise self.bad(f"{key}.column", f"{str(file)!r} line {line}: {text!r} is not a number") from None
            if not math.isfinite(v) or v < 0:
                raise self.bad(f"{key}.column", f"{str(file)!r} line {line}: {text!r} is not a duration >= 0")
            if v * scale > high:
                raise self.bad(f"{key}.column", f"{str(file)!r} line {line}: {text!r} is more than {high / scale:g}")
            values.append(v * scale)
        if not values:
            raise self.bad(f"{key}.column", f"{column!r} of {str(file)!r} has no values")
        return Dist("empirical", values=tuple(sorted(values)))

    def mix(self, value: Any, key: str, codes: tuple[str, ...]) -> Mix:
        spec = self.section(value, key, codes)
        if not spec:
            raise self.expected(key, f"weights for some of {', '.join(codes)}", spec)
        weights = [self.number(spec.get(c, 0), join(key, c)) for c in codes]
        if sum(weights) <= 0:
            raise self.bad(key, "the weights add up to zero")
        return Mix(codes, tuple(accumulate(weights)))


INSTANT_TEXT = "an ISO 8601 instant (a real date and time, e.g. 2030-03-04T00:00:00Z)"


def _instant(r: _Reader, value: Any, key: str) -> datetime:
    if isinstance(value, datetime):
        found = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str):
        try:  # also an impossible date (2030-02-30): timestamps reach here as text, see load
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise r.expected(key, INSTANT_TEXT, value) from None
        found = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    else:
        raise r.expected(key, INSTANT_TEXT, value)
    try:
        late = found > LATEST_START
    except OverflowError:  # pragma: no cover - an offset that moves 9999-12-31 past the year 9999
        late = True
    if late:
        raise r.expected(
            key,
            f"an instant at most {LATEST_START.date()} (the period and its deadlines must end before the year 9999)",
            value,
        )
    return found


TOP_KEYS = ("name", "description", "orders", "payment", "cancel", "sellers", "refunds", "disputes", "confirm")


def load(path_text: str) -> Behaviour:
    """Read and check a behaviour file; exit 2 naming the first bad key or value."""
    path = Path(path_text)
    # timestamps kept as text: PyYAML would build them itself, and an impossible date
    # (2030-02-30) would fail there, naming no key
    data = read_file(path, _Reader(path).source, "yaml", timestamps=False)
    return parse(data, path)


def parse(data: Any, path: Path) -> Behaviour:
    r = _Reader(path)
    top = r.section(data, "", TOP_KEYS, ("orders", "sellers"))

    o = r.section(top["orders"], "orders", ("start", "days", "per_day", "weekday_profile", "amount"), ("start",))
    start = _instant(r, o["start"], "orders.start")
    days = o.get("days", 28)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise r.expected("orders.days", "a whole number of days from 1 to 3660", days)
    per_day = r.number(o.get("per_day", 1000), "orders.per_day", 0.0, MAX_ORDERS)
    profile = o.get("weekday_profile", [1.0] * WEEKDAYS)
    if not isinstance(profile, list) or len(profile) != WEEKDAYS:
        raise r.expected("orders.weekday_profile", "a list of 7 weights, Monday first", profile)
    weights = tuple(r.number(w, f"orders.weekday_profile[{i}]") for i, w in enumerate(profile))
    if per_day <= 0 or sum(weights) <= 0:
        raise r.bad("orders.per_day", "no orders would be placed (per_day and the weekday profile must be positive)")
    if not any(weights[(start.weekday() + d) % WEEKDAYS] > 0 for d in range(days)):
        raise r.bad("orders.weekday_profile", f"every day of the {days}-day period weighs 0: no orders would be placed")
    amount = r.dist(o.get("amount", 20), "orders.amount", days=True, high=MAX_AMOUNT)  # plain numbers: money

    p = r.section(
        top.get("payment"),
        "payment",
        ("methods", "unpaid_share", "pay_probability", "pay_delay", "abandon_probability", "abandon_delay"),
    )
    # any payment method a policy may name (R27): the aliexpress four first, in their order, then the
    # others in the file's order, so a file of the four draws exactly as before
    given = p.get("methods", {"card": 1})
    extra = tuple(m for m in given if m not in PAYMENT_METHODS) if isinstance(given, dict) else ()
    for m in extra:
        if not isinstance(m, str) or not is_name(m):
            raise r.bad(
                join("payment.methods", m), "the key is not a payment method name (lowercase words joined by -)"
            )
    methods = r.mix(given, "payment.methods", (*PAYMENT_METHODS, *extra))
    unpaid = r.probability(p.get("unpaid_share", 0.0), "payment.unpaid_share")
    pay_probability = r.probability(p.get("pay_probability", 0.0), "payment.pay_probability")
    pay_delay = r.dist(p.get("pay_delay", "1h"), "payment.pay_delay")
    abandon_probability = r.probability(p.get("abandon_probability", 0.0), "payment.abandon_probability")
    abandon_delay = r.dist(p.get("abandon_delay", "2h"), "payment.abandon_delay")

    c = r.section(top.get("cancel"), "cancel", ("probability", "delay", "reasons"))
    cancel_probability = r.probability(c.get("probability", 0.0), "cancel.probability")
    cancel_delay = r.dist(c.get("delay", "1d"), "cancel.delay")
    reasons = r.mix(c.get("reasons", {"second-thought": 1}), "cancel.reasons", tuple(CANCEL_REASONS))

    raw_sellers = top["sellers"]
    if not isinstance(raw_sellers, dict) or not raw_sellers:
        raise r.expected("sellers", "a mapping of seller types, e.g. {prompt: {share: 0.7, ...}}", raw_sellers)
    sellers = []
    shares = []
    for name, spec in raw_sellers.items():
        k = join("sellers", name)
        s = r.section(
            spec,
            k,
            (
                "share",
                "answer_probability",
                "answer_delay",
                "accept_probability",
                "ship_delay",
                "pack_delay",
                "cancel_share",
                "cancel_delay",
                "cancel_reasons",
            ),
            ("share",),
        )
        given_reasons = s.get("cancel_reasons", {"out-of-stock": 1})
        for code in given_reasons if isinstance(given_reasons, dict) else ():
            if not isinstance(code, str) or not is_name(code):
                raise r.bad(
                    join(f"{k}.cancel_reasons", code), "the key is not a reason code (lowercase words joined by -)"
                )
        cancel_share = r.probability(s.get("cancel_share", 0.0), f"{k}.cancel_share")
        shares.append(r.number(s["share"], f"{k}.share"))
        accept = r.section(s.get("accept_probability", {}), f"{k}.accept_probability", FAULTS)
        sellers.append(
            SellerType(
                name=str(name),
                answer_probability=r.probability(s.get("answer_probability", 1.0), f"{k}.answer_probability"),
                answer_delay=r.dist(s.get("answer_delay", "12h"), f"{k}.answer_delay"),
                accept_probability={
                    f: r.probability(accept.get(f, 0.5), f"{k}.accept_probability.{f}") for f in FAULTS
                },
                ship_delay=r.dist(s.get("ship_delay", 3), f"{k}.ship_delay", days=True),
                pack_delay=r.dist(s["pack_delay"], f"{k}.pack_delay") if "pack_delay" in s else None,
                cancel_share=cancel_share,
                cancel_delay=r.dist(s.get("cancel_delay", "1d"), f"{k}.cancel_delay") if cancel_share else None,
                cancel_reasons=(
                    r.mix(given_reasons, f"{k}.cancel_reasons", tuple(given_reasons)) if cancel_share else None
                ),
            )
        )
    if sum(shares) <= 0:
        raise r.bad("sellers", "the shares add up to zero")
    names = tuple(s.name for s in sellers)
    for n in names:
        try:
            from ordercli.core import validate

            validate.name(n, "seller type")
        except UsageError:
            raise r.bad(join("sellers", n), "the key is not a usable seller type name") from None

    f = r.section(top.get("refunds"), "refunds", ("held_share", "release_delay"))
    d = r.section(
        top.get("disputes"),
        "disputes",
        ("overdue_refund", "rejected_request", "shipped", "resolve_delay", "refund_probability"),
    )
    rd = r.section(d.get("rejected_request"), "disputes.rejected_request", ("probability", "delay"))
    od = r.section(d.get("overdue_refund"), "disputes.overdue_refund", ("probability", "delay"))
    sd = r.section(d.get("shipped"), "disputes.shipped", ("probability", "delay", "reasons"))
    cf = r.section(top.get("confirm"), "confirm", ("probability", "delay"))
    return Behaviour(
        path=str(path),
        start=start,
        days=days,
        per_day=per_day,
        weekday_profile=weights,
        amount=amount,
        payment=methods,
        unpaid_share=unpaid,
        pay_probability=pay_probability,
        pay_delay=pay_delay,
        abandon_probability=abandon_probability,
        abandon_delay=abandon_delay,
        cancel_probability=cancel_probability,
        cancel_delay=cancel_delay,
        reasons=reasons,
        sellers=tuple(sellers),
        seller_mix=Mix(names, tuple(accumulate(shares))),
        held_share=r.probability(f.get("held_share", 0.0), "refunds.held_share"),
        release_delay=r.dist(f.get("release_delay", "20d"), "refunds.release_delay"),
        overdue_dispute_probability=r.probability(od.get("probability", 0.0), "disputes.overdue_refund.probability"),
        overdue_dispute_delay=r.dist(od.get("delay", "1d"), "disputes.overdue_refund.delay"),
        rejected_dispute_probability=r.probability(rd.get("probability", 0.0), "disputes.rejected_request.probability"),
        rejected_dispute_delay=r.dist(rd.get("delay", "1d"), "disputes.rejected_request.delay"),
        shipped_dispute_probability=r.probability(sd.get("probability", 0.0), "disputes.shipped.probability"),
        shipped_dispute_delay=r.dist(sd.get("delay", "10d"), "disputes.shipped.delay"),
        shipped_dispute_reasons=r.mix(
            sd.get("reasons", {"not-received": 1}), "disputes.shipped.reasons", POST_SHIPMENT_DISPUTE_REASONS
        ),
        resolve_delay=r.dist(d.get("resolve_delay", "2d"), "disputes.resolve_delay"),
        resolve_refund_probability=r.probability(d.get("refund_probability", 0.5), "disputes.refund_probability"),
        confirm_probability=r.probability(cf.get("probability", 0.0), "confirm.probability"),
        confirm_delay=r.dist(cf.get("delay", "10d"), "confirm.delay"),
    )
