"""The words of an order's, a deal's and a payment's life, shared by the tables, the wire
types and the queries. StrEnums: each member is its string, so the stored values and the JSON
stay what they always were."""

from __future__ import annotations

from enum import StrEnum


class DealStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    STOPPED = "stopped"
    ENDED = "ended"


SELLING = (DealStatus.LIVE, DealStatus.STOPPED)
"""Deals whose stock Redis holds: a stopped deal may relaunch and its orders can still be paid."""


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CANCELLED = "cancelled"


SOLD = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
"""Orders that were paid for: their units left the deal's stock, less those their refunds
put back (`units_kept`)."""
REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
CLOSED_UNPAID = (OrderStatus.EXPIRED, OrderStatus.CANCELLED)


class PaymentOutcome(StrEnum):
    """What one payment notification did; the first five are recorded as `Payment.outcome`."""

    APPLIED = "applied"
    APPLIED_LATE = "applied_late"
    REFUNDED_LATE = "refunded_late"
    REFUNDED_SOLD_OUT = "refunded_sold_out"
    REFUNDED_DUPLICATE = "refunded_duplicate"
    REFUNDED_MISMATCH = "refunded_mismatch"
    DUPLICATE = "duplicate"
    UNKNOWN_ORDER = "unknown_order"
    NOT_READY = "not_ready"
    NOT_SUCCESS = "not_success"
