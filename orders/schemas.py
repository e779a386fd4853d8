"""Wire types of orders/: the order frames of the room socket and the HTTP bodies.

The room socket's client-to-server union (live/protocol.py) includes OrderPlace; the
server-to-client union includes OrderAccepted, OrderRejected and OrderUpdated, which
orders/ sends only to the ordering viewer.
"""

from __future__ import annotations

import msgspec


class OrderPlace(msgspec.Struct, tag="order.place", tag_field="type", forbid_unknown_fields=True):
    idempotency_key: str
    deal_id: int
    quantity: int
    coupon_ids: list[int] = []


class OrderAccepted(msgspec.Struct, tag="order.accepted", tag_field="type"):
    idempotency_key: str
    order_id: str
    amount_due_fen: int
    pay_by: str
    """ISO 8601 UTC."""
    pay_url: str = ""


class OrderRejected(msgspec.Struct, tag="order.rejected", tag_field="type"):
    idempotency_key: str
    reason: str
    """sold_out | limit_reached | deal_not_live | invalid_coupon | invalid_quantity |
    unknown_deal | idempotency_key_reused | rate_limited"""
    detail: str = ""


class OrderUpdated(msgspec.Struct, tag="order.updated", tag_field="type"):
    order_id: str
    status: str
