"""`ordercli behaviour fit LOG --out FILE`: a behaviour file estimated from an event log.

The log is read into one record per order (what happened when), from ordercli's own events
(NDJSON as `events list --format ndjson` or `simulate --events-out` print it, the JSON array
of `events list --json`, or a data file / `db backup`), or from a CSV with one row per order
(docs/simulate.md#fitting-a-behaviour-from-a-log has the columns).

Each choice becomes a share, each delay a distribution. A log is censored by the policy it ran
under: a seller's answer after respond_by is never seen, a shipment after ship_by never
happens, an order placed near the end of the log has not finished. So every delay is estimated
with Kaplan-Meier: each order at risk counts until the delay happened or until it stopped
being observable (its horizon: the policy's deadline, an earlier end of the order, the log's
end). What happened within the horizon is the fitted distribution (written as quantiles in a
CSV beside the behaviour file, read back by the behaviour file's `empirical` kind); what lies
beyond it is unknown, and the file says how much of it there was:

- a delay with a probability (pay, abandon, request, answer, dispute, confirm, release): the
  probability is the Kaplan-Meier share that happened within the observed horizon; beyond it,
  nothing is assumed to happen (a policy with a longer window than the log's extrapolates);
- the seller's ship delay (no probability: every seller ships some day): the mass beyond the
  horizon is spread evenly over one more horizon (an assumption, said in the file).

Seller types cannot be told apart in a log: the fit has one seller type, `fitted`.
"""

from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ordercli.core.errors import UsageError
from ordercli.core.model import EventKind
from ordercli.core.policy import CANCEL_REASONS, POST_SHIPMENT_DISPUTE_REASONS, is_name

QUANTILES = 400  # values written per fitted delay
DAY = 86400.0
# Every kind ordercli writes (docs/rules.md R19); those the fit does not model (packing, the ship-by
# grace, seller cancels: issue 19's mechanisms) are read and left to the behaviour file's defaults.
KINDS = tuple(str(kind) for kind in EventKind)
UNMODELLED = {"order_packed": "sellers.fitted.pack_delay", "seller_cancelled": "sellers.fitted.cancel_share"}
CSV_COLUMNS = (
    "order_id",
    "placed_at",
    "payment_method",
    "amount",
    "paid_at",
    "requested_at",
    "reason",
    "respond_by",
    "answer",
    "answered_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "end_reason",
    "refunded_at",
)
CSV_REQUIRED = ("order_id", "placed_at", "payment_method")
ANSWERS = ("accepted", "rejected", "timed_out", "withdrawn")


def _bad(where: str, message: str) -> UsageError:
    return UsageError(f"{where}: {message}", "bad_log")


@dataclass
class OrderLog:
    """One order as the log shows it; instants as datetimes, None when it did not happen."""

    id: str
    placed: datetime
    method: str
    amount: float | None = None
    paid: datetime | None = None
    requested: datetime | None = None  # the first cancel request to the seller
    reason: str | None = None
    respond_by: datetime | None = None
    answer: str | None = None  # accepted | rejected | timed_out | withdrawn, for the first request
    answered: datetime | None = None  # when the first request was closed (any way)
    abandoned: datetime | None = None  # R1: the buyer cancelled the unpaid order
    ship_by: datetime | None = None
    shipped: datetime | None = None
    completed: datetime | None = None
    cancelled: datetime | None = None
    end_reason: str | None = None
    refund_started: datetime | None = None
    refund_due: datetime | None = None
    held: datetime | None = None
    released: datetime | None = None
    refunded: datetime | None = None
    disputes: list[tuple[datetime, str, datetime | None, str | None]] = field(default_factory=list)
    last: datetime | None = None  # the order's last event
    unmodelled: tuple[str, ...] = ()  # kinds of its events the fit leaves to the defaults (UNMODELLED)


# -- reading -------------------------------------------------------------------------------------


def _instant(text: Any, where: str) -> datetime:
    if not isinstance(text, str) or not text:
        raise _bad(where, f"{text!r} is not an ISO 8601 instant")
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(where, f"{text!r} is not an ISO 8601 instant") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def read(path: Path) -> tuple[list[OrderLog], datetime]:
    """The orders of a log and the instant the log ends (its last event)."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise _bad(f"log {path}", f"cannot be read: {exc.strerror or exc}") from None
    with fh:
        head = fh.read(4096).lstrip()
        fh.seek(0)
        if head[:1] in (b"{", b"["):
            events = _json_events(fh, path)
            return _from_events(events, path)
        return _from_csv(fh, path)


def _json_events(fh: Any, path: Path) -> Iterator[tuple[str, dict]]:
    """(where, event) from NDJSON, a JSON array of events, or a data file (its events table)."""
    import orjson

    first = fh.readline()
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and "kind" in obj:  # NDJSON: one event a line
        yield f"log {path} line 1", obj
        for n, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            where = f"log {path} line {n}"
            try:
                ev = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise _bad(where, f"not JSON ({exc})") from None
            yield where, ev
        return
    try:
        whole = orjson.loads(first + fh.read())
    except orjson.JSONDecodeError as exc:
        raise _bad(f"log {path} line 1", f"not JSON, NDJSON events, or CSV ({exc})") from None
    if isinstance(whole, list):
        items: Iterable[Any] = whole
        what = "item"
    elif isinstance(whole, dict) and isinstance(whole.get("events"), dict):  # a data file / backup
        items = whole["events"].values()
        what = "event"
    else:
        raise _bad(f"log {path}", "is JSON but neither events nor an ordercli data file")
    for n, ev in enumerate(items, start=1):
        yield f"log {path} {what} {n}", ev


def _from_events(events: Iterable[tuple[str, dict]], path: Path) -> tuple[list[OrderLog], datetime]:
    """Streamed: memory holds one record per order, not the events. An order's events must come in
    time order (as every ordercli log has them: `events list` and --events-out alike)."""
    orders: dict[str, OrderLog] = {}
    end: datetime | None = None
    for where, ev in events:
        if not isinstance(ev, dict):
            raise _bad(where, "an event must be a JSON object")
        for key in ("at", "order_id", "kind", "details"):
            if key not in ev:
                raise _bad(where, f"the event has no {key!r}")
        kind = ev["kind"]
        if kind not in KINDS:
            raise _bad(where, f"unknown event kind {kind!r}")
        if not isinstance(ev["details"], dict):
            raise _bad(where, "'details' must be an object")
        at = _instant(ev["at"], f"{where}: at")
        end = at if end is None or at > end else end
        _apply(orders, where, ev, at)
    if end is None:
        raise _bad(f"log {path}", "has no events")
    return list(orders.values()), end


def _apply(orders: dict[str, OrderLog], where: str, ev: dict, at: datetime) -> None:
    kind, d, oid = ev["kind"], ev["details"], ev["order_id"]
    if kind == "message_sent":
        return
    if not isinstance(oid, str):
        raise _bad(where, f"order_id {oid!r} is not an order id")
    if kind == "order_placed":
        if oid in orders:
            raise _bad(where, f"order {oid} is placed twice")
        method = d.get("payment_method")
        if not isinstance(method, str):
            raise _bad(where, "order_placed has no payment_method")
        orders[oid] = OrderLog(oid, at, method, amount=_amount(d.get("amount"), where), last=at)
        return
    o = orders.get(oid)
    if o is None:
        raise _bad(where, f"{kind} for order {oid}, which the log never placed")
    if o.last is not None and at < o.last:
        raise _bad(where, f"order {oid}'s events are not in time order ({ev['at']} after {o.last.isoformat()})")
    o.last = at
    if kind in UNMODELLED:
        o.unmodelled += (kind,)
        return
    if kind == "order_paid":
        o.paid = at
        if d.get("ship_by") is not None:
            o.ship_by = _instant(d["ship_by"], f"{where}: ship_by")
    elif kind == "cancel_requested":
        if o.paid is None:
            return  # R1: an unpaid order's cancel (order_cancelled says unpaid_cancelled)
        if o.requested is None:
            reason = d.get("reason")
            if reason not in CANCEL_REASONS:
                raise _bad(where, f"unknown cancel reason {reason!r}")
            o.requested, o.reason = at, reason
            if d.get("respond_by") is not None:
                o.respond_by = _instant(d["respond_by"], f"{where}: respond_by")
    elif kind in ("cancel_accepted", "cancel_rejected", "cancel_timed_out", "cancel_withdrawn"):
        if o.requested is not None and o.answer is None:
            o.answer = {"cancel_accepted": "accepted", "cancel_rejected": "rejected",
                        "cancel_timed_out": "timed_out", "cancel_withdrawn": "withdrawn"}[kind]  # fmt: skip
            o.answered = at
    elif kind == "order_shipped":
        o.shipped = at
    elif kind == "order_completed":
        o.completed = at
    elif kind == "order_cancelled":
        o.cancelled, o.end_reason = at, d.get("end_reason")
        if o.end_reason == "unpaid_cancelled":
            o.abandoned = at
        if o.requested is not None and o.answer is None:  # closed with the order (ship_by, dispute)
            o.answered = at
    elif kind == "refund_started":
        o.refund_started = at
        if d.get("due_by") is not None:
            o.refund_due = _instant(d["due_by"], f"{where}: due_by")
    elif kind == "refund_held":
        o.held = o.held or at
    elif kind == "refund_released":
        o.released = o.released or at
    elif kind == "refund_completed":
        o.refunded = at
    elif kind == "dispute_opened":
        o.disputes.append((at, str(d.get("reason")), None, None))
    elif kind == "dispute_resolved" and o.disputes:
        opened, reason, _, _ = o.disputes[-1]
        o.disputes[-1] = (opened, reason, at, d.get("outcome"))


def _amount(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _bad(where, f"amount {value!r} is not a number") from None
    if not math.isfinite(x) or x <= 0:
        raise _bad(where, f"amount {value!r} is not a positive number")
    return x


def _from_csv(fh: Any, path: Path) -> tuple[list[OrderLog], datetime]:
    import io

    try:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        reader = csv.DictReader(text)
        header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _bad(f"log {path} line 1", f"not NDJSON events or a CSV ({exc})") from None
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise _bad(
            f"log {path} line 1",
            f"unknown column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)}; the NDJSON form has the rest)",
        )
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise _bad(f"log {path} line 1", f"no column {missing[0]!r} (required: {', '.join(CSV_REQUIRED)})")
    orders: list[OrderLog] = []
    seen: set[str] = set()
    end: datetime | None = None
    try:
        for n, row in enumerate(reader, start=2):
            where = f"log {path} line {n}"
            if None in row:
                raise _bad(where, "more cells than columns")

            def at(col: str, row: dict = row, where: str = where) -> datetime | None:
                v = (row.get(col) or "").strip()
                return _instant(v, f"{where}: {col}") if v else None

            oid = (row["order_id"] or "").strip()
            if not oid:
                raise _bad(where, "order_id is empty")
            if oid in seen:
                raise _bad(where, f"order {oid} appears twice")
            seen.add(oid)
            placed = at("placed_at")
            if placed is None:
                raise _bad(where, "placed_at is empty")
            method = (row["payment_method"] or "").strip()
            if not method:
                raise _bad(where, "payment_method is empty")
            o = OrderLog(oid, placed, method, amount=_amount((row.get("amount") or "").strip() or None, where))
            o.paid, o.requested, o.respond_by = at("paid_at"), at("requested_at"), at("respond_by")
            o.answered, o.ship_by, o.shipped = at("answered_at"), at("ship_by"), at("shipped_at")
            o.completed, o.cancelled, o.refunded = at("delivered_at"), at("cancelled_at"), at("refunded_at")
            reason = (row.get("reason") or "").strip() or None
            if o.requested is not None and reason not in CANCEL_REASONS:
                raise _bad(f"{where}: reason", f"{reason!r} is not a cancel reason ({', '.join(CANCEL_REASONS)})")
            o.reason = reason
            answer = (row.get("answer") or "").strip() or None
            if answer is not None and answer not in ANSWERS:
                raise _bad(f"{where}: answer", f"{answer!r} is not one of {', '.join(ANSWERS)}")
            if answer is not None and o.requested is None:
                raise _bad(f"{where}: answer", "an answer without requested_at")
            o.answer = answer
            if o.requested is not None and o.answered is None and answer is not None:
                raise _bad(f"{where}: answered_at", f"the request was {answer} but answered_at is empty")
            o.end_reason = (row.get("end_reason") or "").strip() or None
            if o.cancelled is not None and o.paid is None and o.end_reason in (None, "unpaid_cancelled"):
                o.abandoned = o.cancelled
            if o.cancelled is not None and o.refunded is not None:
                o.refund_started = o.cancelled
            stamps = [t for t in (placed, o.paid, o.requested, o.answered, o.shipped, o.completed, o.cancelled,
                                  o.refunded) if t is not None]  # fmt: skip
            if min(stamps) < placed:
                raise _bad(where, "an instant is before placed_at")
            o.last = max(stamps)
            end = o.last if end is None or o.last > end else end
            orders.append(o)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _bad(f"log {path} line {reader.line_num}", f"not a CSV row ({exc})") from None
    if end is None:
        raise _bad(f"log {path}", "has no orders")
    return orders, end


# -- Kaplan-Meier ------------------------------------------------------------------------------


@dataclass
class Fitted:
    """One delay: the share that happened within the horizon, its distribution there, and what it rests on."""

    key: str
    at_risk: int
    events: int
    censored: int  # stopped being observable before the delay happened, short of the horizon
    horizon: float | None  # seconds (or working days): the longest observable time
    probability: float
    quantiles: list[float]
    beyond: float = 0.0  # for ship_delay: the share placed past the horizon

    def summary(self) -> dict[str, Any]:
        return {
            "orders": self.at_risk,
            "observed": self.events,
            "censored": self.censored,
            "censored_share": round(self.censored / self.at_risk, 4) if self.at_risk else None,
            "horizon": self.horizon,
            "within_horizon": round(self.probability, 6),
        }


def kaplan_meier(obs: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(time, survival just after it) at each event time; events before censorings at a tie."""
    obs = sorted(obs, key=lambda x: (x[0], not x[1]))
    n = len(obs)
    s = 1.0
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(obs):
        t = obs[i][0]
        d = c = 0
        while i < len(obs) and obs[i][0] == t:
            if obs[i][1]:
                d += 1
            else:
                c += 1
            i += 1
        if d:
            s *= 1 - d / n
            out.append((t, s))
        n -= d + c
    return out


def fit_delay(key: str, obs: list[tuple[float, bool]], horizon: float | None, *, tail: bool = False) -> Fitted | None:
    """`obs`: (time, happened) per order at risk; None when nothing happened (defaults stay)."""
    curve = kaplan_meier(obs)
    events = sum(1 for _, e in obs if e)
    if not curve:
        return None
    top = max(t for t, _ in obs)
    h = horizon if horizon is not None else top
    censored = sum(1 for t, e in obs if not e and t < h)
    p = 1 - curve[-1][1]
    times = [t for t, _ in curve]
    cdf = [1 - s for _, s in curve]
    q = min(QUANTILES, max(events, 1))
    if tail and p < 1:
        # the whole distribution: within the horizon as seen, beyond it spread over one more horizon
        levels = [(i + 0.5) / QUANTILES for i in range(QUANTILES)]
        values = []
        for u in levels:
            if u <= p:
                values.append(times[min(bisect.bisect_left(cdf, u - 1e-12), len(times) - 1)])
            else:
                values.append(h + (u - p) / (1 - p) * h)
        return Fitted(key, len(obs), events, censored, horizon, p, values, beyond=1 - p)
    levels = [(i + 0.5) / q * p for i in range(q)]
    values = [times[min(bisect.bisect_left(cdf, u - 1e-12), len(times) - 1)] for u in levels]
    return Fitted(key, len(obs), events, censored, horizon, p, values)


# -- the seller's calendar: Monday to Friday, UTC (as the simulation's) --------------------------------


def working_days_between(a: datetime, b: datetime) -> float:
    """Weekday time from a to b, in days: the inverse of the simulation's ship delay."""
    if b <= a:
        return 0.0
    total = 0.0
    day = a.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < b:
        nxt = day + timedelta(days=1)
        if day.weekday() < 5:
            total += (min(nxt, b) - max(day, a)).total_seconds()
        day = nxt
    return total / DAY


# -- the fit ---------------------------------------------------------------------------------------


def _secs(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def _horizon(values: list[float]) -> float | None:
    return max(values) if values else None


def fit(orders: list[OrderLog], end: datetime) -> tuple[dict[str, Any], dict[str, Fitted], dict[str, Any]]:
    """(behaviour data without the delays' files, the fitted delays by behaviour key, the notes)."""
    n = len(orders)
    notes: dict[str, Any] = {"orders": n, "log_end": end.isoformat(), "figures": {}, "defaults": []}
    seen = {kind for o in orders for kind in o.unmodelled}
    notes["defaults"] += [UNMODELLED[kind] for kind in sorted(seen)]  # in the log, but not fitted
    figures = notes["figures"]
    delays: dict[str, Fitted] = {}

    def share(key: str, count: int, base: int) -> float | None:
        if base == 0:
            notes["defaults"].append(key)
            return None
        figures[key] = {"orders": base, "count": count}
        return count / base

    def delay(key: str, f: Fitted | None, unit: str) -> None:
        if f is None:
            notes["defaults"].append(key)
            return
        delays[key] = f
        figures[key] = {**f.summary(), "unit": unit}

    # orders: period, weekday profile, amount, methods
    first = min(o.placed for o in orders)
    start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    last = max(o.placed for o in orders)
    days = (last.replace(hour=0, minute=0, second=0, microsecond=0) - start).days + 1
    per_weekday = [0] * 7
    day_count = [0] * 7
    for d in range(days):
        day_count[(start + timedelta(days=d)).weekday()] += 1
    for o in orders:
        per_weekday[o.placed.weekday()] += 1
    per_day = n / days
    profile = [round((per_weekday[w] / day_count[w]) / per_day, 4) if day_count[w] else 1.0 for w in range(7)]
    data: dict[str, Any] = {
        "orders": {
            "start": start.isoformat().replace("+00:00", "Z"),
            "days": days,
            "per_day": round(per_day, 3),
            "weekday_profile": profile,
        },  # fmt: skip
    }
    figures["orders"] = {"orders": n, "days": days}
    amounts = sorted(o.amount for o in orders if o.amount is not None)
    if amounts:
        k = min(QUANTILES, len(amounts))
        qs = [amounts[min(int((i + 0.5) / k * len(amounts)), len(amounts) - 1)] for i in range(k)]
        delays["orders.amount"] = Fitted("orders.amount", len(amounts), len(amounts), 0, None, 1.0, qs)
        figures["orders.amount"] = {"orders": len(amounts), "unit": "currency units"}
    else:
        notes["defaults"].append("orders.amount")

    methods: dict[str, int] = {}
    for o in orders:
        methods[o.method] = methods.get(o.method, 0) + 1
    unknown = sorted(m for m in methods if not is_name(m))  # any policy's method (docs/rules.md R27)
    if unknown:
        raise UsageError(
            f"log: payment method {unknown[0]!r} is not a method name (lowercase words joined by -)", "bad_log"
        )
    payment: dict[str, Any] = {"methods": {m: round(c / n, 6) for m, c in methods.items()}}
    figures["payment.methods"] = {"orders": n}

    # unpaid orders: paid later, abandoned (R1), or neither (payment_timeout at pay_within)
    unpaid = [o for o in orders if o.paid is None or o.paid > o.placed]
    payment["unpaid_share"] = round(share("payment.unpaid_share", len(unpaid), n) or 0.0, 6)
    timeouts = [_secs(o.placed, o.cancelled) for o in unpaid if o.end_reason == "payment_timeout" and o.cancelled]
    pay_h = _horizon(timeouts)

    def at_risk_until(o: OrderLog, start_at: datetime, happened: datetime | None, horizon: float | None,
                      stops: Iterable[datetime | None]) -> tuple[float, bool]:  # fmt: skip
        if happened is not None:
            return _secs(start_at, happened), True
        # not seen: observable until the horizon, or earlier when the order or the log stopped it
        limit = _secs(start_at, end)
        for s in stops:
            if s is not None:
                limit = min(limit, _secs(start_at, s))
        if horizon is not None:
            limit = min(limit, horizon)
        return max(limit, 0.0), False

    pay = fit_delay(
        "payment.pay_delay",
        [at_risk_until(o, o.placed, o.paid, pay_h, ()) for o in unpaid],  # abandoners never pay: at risk to the end
        pay_h,
    )
    delay("payment.pay_delay", pay, "seconds")
    if pay is not None:
        payment["pay_probability"] = round(pay.probability, 6)
    never_paid = [o for o in unpaid if o.paid is None]
    abandon = fit_delay(
        "payment.abandon_delay", [at_risk_until(o, o.placed, o.abandoned, pay_h, ()) for o in never_paid], pay_h
    )
    delay("payment.abandon_delay", abandon, "seconds")
    if abandon is not None:
        payment["abandon_probability"] = round(abandon.probability, 6)
    data["payment"] = payment

    # cancel requests: from payment; after shipment or an end the buyer can no longer ask (R5)
    paid = [o for o in orders if o.paid is not None]
    cancel: dict[str, Any] = {}
    req = fit_delay(
        "cancel.delay",
        [at_risk_until(o, o.paid, o.requested, None, (o.shipped, o.cancelled)) for o in paid if o.paid],
        None,
    )
    delay("cancel.delay", req, "seconds")
    if req is not None:
        cancel["probability"] = round(req.probability, 6)
    reasons: dict[str, int] = {}
    for o in paid:
        if o.reason is not None and o.requested is not None:
            reasons[o.reason] = reasons.get(o.reason, 0) + 1
    if reasons:
        total = sum(reasons.values())
        cancel["reasons"] = {r: round(c / total, 6) for r, c in reasons.items()}
        figures["cancel.reasons"] = {"orders": total}
    else:
        notes["defaults"].append("cancel.reasons")
    data["cancel"] = cancel

    # the seller: answers (censored at respond_by, or earlier when ship_by closed the request), ship delay
    requests = [o for o in paid if o.requested is not None]
    windows = [_secs(o.requested, o.respond_by) for o in requests if o.requested and o.respond_by]
    windows += [_secs(o.requested, o.answered) for o in requests
                if o.answer == "timed_out" and o.respond_by is None and o.requested and o.answered]  # fmt: skip
    answer_h = _horizon(windows)
    seller: dict[str, Any] = {"share": 1}
    answers = []
    for o in requests:
        assert o.requested is not None
        answered = o.answered if o.answer in ("accepted", "rejected") else None
        own = _secs(o.requested, o.respond_by) if o.respond_by else answer_h
        answers.append(at_risk_until(o, o.requested, answered, own, (o.answered, o.cancelled)))
    ans = fit_delay("sellers.fitted.answer_delay", answers, answer_h)
    delay("sellers.fitted.answer_delay", ans, "seconds")
    if ans is not None:
        seller["answer_probability"] = round(ans.probability, 6)
    accept: dict[str, float] = {}
    for fault in ("buyer", "seller"):
        answered_f = [o for o in requests if o.answer in ("accepted", "rejected") and o.reason
                      and CANCEL_REASONS[o.reason][1] == fault]  # fmt: skip
        if answered_f:
            key = f"sellers.fitted.accept_probability.{fault}"
            accept[fault] = round(sum(1 for o in answered_f if o.answer == "accepted") / len(answered_f), 6)
            figures[key] = {"orders": len(answered_f)}
        else:
            notes["defaults"].append(f"sellers.fitted.accept_probability.{fault}")
    if accept:
        seller["accept_probability"] = accept

    ship_windows = [working_days_between(o.paid, o.ship_by) for o in paid if o.paid and o.ship_by]
    ship_windows += [working_days_between(o.paid, o.cancelled) for o in paid
                     if o.paid and o.cancelled and o.end_reason == "ship_timeout" and o.ship_by is None]  # fmt: skip
    ship_h = _horizon(ship_windows)
    ships = []
    for o in paid:
        assert o.paid is not None
        # a request stops the seller (R12): whatever came after it is not the seller's own pace
        stop = [s for s in (o.requested, o.cancelled, end) if s is not None]
        first_stop = min(stop)
        if o.shipped is not None and o.shipped <= first_stop and (o.requested is None or o.shipped < o.requested):
            ships.append((working_days_between(o.paid, o.shipped), True))
        else:
            limit = working_days_between(o.paid, first_stop)
            own = working_days_between(o.paid, o.ship_by) if o.ship_by else ship_h
            ships.append((min(limit, own) if own is not None else limit, False))
    shp = fit_delay("sellers.fitted.ship_delay", ships, ship_h, tail=True)
    delay("sellers.fitted.ship_delay", shp, "working days")
    data["sellers"] = {"fitted": seller}

    # refunds: held share and release
    refunds = [o for o in orders if o.refund_started is not None]
    refund_part: dict[str, Any] = {}
    if refunds:
        held = [o for o in refunds if o.held is not None]
        refund_part["held_share"] = round(len(held) / len(refunds), 6)
        figures["refunds.held_share"] = {"orders": len(refunds), "count": len(held)}
        rel = fit_delay(
            "refunds.release_delay",
            [at_risk_until(o, o.held, o.released, None, (o.refunded,)) for o in held if o.held],
            None,
        )
        delay("refunds.release_delay", rel, "seconds")
    else:
        notes["defaults"] += ["refunds.held_share", "refunds.release_delay"]
    data["refunds"] = refund_part

    # disputes
    disputes: dict[str, Any] = {}
    held_due = [o for o in refunds if o.held is not None and o.refund_due is not None]
    od = fit_delay(
        "disputes.overdue_refund.delay",
        [
            at_risk_until(o, o.refund_due, _dispute(o, ("refund-not-received",)), None, (o.refunded,))
            for o in held_due
            if o.refund_due and (o.refunded is None or o.refunded > o.refund_due)
        ],
        None,
    )
    delay("disputes.overdue_refund.delay", od, "seconds")
    if od is not None:
        disputes["overdue_refund"] = {"probability": round(od.probability, 6)}
    rejected = [o for o in requests if o.answer == "rejected" and o.reason
                and CANCEL_REASONS[o.reason][1] == "seller" and o.answered]  # fmt: skip
    rd = fit_delay(
        "disputes.rejected_request.delay",
        [
            at_risk_until(o, o.answered, _dispute(o, tuple(CANCEL_REASONS)), None, (o.shipped,))
            for o in rejected
            if o.answered
        ],  # fmt: skip
        None,
    )
    delay("disputes.rejected_request.delay", rd, "seconds")
    if rd is not None:
        disputes["rejected_request"] = {"probability": round(rd.probability, 6)}
    shipped = [o for o in orders if o.shipped is not None]
    sd = fit_delay(
        "disputes.shipped.delay",
        [
            at_risk_until(o, o.shipped, _dispute(o, POST_SHIPMENT_DISPUTE_REASONS), None, ())
            for o in shipped
            if o.shipped
        ],  # fmt: skip
        None,
    )
    delay("disputes.shipped.delay", sd, "seconds")
    if sd is not None:
        disputes["shipped"] = {"probability": round(sd.probability, 6)}
        post: dict[str, int] = {}
        for o in shipped:
            for _, reason, _, _ in o.disputes:
                if reason in POST_SHIPMENT_DISPUTE_REASONS:
                    post[reason] = post.get(reason, 0) + 1
        total = sum(post.values())
        disputes["shipped"]["reasons"] = {r: round(c / total, 6) for r, c in post.items()}
    every = [d for o in orders for d in o.disputes]
    rs = fit_delay(
        "disputes.resolve_delay",
        [
            (_secs(opened, resolved), True) if resolved else (_secs(opened, end), False)
            for opened, _, resolved, _ in every
        ],  # fmt: skip
        None,
    )
    delay("disputes.resolve_delay", rs, "seconds")
    outcomes = [outcome for _, _, resolved, outcome in every if resolved]
    if outcomes:
        disputes["refund_probability"] = round(sum(1 for x in outcomes if x == "refund") / len(outcomes), 6)
        figures["disputes.refund_probability"] = {"orders": len(outcomes)}
    else:
        notes["defaults"].append("disputes.refund_probability")
    data["disputes"] = disputes

    cf = fit_delay(
        "confirm.delay", [at_risk_until(o, o.shipped, o.completed, None, ()) for o in shipped if o.shipped], None
    )
    delay("confirm.delay", cf, "seconds")
    data["confirm"] = {"probability": round(cf.probability, 6)} if cf is not None else {}
    return data, delays, notes


def _dispute(o: OrderLog, reasons: tuple[str, ...]) -> datetime | None:
    for opened, reason, _, _ in o.disputes:
        if reason in reasons:
            return opened
    return None


# -- writing ----------------------------------------------------------------------------------------

# where each fitted delay goes in the behaviour data: (path of keys, column, unit)
_PLACES = {
    "orders.amount": (("orders", "amount"), "amount", None),
    "payment.pay_delay": (("payment", "pay_delay"), "pay_delay_s", "s"),
    "payment.abandon_delay": (("payment", "abandon_delay"), "abandon_delay_s", "s"),
    "cancel.delay": (("cancel", "delay"), "cancel_delay_s", "s"),
    "sellers.fitted.answer_delay": (("sellers", "fitted", "answer_delay"), "answer_delay_s", "s"),
    "sellers.fitted.ship_delay": (("sellers", "fitted", "ship_delay"), "ship_delay_working_days", None),
    "refunds.release_delay": (("refunds", "release_delay"), "release_delay_s", "s"),
    "disputes.overdue_refund.delay": (("disputes", "overdue_refund", "delay"), "overdue_dispute_delay_s", "s"),
    "disputes.rejected_request.delay": (("disputes", "rejected_request", "delay"), "rejected_dispute_delay_s", "s"),
    "disputes.shipped.delay": (("disputes", "shipped", "delay"), "shipped_dispute_delay_s", "s"),
    "disputes.resolve_delay": (("disputes", "resolve_delay"), "resolve_delay_s", "s"),
    "confirm.delay": (("confirm", "delay"), "confirm_delay_s", "s"),
}


def render(
    data: dict[str, Any], delays: dict[str, Fitted], notes: dict[str, Any], log: str, csv_name: str
) -> tuple[str, str]:
    """The behaviour file's text (YAML, with what each figure rests on as comments) and the CSV beside it."""
    import yaml

    for key in delays:
        path, column, unit = _PLACES[key]
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        spec: dict[str, Any] = {"csv": csv_name, "column": column}
        if unit is not None:
            spec["unit"] = unit
        node[path[-1]] = {"empirical": spec}
    data = {
        "name": f"fitted from {Path(log).name}",
        "description": f"behaviour fit of {log}: {notes['orders']} orders up to {notes['log_end']}",
        **data,
    }
    lines = [
        f"# Fitted by `ordercli behaviour fit` from {log} ({notes['orders']:,} orders, log ends {notes['log_end']}).",
        "# Delays are Kaplan-Meier estimates within the log's observed horizon (the policy it ran under); their",
        f"# quantiles are in {csv_name}, beside this file. A delay's probability is the share that happened",
        "# within the horizon: nothing is assumed beyond it, so a policy far beyond the horizon extrapolates.",
        "# The ship delay's mass past ship_by (never seen) is spread evenly over one more horizon.",
        "# One seller type: a log does not tell seller types apart.",
        "#",
        "# figure: orders it rests on; delays: observed, censored (stopped being observable short of the horizon)",
    ]
    for key, fig in notes["figures"].items():
        if "observed" in fig:
            horizon = "none" if fig["horizon"] is None else f"{fig['horizon']:g} {fig['unit']}"
            lines.append(
                f"#   {key}: {fig['orders']:,} at risk, {fig['observed']:,} observed, {fig['censored']:,} censored "
                f"({(fig['censored_share'] or 0) * 100:.1f}%), horizon {horizon}, "
                f"{fig['within_horizon'] * 100:.2f}% within it"
            )
        else:
            lines.append(f"#   {key}: {fig['orders']:,} orders")
    if notes["defaults"]:
        lines.append("# not estimated (nothing in the log to rest on; the behaviour file's defaults apply):")
        lines.append("#   " + ", ".join(notes["defaults"]))
    text = "\n".join(lines) + "\n\n" + yaml.safe_dump(data, sort_keys=False, width=110)
    columns = [(_PLACES[k][1], f) for k, f in delays.items()]
    rows = max((len(f.quantiles) for _, f in columns), default=0)
    out = [",".join(c for c, _ in columns)]
    for i in range(rows):
        out.append(",".join(_num(f.quantiles[i]) if i < len(f.quantiles) else "" for _, f in columns))
    return text, "\n".join(out) + "\n"


def _num(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.0f}"
