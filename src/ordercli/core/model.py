"""The records, declared once: the JSON objects the commands print (docs/schemas.md) and, through
them, what the data file keeps.

Each record is a TypedDict whose fields carry their type (the str enums below for statuses and
kinds) and their constraints as `typing.Annotated` metadata (the small frozen classes below:
`Instant`, `Money`, `Currency`, `Party`, `Text`, `Count`, `Id`, `Slug`, `OneOf`, `Differs`...).
`fields(Order)` reads a record once (`typing.get_type_hints(..., include_extras=True)`) into a
field table, and four things are derived from that one table, never written by hand:

- the input rules of commands and of `orders import` (`ordercli.core.validate.record_input`, `field`);
- the checks of stored records in a file ordercli did not seal (`ordercli.store.integrity`, which compiles a
  fast checker from the table once, on first use);
- the JSON Schemas shipped in src/ordercli/schemas/ (`ordercli.core.contract.record_schema`; written by
  `python tools/schemas.py`, drift-tested by tests/core/test_records_declared_once.py);
- the table and CSV columns (`Column()` marks a table's default columns; CSV has every field).

A `Derived()` field is computed by `ordercli.core.views` against the virtual now and never stored; a
`*Stored` record lists what the file keeps beyond the published fields (an order's whole dispute
history, its message thread; a notice's channels).

Adding a field to the order:
1. Declare it once, in `Order` below (its type, `| None` if it may be absent, its constraints;
   `Input()` if a command takes it, `Column()` if `orders list` shows it by default).
2. Add a migration step for older files (src/ordercli/store/migrations.py: a `_vN_to_vN+1` that
   gives older orders the value meaning "none", and raise `SCHEMA_VERSION` in world.py).
3. Regenerate the schemas: `python tools/schemas.py` (tests/core/test_records_declared_once.py fails
   until then). Then set the field where an order is built and shown: `engine.add_valid_order` (a new
   order's value) and `views.order` (its `ORDER_FIELDS` or a line of its own); `mypy src` names the
   typed places (a TypedDict literal missing the key, a wrong type), and tests/contract/test_schemas.py
   fails while a command's output lacks the field the schema now requires.
The stored-record check, the input rules (for an `Input()` field), the schema and the CSV columns
follow from the declaration.

The enumerations are `str` enums, so a member compares equal to its code
(`Status.CANCELLED == "cancelled"`) and is written to JSON as that code.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import (
    Annotated,
    Any,
    NamedTuple,
    NotRequired,
    Required,
    TypedDict,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)


class Status(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_SHIPMENT = "awaiting_shipment"
    CANCEL_REQUESTED = "cancel_requested"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EndReason(StrEnum):
    UNPAID_CANCELLED = "unpaid_cancelled"
    PAYMENT_TIMEOUT = "payment_timeout"
    CANCEL_ACCEPTED = "cancel_accepted"
    SELLER_SILENT = "seller_silent"
    SHIP_TIMEOUT = "ship_timeout"
    DISPUTE_REFUND = "dispute_refund"
    BUYER_CANCELLED = "buyer_cancelled"
    SELLER_CANCELLED = "seller_cancelled"


class PaymentMethod(StrEnum):
    """The methods of the `aliexpress` preset; a policy's `refund_within` may name others (R27)."""

    CARD = "card"
    PAYPAL = "paypal"
    ALIPAY = "alipay"
    BANK_TRANSFER = "bank-transfer"


class CancellationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    TIMED_OUT = "timed_out"


class RefundStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    REFUNDED = "refunded"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DeadlineKind(StrEnum):
    """Named after the fields that hold them; ties at one instant fire in this (alphabetical) order."""

    AUTO_CANCEL_BY = "auto_cancel_by"
    DUE_BY = "due_by"
    PAY_BY = "pay_by"
    RESPOND_BY = "respond_by"
    SHIP_BY = "ship_by"


class EventKind(StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_PAID = "order_paid"
    ORDER_PACKED = "order_packed"
    ORDER_SHIPPED = "order_shipped"
    SHIP_BY_PASSED = "ship_by_passed"
    SELLER_CANCELLED = "seller_cancelled"
    ORDER_COMPLETED = "order_completed"
    ORDER_CANCELLED = "order_cancelled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_WITHDRAWN = "cancel_withdrawn"
    CANCEL_ACCEPTED = "cancel_accepted"
    CANCEL_REJECTED = "cancel_rejected"
    CANCEL_TIMED_OUT = "cancel_timed_out"
    REFUND_STARTED = "refund_started"
    REFUND_HELD = "refund_held"
    REFUND_RELEASED = "refund_released"
    REFUND_COMPLETED = "refund_completed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_RESOLVED = "dispute_resolved"
    MESSAGE_SENT = "message_sent"


class Action(StrEnum):
    """What a party may do to an order now (an order's `actions`)."""

    ORDERS_PAY = "orders pay"
    ORDERS_CONFIRM = "orders confirm"
    CANCEL_REQUEST = "cancel request"
    CANCEL_WITHDRAW = "cancel withdraw"
    DISPUTE_OPEN = "dispute open"
    SELLER_SHIP = "seller ship"
    SELLER_RESPOND = "seller respond"
    SELLER_PACK = "seller pack"
    SELLER_CANCEL = "seller cancel"


class NotificationKind(StrEnum):
    REQUEST_RECEIVED = "request_received"
    REQUEST_ANSWERED = "request_answered"
    REQUEST_LAPSED = "request_lapsed"
    AUTO_CANCELLED = "auto_cancelled"
    BUYER_CANCELLED = "buyer_cancelled"
    SELLER_CANCELLED = "seller_cancelled"
    SHIP_OVERDUE = "ship_overdue"
    REFUND_STARTED = "refund_started"
    REFUND_COMPLETED = "refund_completed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_OUTCOME = "dispute_outcome"
    MESSAGE_RECEIVED = "message_received"


# -- the constraints: small frozen classes, read from the records' Annotated metadata ----------------
# (plain classes with __slots__, not dataclasses or NamedTuples: every command imports this module, and
# those would triple its import time; equal only to their own kind, so Text(200) is not Party(200))


class _Frozen:
    __slots__: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        for slot, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._values()))})"


class Instant(_Frozen):
    """An instant: ISO 8601 in UTC with the offset written (+00:00), whole seconds."""

    __slots__ = ()
    what = "not a whole-second UTC instant"


class Money(_Frozen):
    """An amount: a positive decimal, a whole number of the minor units of the currency held in the
    sibling field `currency` (ISO 4217: JPY 0 places, USD 2, KWD 3)."""

    __slots__ = ("currency",)
    currency: str
    what = "not a positive amount in the currency's minor units"

    def __init__(self, currency: str = "currency") -> None:
        super().__init__(currency)


class Currency(_Frozen):
    """An ISO 4217 code of a currency an order can be paid in."""

    __slots__ = ()
    what = "not an ISO 4217 currency"


class Text(_Frozen):
    """Text a person typed: not blank, at most `max_len` characters, no control characters."""

    __slots__ = ("max_len",)
    max_len: int
    what = "blank, too long or holding control characters"

    def __init__(self, max_len: int) -> None:
        super().__init__(max_len)


class Party(_Frozen):
    """A buyer's or seller's name: Text(200), without spaces around it, not a name of the system's
    own actors (platform, support) in any case."""

    __slots__ = ("max_len",)
    max_len: int
    what = "not a party's name (trimmed, not reserved, at most 200 characters, no control characters)"

    def __init__(self, max_len: int = 200) -> None:
        super().__init__(max_len)


class Count(_Frozen):
    """An integer of at least `min`."""

    __slots__ = ("min",)
    min: int
    what = "too small"

    def __init__(self, min: int = 1) -> None:
        super().__init__(min)


class Id(_Frozen):
    """An order's id: ORD- and at least four digits."""

    __slots__ = ()
    what = "not an order id"


class Slug(_Frozen):
    """A lowercase name (a payment method, a seller-cancel reason): a-z0-9 words joined by '-'."""

    __slots__ = ()
    what = "not a lowercase name"


class OneOf(_Frozen):
    """One of a fixed set of codes, named by `values`, or by `source` (`module:NAME`) when the set
    lives with the rules (ordercli.core.policy) and is read on first use."""

    __slots__ = ("values", "source")
    values: tuple[str, ...]
    source: str
    what = "not one of the known codes"

    def __init__(self, values: tuple[str, ...] = (), source: str = "") -> None:
        super().__init__(values, source)

    def allowed(self) -> tuple[str, ...]:
        if not self.source:
            return self.values
        return _resolve(self.source)


class Differs(_Frozen):
    """Not the same as the sibling field `other` (an order's seller is not its buyer)."""

    __slots__ = ("other",)
    other: str

    def __init__(self, other: str) -> None:
        super().__init__(other)

    @property
    def what(self) -> str:
        return f"the same as {self.other}"


class Unique(_Frozen):
    """A list with at least one item and no item twice."""

    __slots__ = ()
    what = "empty or with an item twice"


class Doc(_Frozen):
    """The field's description in the JSON Schema."""

    __slots__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        super().__init__(text)


class Derived(_Frozen):
    """Computed by ordercli.core.views against the virtual now; never stored."""

    __slots__ = ()


class Input(_Frozen):
    """A field a command takes as input; `option` is its name there when it differs."""

    __slots__ = ("option",)
    option: str

    def __init__(self, option: str = "") -> None:
        super().__init__(option)


class Column(_Frozen):
    """One of the columns a table shows by default (CSV shows every field)."""

    __slots__ = ()


Constraint = Instant | Money | Currency | Text | Party | Count | Id | Slug | OneOf | Differs | Unique


@cache
def _resolve(source: str) -> tuple[str, ...]:
    import importlib

    module, name = source.split(":")
    return tuple(getattr(importlib.import_module(module), name))


# -- the field types the records share ----------------------------------------------------------------

At = Annotated[str, Instant()]
OrderId = Annotated[str, Id()]
Amount = Annotated[str, Money()]
CurrencyCode = Annotated[str, Currency()]
PartyName = Annotated[str, Party()]
Name = Annotated[str, Text(200)]
Note = Annotated[str, Text(1000)]
Role = Annotated[str, OneOf(("buyer", "seller"))]
Method = Annotated[
    str, Slug(), Doc("a payment method of the policy in force (its refund_within keys; docs/rules.md R27)")
]


class Cancellation(TypedDict):
    reason: Annotated[str, OneOf(source="ordercli.core.policy:CANCEL_REASONS")]
    fault: Role
    note: Note | None
    requested_at: At
    respond_by: At | None
    status: CancellationStatus
    responded_at: At | None
    requests: Annotated[int, Count(1)]


class Refund(TypedDict):
    """A refund: what `refund status|hold|release|settle` print; `refund list` prints an array of them."""

    order_id: OrderId
    amount: Amount
    currency: CurrencyCode
    method: Method
    status: RefundStatus
    initiated_at: At
    due_by: At
    refunded_at: At | None
    overdue: Annotated[bool, Derived(), Doc("not refunded and the clock is past due_by")]


class Dispute(TypedDict):
    reason: Annotated[str, OneOf(source="ordercli.core.policy:DISPUTE_REASONS")]
    status: DisputeStatus
    opened_at: At
    resolved_at: At | None
    outcome: Annotated[str, OneOf(source="ordercli.core.policy:DISPUTE_OUTCOMES")] | None


class DisputeParties(TypedDict):
    order_id: OrderId
    buyer: PartyName
    seller: PartyName


class DisputeRow(DisputeParties, Dispute):
    """A dispute with its order's parties (`dispute list`)."""


class SellerCancel(TypedDict):
    """Why the seller cancelled (R26), and whether the reason counts against the seller."""

    reason: Annotated[str, Slug()]
    counts: Annotated[bool, Doc("the reason counts against the seller (seller stats)")]
    message: Note | None


class Deadline(TypedDict):
    kind: Annotated[DeadlineKind, Column()]
    at: Annotated[At, Column()]


class Actions(TypedDict):
    buyer: list[Action]
    seller: list[Action]


class Order(TypedDict):
    """An order: what `orders place|pay|show|confirm`, `cancel`, `seller`, `dispute open|resolve` print;
    `orders list` prints an array of them."""

    id: Annotated[OrderId, Column()]
    buyer: Annotated[PartyName, Input(), Column()]
    seller: Annotated[PartyName, Differs("buyer"), Input(), Column()]
    item: Annotated[Name, Input(), Column()]
    quantity: Annotated[int, Count(1), Input()]
    amount: Annotated[Amount, Input(), Column()]
    currency: Annotated[CurrencyCode, Input(), Column()]
    payment_method: Annotated[Method, Input("payment")]
    status: Annotated[Status, Column()]
    placed_at: At
    pay_by: At | None
    paid_at: At | None
    ship_by: At | None
    shipped_at: At | None
    tracking: Note | None
    completed_at: At | None
    cancelled_at: At | None
    end_reason: EndReason | None
    cancellation: Cancellation | None
    refund: Refund | None
    dispute: Annotated[Dispute | None, Derived()]
    next_deadline: Annotated[Deadline | None, Derived(), Column()]
    actions: Annotated[Actions, Derived()]
    packed_at: Annotated[At | None, Doc("when the seller packed it (R22; only under a policy that uses packing)")]
    shipped_late: Annotated[bool, Doc("shipped after ship_by, within the grace of R25")]
    auto_cancel_by: Annotated[At | None, Doc("R25: set when ship_by passes under a grace; the platform cancels then")]
    seller_cancel: Annotated[SellerCancel | None, Doc("R26: why the seller cancelled")]


# A message in an order's buyer-seller thread ("from" is a keyword in Python).
Message = TypedDict(
    "Message",
    {
        "order_id": Annotated[OrderId, Derived()],  # the thread is kept in its order
        "n": Annotated[int, Count(1), Doc("1, 2, 3 ... in the order's thread")],
        "at": At,
        "from": Name,
        "role": Role,
        "to": Name,
        "text": Annotated[str, Text(2000)],
    },
)
Message.__doc__ = "One message of an order's buyer-seller thread (`messages send|list`)."


class OrderStored(TypedDict):
    """What the data file keeps of an order besides its published fields that are not Derived."""

    disputes: list[Dispute]  # every dispute (the view shows the last)
    messages: NotRequired[list[Message]]  # older files have no thread


class EventDetails(TypedDict, total=False):
    item: Name
    quantity: Annotated[int, Count(1)]
    amount: Amount
    currency: CurrencyCode
    payment_method: Method
    ship_by: At
    reason: str
    fault: Role
    note: Note | None
    respond_by: At
    request: Annotated[int, Count(1)]
    on_seller_silence: Annotated[str, OneOf(("cancel", "lapse"))]
    tracking: Note | None
    end_reason: EndReason
    method: Method
    due_by: At
    outcome: Annotated[str, OneOf(source="ordercli.core.policy:DISPUTE_OUTCOMES")]
    to: Name
    n: Annotated[int, Count(1)]
    message: Note | None
    counts: bool
    auto_cancel_by: At


class Event(TypedDict):
    """One entry of the append-only history (`events list`, `clock ... fired`)."""

    seq: Annotated[int, Count(1), Column()]
    at: Annotated[At, Column()]
    order_id: Annotated[OrderId | None, Column()]
    kind: Annotated[EventKind, Column()]
    actor: Annotated[Name, Doc("a party's name, platform or support"), Column()]
    details: Annotated[EventDetails, Doc("what the event carries; which keys depend on kind"), Column()]


Channel = Annotated[str, OneOf(source="ordercli.core.world:CHANNELS")]


class Notification(TypedDict):
    """What a party was told, on one channel (`notifications list`)."""

    seq: Annotated[int, Count(1)]
    at: At
    to: Name
    role: Role
    channel: Annotated[Channel, Derived()]  # the file keeps a notice once, with its channels
    order_id: OrderId
    kind: NotificationKind
    message: str


class NotificationStored(TypedDict):
    channels: Annotated[list[Channel], Unique()]


class Clock(TypedDict):
    """The virtual now (`clock show`)."""

    now: At


# What `clock set|tick|next` print: where the clock went and the events fired on the way
# ("from" is a keyword in Python, hence the functional form).
Move = TypedDict("Move", {"from": At, "to": At, "fired": list[Event]})
Move.__doc__ = "A clock move and the events it fired (`clock set|tick|next`)."


class Reason(TypedDict):
    code: str
    meaning: str
    fault: str


class Imported(TypedDict):
    imported: int


class Replay(TypedDict):
    """What a call that was replayed (a key already used: docs/python-api.md) replayed: the key, the
    command and the virtual instant at which the first call with that key ran."""

    key: str
    command: str
    at: str


class PolicyDifference(TypedDict):
    order_id: str
    field: str
    a: Any
    b: Any


# The stored forms that ordercli.core.model does not declare (it declares what the commands print):
# an order as kept (every dispute, its message thread; none of the derived fields), its refund
# (without `overdue`), a notice (once, with its channels), a message of a thread (without order_id).
StoredOrder = dict[str, Any]
StoredRefund = dict[str, Any]
StoredNotice = dict[str, Any]
StoredMessage = dict[str, Any]
# TinyDB's layout: a table maps each doc_id (a decimal string) to its document; a world is its tables.
Table = dict[str, Any]
Tables = dict[str, Table]


# -- the field table -----------------------------------------------------------------------------------


class Field(NamedTuple):
    """One field of a record, as the derivations read it.

    `kind`: "str", "int", "bool", "dict" (free-form), "enum" (`choices`), "record" (`record`),
    "list" (`item`, a Field for each element)."""

    name: str
    kind: str
    optional: bool = False  # may be null
    required: bool = True  # the key is always there
    constraints: tuple[Constraint, ...] = ()
    choices: tuple[str, ...] = ()
    record: type | None = None
    item: Field | None = None
    doc: str = ""
    derived: bool = False
    input: Input | None = None
    column: bool = False


# The published records and what the file keeps besides (their Derived fields are not kept).
STORED_EXTRA: dict[type, type] = {}


def _field(name: str, hint: Any, required: bool) -> Field:
    optional, metas = False, []
    while True:
        if get_origin(hint) in (NotRequired, Required):  # under `from __future__ import annotations`
            required = get_origin(hint) is Required  # TypedDict's __required_keys__ cannot see these
            hint = get_args(hint)[0]
        elif get_origin(hint) is Annotated:
            metas += list(hint.__metadata__)
            hint = hint.__origin__
        elif get_origin(hint) is Union or type(hint).__name__ == "UnionType":
            args = [a for a in get_args(hint) if a is not type(None)]
            optional, hint = True, args[0]
        else:
            break
    constraints = tuple(m for m in metas if not isinstance(m, (Doc, Derived, Input, Column)))
    common: dict[str, Any] = {
        "optional": optional,
        "required": required,
        "constraints": constraints,
        "doc": next((m.text for m in metas if isinstance(m, Doc)), ""),
        "derived": any(isinstance(m, Derived) for m in metas),
        "input": next((m for m in metas if isinstance(m, Input)), None),
        "column": any(isinstance(m, Column) for m in metas),
    }
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return Field(name, "enum", choices=tuple(hint), **common)
    if get_origin(hint) is list:
        return Field(name, "list", item=_field(name, get_args(hint)[0], True), **common)
    if get_origin(hint) is dict:
        return Field(name, "dict", **common)
    if isinstance(hint, type) and hasattr(hint, "__required_keys__"):
        return Field(name, "record", record=hint, **common)
    kinds = {str: "str", int: "int", bool: "bool"}
    if hint not in kinds:  # pragma: no cover - a declaration error, caught by the tests
        raise TypeError(f"field {name}: unsupported type {hint!r}")
    return Field(name, kinds[hint], **common)


@cache
def fields(record: type) -> tuple[Field, ...]:
    """The published fields of a record, in their declared order."""
    hints = get_type_hints(record, include_extras=True)
    required: frozenset[str] = record.__required_keys__  # type: ignore[attr-defined]
    return tuple(_field(name, hint, name in required) for name, hint in hints.items())


@cache
def stored_fields(record: type) -> tuple[Field, ...]:
    """The fields the data file keeps of a record: the published ones that are not Derived, then
    what the record's *Stored declaration adds."""
    extra = {Order: OrderStored, Notification: NotificationStored}.get(record)
    return tuple(f for f in fields(record) if not f.derived) + (fields(extra) if extra else ())


def input_fields(record: type) -> tuple[Field, ...]:
    return tuple(f for f in fields(record) if f.input is not None)


def field(record: type, name: str) -> Field:
    return _by_name(record)[name]  # KeyError for a field the record does not declare


@cache
def _by_name(record: type) -> dict[str, Field]:
    # a command checks one field per call (a shipment's tracking): a lookup, not a scan of the record
    return {f.name: f for f in fields(record)}


# The records whose JSON Schema (src/ordercli/schemas/NAME.json) is generated from the declaration.
SCHEMAS: dict[str, type] = {
    "order": Order,
    "refund": Refund,
    "dispute": DisputeRow,
    "event": Event,
    "message": Message,
    "notification": Notification,
    "clock": Clock,
    "clock-move": Move,
}
