"""The records the API publishes, typed: exactly the JSON objects the commands print (docs/schemas.md).

The enumerations are `str` enums, so a member compares equal to its code
(`Status.CANCELLED == "cancelled"`) and is written to JSON as that code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict


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


# Instants are ISO 8601 strings in UTC with an offset; money is a decimal string.


class Cancellation(TypedDict):
    reason: str
    fault: str
    note: str | None
    requested_at: str
    respond_by: str | None
    status: str
    responded_at: str | None
    requests: int


class Refund(TypedDict):
    order_id: str
    amount: str
    currency: str
    method: str
    status: str
    initiated_at: str
    due_by: str
    refunded_at: str | None
    overdue: bool


class Dispute(TypedDict):
    reason: str
    status: str
    opened_at: str
    resolved_at: str | None
    outcome: str | None


class DisputeRow(Dispute):
    """A row of `dispute list`: the dispute with its order's parties."""

    order_id: str
    buyer: str
    seller: str


class SellerCancel(TypedDict):
    """Why the seller cancelled (R26), and whether the reason counts against the seller."""

    reason: str
    counts: bool
    message: str | None


class Deadline(TypedDict):
    kind: str
    at: str


class Actions(TypedDict):
    buyer: list[str]
    seller: list[str]


class Order(TypedDict):
    id: str
    buyer: str
    seller: str
    item: str
    quantity: int
    amount: str
    currency: str
    payment_method: str
    status: str
    placed_at: str
    pay_by: str | None
    paid_at: str | None
    ship_by: str | None
    shipped_at: str | None
    tracking: str | None
    completed_at: str | None
    cancelled_at: str | None
    end_reason: str | None
    cancellation: Cancellation | None
    refund: Refund | None
    dispute: Dispute | None
    next_deadline: Deadline | None
    actions: Actions
    packed_at: str | None
    shipped_late: bool
    auto_cancel_by: str | None
    seller_cancel: SellerCancel | None


class Event(TypedDict):
    seq: int
    at: str
    order_id: str | None
    kind: str
    actor: str
    details: dict[str, Any]


class Notification(TypedDict):
    seq: int
    at: str
    to: str
    role: str
    channel: str
    order_id: str
    kind: str
    message: str


class Clock(TypedDict):
    now: str


# What `clock set|tick|next` print: where the clock went and the events fired on the way
# ("from" is a keyword in Python, hence the functional form).
Move = TypedDict("Move", {"from": str, "to": str, "fired": list[Event]})


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


# A message in an order's buyer-seller thread ("from" is a keyword in Python).
Message = TypedDict("Message", {"order_id": str, "n": int, "at": str, "from": str, "role": str, "to": str, "text": str})


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
