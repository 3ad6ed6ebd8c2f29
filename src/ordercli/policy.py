"""The rulebook of docs/rules.md as pure functions: values, reasons, gates, deadlines, actions.

Nothing here reads a clock or a file: every function that needs the time takes `now`.
The engine asks these gates before acting, and `actions()` asks the very same gates,
so what an order's `actions` offers is exactly what the engine accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import cache, cached_property, lru_cache
from typing import Any

from ordercli.errors import Refused, UsageError
from ordercli.records import DeadlineKind, EndReason, PaymentMethod, Status
from ordercli.timecalc import (
    UTC,
    Duration,
    add_duration,
    add_working_days,
    parse_policy_duration,
    parse_stored,
)

# -- statuses and codes -------------------------------------------------------------------

AWAITING_PAYMENT = Status.AWAITING_PAYMENT
AWAITING_SHIPMENT = Status.AWAITING_SHIPMENT
CANCEL_REQUESTED = Status.CANCEL_REQUESTED
SHIPPED = Status.SHIPPED
COMPLETED = Status.COMPLETED
CANCELLED = Status.CANCELLED
STATUSES = tuple(Status)
FINAL_STATUSES = (CANCELLED, COMPLETED)

PAYMENT_METHODS = tuple(PaymentMethod)

END_REASONS = tuple(EndReason)

# The dropdown (R6): code -> (meaning, fault)
CANCEL_REASONS: dict[str, tuple[str, str]] = {
    "second-thought": ("changed my mind, e.g. found the item is low quality", "buyer"),
    "wrong-product": ("ordered the wrong item or options by mistake", "buyer"),
    "shipping-delay": ("shipping takes longer than the seller promised", "seller"),
    "seller-unresponsive": ("the seller does not answer questions", "seller"),
    "other": ("anything else", "buyer"),
}
SELLER_FAULT_REASONS = tuple(c for c, (_, f) in CANCEL_REASONS.items() if f == "seller")
POST_SHIPMENT_DISPUTE_REASONS = ("not-received", "not-as-described", "damaged")
REFUND_DISPUTE_REASON = "refund-not-received"
DISPUTE_REASONS = SELLER_FAULT_REASONS + POST_SHIPMENT_DISPUTE_REASONS + (REFUND_DISPUTE_REASON,)

RESPONSES = ("accept", "reject")
DISPUTE_OUTCOMES = ("refund", "reject")

# Deadline kinds are the names of the fields that hold them. Ties at one instant are
# broken by order id, then by kind in this (alphabetical) order.
DEADLINE_KINDS = tuple(DeadlineKind)


# -- the policy values ----------------------------------------------------------------------

POLICY_KEYS = (
    "extends",
    "timezone",
    "holidays",
    "pay_within",
    "ship_within",
    "seller_response_within",
    "on_seller_silence",
    "cancel_requests_max",
    "ewallets",
    "refund_within",
    # issue 19: optional, each default keeps the rules above as they were (docs/rules.md R21-R28)
    "free_cancel_within",
    "free_cancel_until_packed",
    "pack_before_ship",
    "cancel_request_within",
    "auto_cancel_after_ship_by",
    "seller_can_cancel",
    "seller_cancel_reasons",
    "seller_cancel_rate_max",
    "late_shipment_rate_max",
)
# The keys a policy may leave out even where it states its whole table (older data files, the
# aliexpress preset): their defaults are today's rules.
OPTIONAL_KEYS = POLICY_KEYS[POLICY_KEYS.index("free_cancel_within") :]
SILENCE_BEHAVIOURS = ("cancel", "lapse")
ZERO = timedelta(0)

# R26: the seller's reasons when a policy names none: code -> (meaning, counts against the seller)
DEFAULT_SELLER_CANCEL_REASONS: dict[str, tuple[str, bool]] = {
    "out-of-stock": ("the item is out of stock", True),
    "pricing-error": ("the listed price was wrong", True),
    "buyer-asked": ("the buyer asked the seller to cancel", False),
    "address-problem": ("the delivery address is unusable", False),
    "other": ("anything else", True),
}
# payment methods and seller reasons are names: lowercase words joined by hyphens
_NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
NAME_PATTERN = _NAME_RE.pattern


def is_name(text: str) -> bool:
    """A payment method or seller reason code as policies spell them."""
    return _NAME_RE.fullmatch(text) is not None


@dataclass(frozen=True)
class Policy:
    name: str
    timezone: str
    holidays: str
    pay_within: Duration
    ship_within: Duration
    seller_response_within: Duration
    on_seller_silence: str
    cancel_requests_max: int
    ewallets: tuple[str, ...]
    refund_within: dict[str, Duration] = field(hash=False)
    raw: dict[str, Any] = field(hash=False, compare=False, repr=False)
    free_cancel_within: Duration = ZERO
    free_cancel_until_packed: bool = False
    pack_before_ship: bool = False
    cancel_request_within: Duration | None = None
    auto_cancel_after_ship_by: Duration = ZERO
    seller_can_cancel: bool = False
    seller_cancel_reasons: dict[str, tuple[str, bool]] = field(
        default_factory=lambda: dict(DEFAULT_SELLER_CANCEL_REASONS), hash=False
    )
    seller_cancel_rate_max: float | None = None
    late_shipment_rate_max: float | None = None

    @cached_property
    def uses_packing(self) -> bool:
        """`seller pack` exists only where a rule reads packed_at (R22)."""
        return self.free_cancel_until_packed or self.pack_before_ship

    @cached_property
    def actions_key(self) -> tuple[bool, bool, bool]:
        """What of the policy itself decides which actions exist (R22, R26)."""
        return (self.uses_packing, self.seller_can_cancel, self.pack_before_ship)

    @cached_property
    def reads_order_extras(self) -> bool:
        """Whether an order's actions depend on its payment time or packing (R21-R23)."""
        return self.has_free_cancel or self.cancel_request_within is not None or self.uses_packing

    @cached_property
    def has_free_cancel(self) -> bool:
        return self.free_cancel_until_packed or self.free_cancel_within != ZERO

    @cached_property  # asked at every placement (a simulation places millions)
    def payment_methods(self) -> tuple[str, ...]:
        """R27: the methods orders may be paid with are the ones the policy knows how to refund."""
        return tuple(self.refund_within)

    @property
    def tz(self) -> tzinfo:
        return _zone(self.timezone)

    def add(self, instant: datetime, d: Duration) -> datetime:
        if isinstance(d, timedelta):
            return add_duration(instant, d)
        return _add_working(instant, d.days, self.timezone, self.holidays)

    def describe(self) -> dict[str, Any]:
        """Every value in force, spelt as in a policy file."""
        values = {k: self.raw[k] for k in POLICY_KEYS if k in self.raw and k != "extends"}
        return {"name": self.name, **values}


@cache
def _zone(name: str) -> tzinfo:
    if name in ("UTC", "Etc/UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@cache
def _calendar(code: str) -> Callable[[date], bool] | None:
    if not code:
        return None
    import holidays  # paid for only when a policy names a calendar

    cal = holidays.country_holidays(code)
    return lambda day: day in cal


@lru_cache(maxsize=65536)
def _add_working(instant: datetime, days: int, zone: str, calendar: str) -> datetime:
    # Cached: a tick that fires thousands of deadlines at one instant asks the same sum.
    return add_working_days(instant, days, _zone(zone), _calendar(calendar))


# The data file (JSON through orjson) holds 64-bit integers; TOML's own integers are unbounded.
CANCEL_REQUESTS_MAX_LIMIT = 2**63 - 1


def policy_from_mapping(values: dict[str, Any], name: str) -> Policy:
    """Build a Policy from fully resolved values (every key present); refuses bad values
    with exit 2 naming the key."""

    def need(key: str) -> Any:
        if key not in values:
            raise UsageError(f"policy: missing key {key!r}", "bad_policy")
        return values[key]

    for key in values:
        if key not in POLICY_KEYS:
            raise UsageError(f"policy: unknown key {key!r}", "bad_policy")

    def duration(key: str, value: Any) -> Duration:
        try:
            d = parse_policy_duration(value, f"policy {key}")
        except UsageError:
            raise UsageError(
                f'policy: bad value for {key!r}: {value!r} (expected e.g. "72h" or "7 working days")',
                "bad_policy",
            ) from None
        return d

    tzname = need("timezone")
    if not isinstance(tzname, str) or not tzname:
        raise UsageError(f"policy: bad value for 'timezone': {tzname!r}", "bad_policy")
    try:
        _zone(tzname)
    except Exception:
        raise UsageError(f"policy: bad value for 'timezone': unknown zone {tzname!r}", "bad_policy") from None
    cal = need("holidays")
    if not isinstance(cal, str):
        raise UsageError(f"policy: bad value for 'holidays': {cal!r}", "bad_policy")
    if cal:
        try:
            _calendar(cal)
        except Exception:
            raise UsageError(
                f"policy: bad value for 'holidays': no holiday calendar for {cal!r}", "bad_policy"
            ) from None
    silence = need("on_seller_silence")
    if silence not in SILENCE_BEHAVIOURS:
        raise UsageError(
            f"policy: bad value for 'on_seller_silence': {silence!r} (expected cancel or lapse)", "bad_policy"
        )
    limit = need("cancel_requests_max")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= CANCEL_REQUESTS_MAX_LIMIT:
        raise UsageError(
            f"policy: bad value for 'cancel_requests_max': {limit!r} "
            f"(expected an integer from 0 to {CANCEL_REQUESTS_MAX_LIMIT})",
            "bad_policy",
        )
    refund_raw = need("refund_within")
    if not isinstance(refund_raw, dict) or not refund_raw:
        raise UsageError(f"policy: bad value for 'refund_within': {refund_raw!r}", "bad_policy")
    refund_within: dict[str, Duration] = {}
    for method, value in refund_raw.items():
        if not isinstance(method, str) or not _NAME_RE.fullmatch(method):
            raise UsageError(
                f"policy: bad payment method 'refund_within.{method}' (expected lowercase words joined by -)",
                "bad_policy",
            )
        refund_within[method] = duration(f"refund_within.{method}", value)
    ewallets = need("ewallets")
    if not isinstance(ewallets, list) or any(m not in refund_within for m in ewallets):
        raise UsageError(
            f"policy: bad value for 'ewallets': {ewallets!r} (each must be a method of refund_within)", "bad_policy"
        )

    def flag(key: str) -> bool:
        value = values.get(key, False)
        if not isinstance(value, bool):
            raise UsageError(f"policy: bad value for {key!r}: {value!r} (expected true or false)", "bad_policy")
        return value

    def rate(key: str) -> float | None:
        value = values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise UsageError(
                f"policy: bad value for {key!r}: {value!r} (expected a fraction from 0 to 1, e.g. 0.025)",
                "bad_policy",
            )
        return float(value)

    window = values.get("cancel_request_within")
    reasons = _seller_cancel_reasons(values.get("seller_cancel_reasons"))
    return Policy(
        name=name,
        timezone=tzname,
        holidays=cal,
        pay_within=duration("pay_within", need("pay_within")),
        ship_within=duration("ship_within", need("ship_within")),
        seller_response_within=duration("seller_response_within", need("seller_response_within")),
        on_seller_silence=silence,
        cancel_requests_max=limit,
        ewallets=tuple(ewallets),
        refund_within=refund_within,
        raw=dict(values),
        free_cancel_within=duration("free_cancel_within", values.get("free_cancel_within", "0s")),
        free_cancel_until_packed=flag("free_cancel_until_packed"),
        pack_before_ship=flag("pack_before_ship"),
        cancel_request_within=None if window is None else duration("cancel_request_within", window),
        auto_cancel_after_ship_by=duration("auto_cancel_after_ship_by", values.get("auto_cancel_after_ship_by", "0s")),
        seller_can_cancel=flag("seller_can_cancel"),
        seller_cancel_reasons=reasons,
        seller_cancel_rate_max=rate("seller_cancel_rate_max"),
        late_shipment_rate_max=rate("late_shipment_rate_max"),
    )


def _seller_cancel_reasons(raw: Any) -> dict[str, tuple[str, bool]]:
    """R26: `[seller_cancel_reasons.CODE] meaning = "..." counts = true|false`; absent: the defaults."""
    if raw is None:
        return dict(DEFAULT_SELLER_CANCEL_REASONS)
    if not isinstance(raw, dict) or not raw:
        raise UsageError(f"policy: bad value for 'seller_cancel_reasons': {raw!r}", "bad_policy")
    out: dict[str, tuple[str, bool]] = {}
    for code, entry in raw.items():
        where = f"seller_cancel_reasons.{code}"
        if not isinstance(code, str) or not _NAME_RE.fullmatch(code):
            raise UsageError(f"policy: bad reason code {where!r} (expected lowercase words joined by -)", "bad_policy")
        if not isinstance(entry, dict) or set(entry) - {"meaning", "counts"} or "counts" not in entry:
            raise UsageError(
                f'policy: bad value for {where!r}: {entry!r} (expected meaning = "..." and counts = true|false)',
                "bad_policy",
            )
        meaning, counts = entry.get("meaning", ""), entry["counts"]
        if not isinstance(meaning, str) or not isinstance(counts, bool):
            raise UsageError(f"policy: bad value for {where!r}: {entry!r}", "bad_policy")
        out[code] = (meaning, counts)
    return out


# -- deadlines ------------------------------------------------------------------------------


def refund_is_pending(refund: dict | None) -> bool:
    return refund is not None and refund["status"] == "pending"


def pending_deadlines(order: dict) -> list[tuple[str, datetime]]:
    """The deadlines of an order still waiting to fire, as (kind, instant)."""
    out: list[tuple[str, datetime]] = []
    status = order["status"]
    if status == AWAITING_PAYMENT and order.get("pay_by"):
        out.append(("pay_by", parse_stored(order["pay_by"])))  # type: ignore[arg-type]
    elif status == AWAITING_SHIPMENT or status == CANCEL_REQUESTED:
        if status == CANCEL_REQUESTED:
            out.append(("respond_by", parse_stored(order["cancellation"]["respond_by"])))  # type: ignore[arg-type]
        # R25: once ship_by has passed under a grace, auto_cancel_by is set and is the deadline
        grace_end = order.get("auto_cancel_by")  # _shipping_deadline, inlined: a hot path
        if grace_end is None:
            out.append(("ship_by", parse_stored(order["ship_by"])))  # type: ignore[arg-type]
        else:
            out.append(("auto_cancel_by", parse_stored(grace_end)))  # type: ignore[arg-type]
    refund = order.get("refund")
    if refund is not None and refund["status"] == "pending":  # refund_is_pending, inlined: a hot path
        out.append(("due_by", parse_stored(refund["due_by"])))  # type: ignore[arg-type]
    return out


def next_deadline(order: dict) -> dict | None:
    pending = pending_deadlines(order)
    if not pending:
        return None
    if len(pending) == 1:  # most orders: nothing to choose between
        kind, at = pending[0]
    else:
        kind, at = min(pending, key=lambda p: (p[1], DEADLINE_KINDS.index(p[0])))
    return {"kind": kind, "at": at}


def refund_overdue(refund: dict | None, now: datetime) -> bool:
    """R16: unpaid and the clock is past due_by."""
    if refund is None or refund["status"] == "refunded":
        return False
    return now > parse_stored(refund["due_by"])  # type: ignore[operator]


# -- gates ----------------------------------------------------------------------------------------
# Each rule is a `why_not_*` check that returns the refusal (a Refused, not raised) or None; the engine's
# `gate_*` raises it as Refused, and `actions()` asks the very same checks without raising.

Refusal = Refused  # the refusal, not raised: the gate raises it


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        try:
            raise refusal
        finally:
            # else this frame holds the refusal and the refusal's traceback holds this frame (and
            # every frame above it, with their worlds): a cycle only the cycle collector frees
            refusal = None


def _final(order: dict) -> Refusal | None:
    if order["status"] == CANCELLED:
        return Refused(f"order {order['id']} is cancelled", "order_cancelled")
    if order["status"] == COMPLETED:
        return Refused(f"order {order['id']} is completed", "order_completed")
    return None


def why_not_pay(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    if order["status"] == AWAITING_PAYMENT:
        return None
    return _final(order) or Refused(f"order {order['id']} is already paid", "already_paid")


def why_not_confirm(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    if order["status"] == SHIPPED:
        return None
    return _final(order) or Refused(
        f"order {order['id']} has not shipped yet: only a shipped order can be confirmed", "not_shipped"
    )


def why_not_cancel_request(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    """R1 for unpaid orders, R5 and R9's limit for paid ones."""
    status = order["status"]
    if status in (SHIPPED, COMPLETED):
        return Refused(
            f"order {order['id']} has shipped: after shipment only a dispute is possible",
            "cancel_after_shipment",
            remedy="dispute open",
        )
    if status == CANCELLED:
        return _final(order)
    if status == AWAITING_PAYMENT:
        return None
    if status == CANCEL_REQUESTED:
        return Refused(f"order {order['id']} already has a pending cancellation request", "request_pending")
    if _open_dispute(order) is not None:
        return Refused(f"order {order['id']} has an open dispute: wait for support to resolve it", "dispute_open")
    # docs/rules.md "How the cancellation rules compose": a free cancel is not a request, so
    # neither the request window nor the request count applies to it
    if policy.has_free_cancel and is_free_cancel(order, policy, now):
        return None
    if policy.cancel_request_within is not None and request_window_closed(order, policy, now):
        return Refused(
            f"order {order['id']} was paid at {order['paid_at']}: the policy lets buyers ask to cancel only within "
            f"{policy.raw['cancel_request_within']} of payment",
            "cancel_window_closed",
            remedy="messages send",
        )
    if policy.cancel_requests_max == 0:
        return Refused(
            f"order {order['id']}: under this policy only the seller can cancel a paid order; ask the seller",
            "seller_only_cancel",
            remedy="messages send",
        )
    made = (order.get("cancellation") or {}).get("requests", 0)
    if made >= policy.cancel_requests_max:
        return Refused(
            f"order {order['id']} has had {made} cancellation requests, the most the policy allows", "request_limit"
        )
    return None


def is_free_cancel(order: dict, policy: Policy, now: datetime) -> bool:
    """R21/R22: a paid order awaiting shipment that the buyer may cancel at once, without the
    seller: within free_cancel_within of payment (the window closes at its end), or while unpacked
    under free_cancel_until_packed."""
    if order["status"] != AWAITING_SHIPMENT:
        return False
    if policy.free_cancel_until_packed and order.get("packed_at") is None:
        return True
    if policy.free_cancel_within != ZERO:
        paid = parse_stored(order["paid_at"])
        return now < policy.add(paid, policy.free_cancel_within)  # type: ignore[arg-type]
    return False


def request_window_closed(order: dict, policy: Policy, now: datetime) -> bool:
    """R23: after cancel_request_within from payment a buyer may no longer ask (unset: never closes)."""
    if policy.cancel_request_within is None or order.get("paid_at") is None:
        return False
    paid = parse_stored(order["paid_at"])
    return now >= policy.add(paid, policy.cancel_request_within)  # type: ignore[arg-type]


def why_not_pack(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    """R22: `seller pack` exists only where the policy reads packing; once, before shipment, with
    no request pending (answer it first, as R12)."""
    if not policy.uses_packing:
        return Refused(
            f"the policy {policy.name} does not use packing (free_cancel_until_packed, pack_before_ship)",
            "packing_not_used",
        )
    status = order["status"]
    if status == AWAITING_SHIPMENT:
        if order.get("packed_at") is not None:
            return Refused(f"order {order['id']} is already packed", "already_packed")
        return None
    return _not_awaiting_shipment(order)


def why_not_seller_cancel(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    """R26: where the policy allows it, the seller cancels an order not yet shipped, with no
    dispute open; a pending request is answered by it."""
    if not policy.seller_can_cancel:
        return Refused(f"the policy {policy.name} does not let sellers cancel orders", "seller_cancel_not_allowed")
    status = order["status"]
    if status == SHIPPED:
        return Refused(f"order {order['id']} has shipped: a seller can cancel only before shipment", "already_shipped")
    if status in (CANCELLED, COMPLETED):
        return _final(order)
    if _open_dispute(order) is not None:
        return Refused(f"order {order['id']} has an open dispute: wait for support to resolve it", "dispute_open")
    return None


def why_not_pending_request(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    """The buyer's withdraw (R11) and the seller's answer (R8, R9) both need a pending request."""
    if order["status"] == CANCEL_REQUESTED:
        return None
    return _final(order) or Refused(f"order {order['id']} has no pending cancellation request", "no_pending_request")


def _not_awaiting_shipment(order: dict) -> Refusal | None:
    """Why a seller's step before shipment (pack, ship) can't be taken on an order that is not
    awaiting shipment: a pending request is answered first (R12)."""
    status = order["status"]
    if status == CANCEL_REQUESTED:
        return Refused(
            f"order {order['id']} has a pending cancellation request: answer it first",
            "request_pending",
            remedy="seller respond",
        )
    if status == AWAITING_PAYMENT:
        return Refused(f"order {order['id']} is not paid yet", "not_paid")
    if status == SHIPPED:
        return Refused(f"order {order['id']} has already shipped", "already_shipped")
    return _final(order)


def why_not_ship(order: dict, policy: Policy, now: datetime) -> Refusal | None:
    """R12: a pending request must be answered first."""
    status = order["status"]
    if status == AWAITING_SHIPMENT:
        if policy.pack_before_ship and order.get("packed_at") is None:
            return Refused(
                f"order {order['id']} is not packed: the policy wants it packed before it ships",
                "not_packed",
                remedy="seller pack",
            )
        return None
    return _not_awaiting_shipment(order)


def _open_dispute(order: dict) -> dict | None:
    disputes = order.get("disputes") or []
    if disputes and disputes[-1]["status"] == "open":
        return disputes[-1]
    return None


def dispute_instead(order: dict) -> str | None:
    """R13a: a pending request made for a seller-fault reason could be a dispute instead (once the
    request is withdrawn): the reason to open it with; None for any other order."""
    c = order.get("cancellation")
    if order["status"] != CANCEL_REQUESTED or c is None or c["fault"] != "seller":
        return None
    return str(c["reason"])


def why_not_dispute_open(order: dict, reason: str, policy: Policy, now: datetime) -> Refusal | None:
    """R13 (a) seller-fault reason before shipment, (b) post-shipment reason after it,
    (c) refund-not-received on an overdue refund; at most one open dispute."""
    if _open_dispute(order) is not None:
        return Refused(f"order {order['id']} already has an open dispute", "dispute_open")
    status = order["status"]
    if reason == REFUND_DISPUTE_REASON:
        if not refund_overdue(order.get("refund"), now):
            return Refused(
                f"order {order['id']} has no overdue refund: refund-not-received needs a refund past its due_by",
                "refund_not_overdue",
            )
        return None
    if reason in SELLER_FAULT_REASONS:
        if status == AWAITING_SHIPMENT:
            return None
        if status == CANCEL_REQUESTED:
            return Refused(
                f"order {order['id']} has a pending cancellation request: withdraw it first",
                "request_pending",
                remedy="cancel withdraw",
            )
        if status == AWAITING_PAYMENT:
            return Refused(f"order {order['id']} is not paid: cancel it instead", "not_paid")
        if status in (SHIPPED, COMPLETED):
            return Refused(
                f"order {order['id']} has shipped: use a post-shipment reason "
                f"({', '.join(POST_SHIPMENT_DISPUTE_REASONS)})",
                "wrong_dispute_reason",
            )
        return Refused(f"order {order['id']} is cancelled", "order_cancelled")
    if reason in POST_SHIPMENT_DISPUTE_REASONS:
        if status in (SHIPPED, COMPLETED):
            return None
        return Refused(
            f"order {order['id']} has not shipped: {reason} is a dispute reason for shipped orders", "not_shipped"
        )
    raise UsageError(f"unknown dispute reason {reason!r}", "unknown_reason")


def why_not_refund_hold(refund: dict) -> Refusal | None:
    if refund["status"] == "held":
        return Refused(f"the refund of order {refund['order_id']} is already held", "refund_held")
    if refund["status"] == "refunded":
        return Refused(f"the refund of order {refund['order_id']} is already paid", "refund_paid")
    return None


def why_not_refund_release(refund: dict) -> Refusal | None:
    if refund["status"] != "held":
        return Refused(f"the refund of order {refund['order_id']} is not held", "refund_not_held")
    return None


def why_not_refund_settle(refund: dict) -> Refusal | None:
    if refund["status"] == "refunded":
        return Refused(f"the refund of order {refund['order_id']} is already paid", "refund_paid")
    return None


def gate_pay(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pay(order, policy, now))


def gate_confirm(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_confirm(order, policy, now))


def gate_cancel_request(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_cancel_request(order, policy, now))


def gate_pending_request(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pending_request(order, policy, now))


gate_withdraw = gate_respond = gate_pending_request


def gate_ship(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_ship(order, policy, now))


def gate_pack(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pack(order, policy, now))


def gate_seller_cancel(order: dict, policy: Policy, now: datetime) -> None:
    _refuse(why_not_seller_cancel(order, policy, now))


def gate_dispute_open(order: dict, reason: str, policy: Policy, now: datetime) -> None:
    _refuse(why_not_dispute_open(order, reason, policy, now))


def gate_dispute_resolve(order: dict, policy: Policy, now: datetime) -> dict:
    dispute = _open_dispute(order)
    if dispute is None:
        raise Refused(f"order {order['id']} has no open dispute", "no_open_dispute")
    return dispute


def gate_refund_hold(refund: dict) -> None:
    _refuse(why_not_refund_hold(refund))


def gate_refund_release(refund: dict) -> None:
    _refuse(why_not_refund_release(refund))


def gate_refund_settle(refund: dict) -> None:
    _refuse(why_not_refund_settle(refund))


_BUYER_CHECKS = (
    ("orders pay", why_not_pay),
    ("orders confirm", why_not_confirm),
    ("cancel request", why_not_cancel_request),
    ("cancel withdraw", why_not_pending_request),
)
_SELLER_CHECKS = (
    ("seller ship", why_not_ship),
    ("seller respond", why_not_pending_request),
    ("seller pack", why_not_pack),
    ("seller cancel", why_not_seller_cancel),
)

Situation = tuple[Any, ...]


def _situation(order: dict, policy: Policy, now: datetime) -> Situation:
    """Everything the checks above read of an order, the policy and now (besides the id, which
    only their messages name). Keep it so when a check starts reading something else. The issue-19
    keys that read the order (R21-R23) are asked only where the policy sets them: the default policy
    does no more per order than before."""
    made = (order.get("cancellation") or {}).get("requests", 0)
    disputed = _open_dispute(order) is not None
    base = (
        order["status"],
        disputed,
        made >= policy.cancel_requests_max,
        not disputed and refund_overdue(order.get("refund"), now),  # read only when no dispute is open
        policy.actions_key,
    )
    if not policy.reads_order_extras:
        return base
    # one number for what R21-R23 make of a request: 0 nothing, 1 a free cancel, 2 window closed
    request = 0
    if policy.has_free_cancel and is_free_cancel(order, policy, now):
        request = 1
    elif policy.cancel_request_within is not None and request_window_closed(order, policy, now):
        request = 2
    return (*base, request, order.get("packed_at") is not None)


_ACTIONS: dict[Situation, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def actions(order: dict, policy: Policy, now: datetime) -> dict[str, list[str]]:
    """What each party may run on this order now: the same checks the engine's gates enforce,
    asked without raising. They are asked once per situation (a few dozen exist) and the answer
    reused: a list of 100k orders would otherwise build 400k refusals only to drop them."""
    key = _situation(order, policy, now)
    known = _ACTIONS.get(key)
    if known is None:
        buyer = [name for name, why_not in _BUYER_CHECKS if why_not(order, policy, now) is None]
        if any(why_not_dispute_open(order, r, policy, now) is None for r in DISPUTE_REASONS):
            buyer.append("dispute open")
        seller = [name for name, why_not in _SELLER_CHECKS if why_not(order, policy, now) is None]
        known = _ACTIONS[key] = (tuple(buyer), tuple(seller))
    return {"buyer": list(known[0]), "seller": list(known[1])}


def check_party(order: dict, role: str, actor: str | None) -> str:
    """R20: returns the acting name; refuses acting for someone else."""
    entitled = order[role]
    if actor is None or actor.strip() == entitled:  # names are kept without spaces around them
        return entitled
    raise Refused(f"{actor} is not the {role} of order {order['id']}: only {entitled} may do this", "not_party")


def check_role(role: str, actor: str | None) -> str:
    """For the platform's and support's own actions."""
    if actor is None or actor.strip() == role:
        return role
    raise Refused(f"only {role} may do this, not {actor}", "not_party")


def message_role(order: dict, actor: str) -> str:
    """An order's thread is between its buyer and its seller: the role `actor` writes in, or
    refused (the guide's "contact the seller"; R20 for who may speak)."""
    for role in ("buyer", "seller"):
        if order[role] == actor:
            return role
    raise Refused(
        f"{actor} is neither the buyer nor the seller of order {order['id']}: only {order['buyer']} and "
        f"{order['seller']} may write in its thread",
        "not_party",
    )
