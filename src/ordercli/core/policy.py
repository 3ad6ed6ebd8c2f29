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
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from ordercli.core.errors import Refused, UsageError
from ordercli.core.model import Actions, DeadlineKind, Dispute, EndReason, PaymentMethod, Status
from ordercli.core.reader import Key, ListOf, MapOf, Source, Table, Value, check
from ordercli.core.timecalc import (
    UTC,
    Duration,
    add_duration,
    add_working_days,
    parse_policy_duration,
    parse_stored,
)

if TYPE_CHECKING:
    from ordercli.core.model import StoredOrder, StoredRefund

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
        tz, is_holiday = self._working_calendar
        return add_working_days(instant, d.days, tz, is_holiday)

    @cached_property
    def _working_calendar(self) -> tuple[tzinfo, Callable[[date], bool] | None]:
        # the zone and the holiday test, found once per policy. The sum itself is not cached by its
        # instant: add_working_days walks the calendar once per day (its own cache, by date), and
        # instants are seldom asked twice (a simulation asks millions, each new)
        return self.tz, _calendar(self.holidays)

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


# The data file (JSON through orjson) holds 64-bit integers; TOML's own integers are unbounded.
CANCEL_REQUESTS_MAX_LIMIT = 2**63 - 1


def _is_duration(value: Any) -> bool:
    try:
        parse_policy_duration(value, "policy")
    except UsageError:
        return False
    return True


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        _zone(value)
    except Exception:  # zoneinfo raises several kinds (ValueError, ZoneInfoNotFoundError, OSError)
        return False
    return True


def _is_calendar(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        _calendar(value)
    except Exception:  # the holidays package raises NotImplementedError for an unknown country
        return False
    return True


def _is_named(value: Any) -> bool:
    return isinstance(value, str) and is_name(value)


DURATION = Value('a duration like "72h" or "7 working days"', _is_duration)
FLAG = Value("true or false", lambda v: isinstance(v, bool))
RATE = Value(
    "a fraction from 0 to 1, e.g. 0.025",
    lambda v: not isinstance(v, bool) and isinstance(v, (int, float)) and 0 <= v <= 1,
)
_NAME_TEXT = "a name (lowercase words joined by -)"

# The policy's keys, declared once: what a policy file may set, what each holds, which a resolved
# policy must have and the defaults of the others (today's rules: docs/rules.md R21-R28). Presets,
# policy files, stored policies and `simulate --sweep` are all read against it, and the docs'
# tables of keys come from it.
POLICY = Table(
    (
        Key("extends", Value("a preset name", lambda v: isinstance(v, str)), doc="the preset this policy starts from"),
        Key(
            "timezone",
            Value("an IANA time zone, e.g. UTC or Asia/Shanghai", _is_zone),
            required=True,
            doc="where working days are counted",
        ),
        Key(
            "holidays",
            Value('a country code with a holiday calendar, e.g. "CN", or "" for none', _is_calendar),
            required=True,
            doc="the calendar whose holidays are not working days",
        ),
        Key("pay_within", DURATION, required=True, doc="R2"),
        Key("ship_within", DURATION, required=True, doc="R4"),
        Key("seller_response_within", DURATION, required=True, doc="R7"),
        Key("on_seller_silence", Value("cancel or lapse", lambda v: v in SILENCE_BEHAVIOURS), required=True, doc="R10"),
        Key(
            "cancel_requests_max",
            Value(
                f"an integer from 0 to {CANCEL_REQUESTS_MAX_LIMIT}",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= CANCEL_REQUESTS_MAX_LIMIT,
            ),
            required=True,
            doc="R9",
        ),
        Key(
            "ewallets",
            ListOf(Value(_NAME_TEXT, _is_named), expected="a list of methods of refund_within"),
            required=True,
            doc="which methods are e-wallets",
        ),
        Key(
            "refund_within",
            MapOf(
                DURATION,
                key_expected=_NAME_TEXT,
                key_test=is_name,
                non_empty=True,
                expected="a table of payment methods and durations",
            ),
            required=True,
            doc="R15, R27",
        ),
        # issue 19: optional, each default keeps the rules above as they were (docs/rules.md R21-R28)
        Key("free_cancel_within", DURATION, default="0s", doc="R21"),
        Key("free_cancel_until_packed", FLAG, default=False, doc="R22"),
        Key("pack_before_ship", FLAG, default=False, doc="R22"),
        Key("cancel_request_within", DURATION, default=None, doc="R23"),
        Key("auto_cancel_after_ship_by", DURATION, default="0s", doc="R25"),
        Key("seller_can_cancel", FLAG, default=False, doc="R26"),
        Key(
            "seller_cancel_reasons",
            MapOf(
                Table(
                    (
                        Key("meaning", Value("text", lambda v: isinstance(v, str)), default=""),
                        Key("counts", FLAG, required=True),
                    ),
                    expected='a table with meaning = "..." and counts = true|false',
                ),
                key_expected=_NAME_TEXT,
                key_test=is_name,
                non_empty=True,
                expected="a table of reason codes",
            ),
            default=None,
            doc="R26",
        ),
        Key("seller_cancel_rate_max", RATE, default=None, doc="R28"),
        Key("late_shipment_rate_max", RATE, default=None, doc="R28"),
    )
)
POLICY_KEYS = POLICY.names()
# The keys a policy may leave out even where it states its whole table (older data files, the
# aliexpress preset): their defaults are today's rules.
OPTIONAL_KEYS = tuple(k.name for k in POLICY.keys if not k.required and k.name != "extends")
# Values given by a policy resolved from no file (a stored one, a sweep's point)
POLICY_SOURCE = Source("policy", "bad_policy")


def policy_from_mapping(values: dict[str, Any], name: str, source: Source = POLICY_SOURCE) -> Policy:
    """Build a Policy from fully resolved values (every required key present), read against POLICY;
    refuses bad values with exit 2 naming the key, as `source` (a file, or "policy")."""
    check(values, POLICY, source)
    refund_within = {
        method: parse_policy_duration(v, f"policy {method}") for method, v in values["refund_within"].items()
    }
    ewallets = values["ewallets"]
    for i, method in enumerate(ewallets):
        if method not in refund_within:
            raise source.bad(f"ewallets[{i}]", "a method of refund_within", method)

    def duration(key: str) -> Duration:
        return parse_policy_duration(POLICY.get(values, key), f"policy {key}")

    window = POLICY.get(values, "cancel_request_within")
    raw_reasons = POLICY.get(values, "seller_cancel_reasons")
    reasons = (
        dict(DEFAULT_SELLER_CANCEL_REASONS)
        if raw_reasons is None
        else {code: (entry.get("meaning", ""), entry["counts"]) for code, entry in raw_reasons.items()}
    )

    def rate(key: str) -> float | None:
        value = POLICY.get(values, key)
        return None if value is None else float(value)

    return Policy(
        name=name,
        timezone=values["timezone"],
        holidays=values["holidays"],
        pay_within=duration("pay_within"),
        ship_within=duration("ship_within"),
        seller_response_within=duration("seller_response_within"),
        on_seller_silence=values["on_seller_silence"],
        cancel_requests_max=values["cancel_requests_max"],
        ewallets=tuple(ewallets),
        refund_within=refund_within,
        raw=dict(values),
        free_cancel_within=duration("free_cancel_within"),
        free_cancel_until_packed=POLICY.get(values, "free_cancel_until_packed"),
        pack_before_ship=POLICY.get(values, "pack_before_ship"),
        cancel_request_within=None if window is None else duration("cancel_request_within"),
        auto_cancel_after_ship_by=duration("auto_cancel_after_ship_by"),
        seller_can_cancel=POLICY.get(values, "seller_can_cancel"),
        seller_cancel_reasons=reasons,
        seller_cancel_rate_max=rate("seller_cancel_rate_max"),
        late_shipment_rate_max=rate("late_shipment_rate_max"),
    )


# -- deadlines ------------------------------------------------------------------------------


def pending_deadlines(order: StoredOrder) -> list[tuple[str, datetime]]:
    """The deadlines of an order still waiting to fire, as (kind, instant)."""
    out: list[tuple[str, datetime]] = []
    status = order["status"]
    if status == AWAITING_PAYMENT and order.get("pay_by"):
        out.append(("pay_by", parse_stored(order["pay_by"])))
    elif status == AWAITING_SHIPMENT or status == CANCEL_REQUESTED:
        if status == CANCEL_REQUESTED:
            out.append(("respond_by", parse_stored(order["cancellation"]["respond_by"])))
        # R25: once ship_by has passed under a grace, auto_cancel_by is set and is the deadline
        grace_end = order.get("auto_cancel_by")  # _shipping_deadline, inlined: a hot path
        if grace_end is None:
            out.append(("ship_by", parse_stored(order["ship_by"])))
        else:
            out.append(("auto_cancel_by", parse_stored(grace_end)))
    refund = order.get("refund")
    if refund is not None and refund["status"] == "pending":  # a refund still to pay out
        out.append(("due_by", parse_stored(refund["due_by"])))
    return out


def next_deadline(order: StoredOrder) -> dict[str, Any] | None:
    pending = pending_deadlines(order)
    if not pending:
        return None
    if len(pending) == 1:  # most orders: nothing to choose between
        kind, at = pending[0]
    else:
        kind, at = min(pending, key=lambda p: (p[1], DEADLINE_KINDS.index(p[0])))
    return {"kind": kind, "at": at}


def refund_overdue(refund: StoredRefund | None, now: datetime) -> bool:
    """R16: unpaid and the clock is past due_by."""
    if refund is None or refund["status"] == "refunded":
        return False
    return now > parse_stored(refund["due_by"])


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


def _final(order: StoredOrder) -> Refusal | None:
    if order["status"] == CANCELLED:
        return Refused(f"order {order['id']} is cancelled", "order_cancelled")
    if order["status"] == COMPLETED:
        return Refused(f"order {order['id']} is completed", "order_completed")
    return None


def why_not_pay(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
    if order["status"] == AWAITING_PAYMENT:
        return None
    return _final(order) or Refused(f"order {order['id']} is already paid", "already_paid")


def why_not_confirm(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
    if order["status"] == SHIPPED:
        return None
    return _final(order) or Refused(
        f"order {order['id']} has not shipped yet: only a shipped order can be confirmed", "not_shipped"
    )


def why_not_cancel_request(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
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


def is_free_cancel(order: StoredOrder, policy: Policy, now: datetime) -> bool:
    """R21/R22: a paid order awaiting shipment that the buyer may cancel at once, without the
    seller: within free_cancel_within of payment (the window closes at its end), or while unpacked
    under free_cancel_until_packed."""
    if order["status"] != AWAITING_SHIPMENT:
        return False
    if policy.free_cancel_until_packed and order.get("packed_at") is None:
        return True
    if policy.free_cancel_within != ZERO:
        paid = parse_stored(order["paid_at"])
        return now < policy.add(paid, policy.free_cancel_within)
    return False


def request_window_closed(order: StoredOrder, policy: Policy, now: datetime) -> bool:
    """R23: after cancel_request_within from payment a buyer may no longer ask (unset: never closes)."""
    if policy.cancel_request_within is None or order.get("paid_at") is None:
        return False
    paid = parse_stored(order["paid_at"])
    return now >= policy.add(paid, policy.cancel_request_within)


def why_not_pack(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
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


def why_not_seller_cancel(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
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


def why_not_pending_request(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
    """The buyer's withdraw (R11) and the seller's answer (R8, R9) both need a pending request."""
    if order["status"] == CANCEL_REQUESTED:
        return None
    return _final(order) or Refused(f"order {order['id']} has no pending cancellation request", "no_pending_request")


def _not_awaiting_shipment(order: StoredOrder) -> Refusal | None:
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


def why_not_ship(order: StoredOrder, policy: Policy, now: datetime) -> Refusal | None:
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


def _open_dispute(order: StoredOrder) -> Dispute | None:
    disputes: list[Dispute] = order.get("disputes") or []
    if disputes and disputes[-1]["status"] == "open":
        return disputes[-1]
    return None


def dispute_instead(order: StoredOrder) -> str | None:
    """R13a: a pending request made for a seller-fault reason could be a dispute instead (once the
    request is withdrawn): the reason to open it with; None for any other order."""
    c = order.get("cancellation")
    if order["status"] != CANCEL_REQUESTED or c is None or c["fault"] != "seller":
        return None
    return str(c["reason"])


def why_not_dispute_open(order: StoredOrder, reason: str, policy: Policy, now: datetime) -> Refusal | None:
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


def why_not_refund_hold(refund: StoredRefund) -> Refusal | None:
    if refund["status"] == "held":
        return Refused(f"the refund of order {refund['order_id']} is already held", "refund_held")
    if refund["status"] == "refunded":
        return Refused(f"the refund of order {refund['order_id']} is already paid", "refund_paid")
    return None


def why_not_refund_release(refund: StoredRefund) -> Refusal | None:
    if refund["status"] != "held":
        return Refused(f"the refund of order {refund['order_id']} is not held", "refund_not_held")
    return None


def why_not_refund_settle(refund: StoredRefund) -> Refusal | None:
    if refund["status"] == "refunded":
        return Refused(f"the refund of order {refund['order_id']} is already paid", "refund_paid")
    return None


def gate_pay(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pay(order, policy, now))


def gate_confirm(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_confirm(order, policy, now))


def gate_cancel_request(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_cancel_request(order, policy, now))


def gate_pending_request(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pending_request(order, policy, now))


gate_withdraw = gate_respond = gate_pending_request


def gate_ship(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_ship(order, policy, now))


def gate_pack(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_pack(order, policy, now))


def gate_seller_cancel(order: StoredOrder, policy: Policy, now: datetime) -> None:
    _refuse(why_not_seller_cancel(order, policy, now))


def gate_dispute_open(order: StoredOrder, reason: str, policy: Policy, now: datetime) -> None:
    _refuse(why_not_dispute_open(order, reason, policy, now))


def gate_dispute_resolve(order: StoredOrder, policy: Policy, now: datetime) -> Dispute:
    dispute = _open_dispute(order)
    if dispute is None:
        raise Refused(f"order {order['id']} has no open dispute", "no_open_dispute")
    return dispute


def gate_refund_hold(refund: StoredRefund) -> None:
    _refuse(why_not_refund_hold(refund))


def gate_refund_release(refund: StoredRefund) -> None:
    _refuse(why_not_refund_release(refund))


def gate_refund_settle(refund: StoredRefund) -> None:
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


def _situation(order: StoredOrder, policy: Policy, now: datetime) -> Situation:
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


def actions_asked(order: StoredOrder, policy: Policy, now: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The buyer's and the seller's actions, every check asked: what `actions` caches."""
    buyer = [name for name, why_not in _BUYER_CHECKS if why_not(order, policy, now) is None]
    if any(why_not_dispute_open(order, r, policy, now) is None for r in DISPUTE_REASONS):
        buyer.append("dispute open")
    seller = [name for name, why_not in _SELLER_CHECKS if why_not(order, policy, now) is None]
    return tuple(buyer), tuple(seller)


# The answers of `actions_asked` by situation, for every policy and world of the process. Assumes
# `_situation` holds everything the checks read (the policy's own part too, in `actions_key` and the
# extras), so that equal keys mean equal answers; it stays small (a few dozen keys: flags and a
# status, never an instant or an id). tests/core/test_caches.py compares it with `actions_asked` on orders
# in every state under every preset.
_ACTIONS: dict[Situation, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def actions(order: StoredOrder, policy: Policy, now: datetime) -> Actions:
    """What each party may run on this order now: the same checks the engine's gates enforce,
    asked without raising. They are asked once per situation (a few dozen exist) and the answer
    reused: a list of 100k orders would otherwise build 400k refusals only to drop them."""
    key = _situation(order, policy, now)
    known = _ACTIONS.get(key)
    if known is None:
        known = _ACTIONS[key] = actions_asked(order, policy, now)
    # the names are the Action enum's values (a str enum: equal to them, printed as them)
    return {"buyer": list(known[0]), "seller": list(known[1])}  # type: ignore[arg-type]


def check_party(order: StoredOrder, role: str, actor: str | None) -> str:
    """R20: returns the acting name; refuses acting for someone else."""
    entitled: str = order[role]
    if actor is None or actor.strip() == entitled:  # names are kept without spaces around them
        return entitled
    raise Refused(f"{actor} is not the {role} of order {order['id']}: only {entitled} may do this", "not_party")


def check_role(role: str, actor: str | None) -> str:
    """For the platform's and support's own actions."""
    if actor is None or actor.strip() == role:
        return role
    raise Refused(f"only {role} may do this, not {actor}", "not_party")


def message_role(order: StoredOrder, actor: str) -> str:
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
