"""Wire types of orders/: the order frames of the room socket and the HTTP bodies.

The room socket's client-to-server union (live/protocol.py) includes OrderPlace; the
server-to-client union includes OrderAccepted and OrderRejected, which orders/ sends only to
the ordering viewer.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from orders.statuses import DealStatus, OrderStatus
from server.bounds import Count, EpochMs, Id, Int32, NonEmpty64, Text16, Text64, Text500

CouponIds = Annotated[list[Id], msgspec.Meta(max_length=20)]
"""Coupons offered with one order; no order carries more."""


class DealView(msgspec.Struct, frozen=True):
    """A deal as rooms show it: terms from the database, status and stock left from Redis."""

    deal_id: int
    kind: str
    status: DealStatus
    price_fen: int
    stock_left: int
    per_customer_limit: int
    starts_at_ms: int | None
    ends_at_ms: int | None
    product_id: int
    broadcast_id: int | None
    """The broadcast that sells it: its host (or HQ, for the hub) launches and stops it."""
    presale: bool = False
    """预售: sells before its broadcast is live, where other deals wait for the show."""


class DealTerms(msgspec.Struct, frozen=True):
    """What another package may know of a deal to link it: the product and where it sells."""

    deal_id: int
    product_id: int
    broadcast_id: int | None


class ProductCard(msgspec.Struct, frozen=True):
    """A product as a window shows it."""

    product_id: int
    name: str
    name_en: str
    image_url: str
    list_price_fen: int


class OrderPlace(msgspec.Struct, tag="order.place", tag_field="type", forbid_unknown_fields=True):
    idempotency_key: NonEmpty64
    deal_id: Id
    quantity: Int32
    """Checked by the intake (1-99), which answers `invalid_quantity` in its own words."""
    coupon_ids: CouponIds = []


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
    """sold_out | limit_reached | deal_not_live | invalid_coupon | pack_claimed | invalid_quantity |
    unknown_deal | idempotency_key_reused | rate_limited"""
    detail: str = ""


class OrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    """HTTP body of POST /api/orders: the mini-program's plain path, same checks as the socket."""

    idempotency_key: NonEmpty64
    deal_id: Id
    quantity: Int32
    coupon_ids: CouponIds = []
    room_id: Id | None = None
    """The live room the order is placed from; decides the room store and the deals on sale."""


class OrderRead(msgspec.Struct, omit_defaults=True):
    id: str
    deal_id: int
    product_id: int
    quantity: int
    unit_price_fen: int
    amount_fen: int
    status: OrderStatus
    accepted_at: str
    pay_by: str
    refunded_quantity: int = 0
    paid_at: str | None = None
    pay_url: str = ""


class RefundCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Refund all the units still paid (quantity absent) or some of them."""

    quantity: Int32 | None = None
    reason: Text64 = "customer_request"


class RefundRead(msgspec.Struct):
    refund_id: str
    order_id: str
    quantity: int
    amount_fen: int
    order_status: OrderStatus


class DealCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Text16
    """flash_sale, regular, group_buy (its params: group_size, group_minutes,
    auto_complete_at), coupon_pack (its coupons in `params`, orders/coupons.py) or on_behalf
    (sold only through guides' orders on behalf)."""
    product_id: Id
    price_fen: Count
    stock: Count
    broadcast_id: Id | None = None
    per_customer_limit: Count = 0
    starts_at_ms: EpochMs | None = None
    ends_at_ms: EpochMs | None = None
    stock_policy: Text16 = "hold"
    params: Annotated[dict[Text64, Text500 | Int32 | bool | None], msgspec.Meta(max_length=32)] = {}
    """Kind-specific settings (group size, coupons in a pack): flat, bounded values only."""
    presale: bool = False
    """预售: the deal sells before the show (while no broadcast showing it is live)."""


class StockAdd(msgspec.Struct, forbid_unknown_fields=True):
    units: Count


class DealRead(msgspec.Struct):
    id: int
    kind: str
    status: DealStatus
    product_id: int
    broadcast_id: int | None
    price_fen: int
    stock: int
    stock_left: int
    per_customer_limit: int
    stock_policy: str
    starts_at_ms: int | None
    ends_at_ms: int | None
    presale: bool = False
