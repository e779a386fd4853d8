"""Wire types of orders on behalf (代客下单): the guide's form and the customer's link."""

from __future__ import annotations

from typing import Annotated

import msgspec

from orders.schemas import CouponIds
from orders.statuses import OrderStatus
from server.bounds import Id, Int32, NonEmpty64

HOLD_MINUTES_MIN = 5
HOLD_MINUTES_MAX = 24 * 60


class OnBehalfCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A guide (or the store's host, naming the guide) builds an order for a customer."""

    idempotency_key: NonEmpty64
    customer_id: Id
    deal_id: Id
    quantity: Int32 = 1
    coupon_ids: CouponIds = []
    guide_id: Id | None = None
    """The guide the customer asked; a guide placing it is that guide, a host must name one."""
    hold_minutes: Annotated[int, msgspec.Meta(ge=HOLD_MINUTES_MIN, le=HOLD_MINUTES_MAX)] = 30
    """How long the units are held for the customer to confirm and pay."""


class OnBehalfPlaced(msgspec.Struct):
    order_id: str
    amount_due_fen: int
    pay_by: str
    """ISO 8601 UTC: the hold ends then and the units go back."""
    confirm_url: str
    """The link the guide sends the customer."""


class OnBehalfView(msgspec.Struct):
    """What the customer's link shows before they confirm and pay."""

    order_id: str
    product_name: str
    product_name_en: str
    image_url: str
    quantity: int
    unit_price_fen: int
    discount_fen: int
    amount_fen: int
    status: OrderStatus
    pay_by: str
    guide_name: str
    confirmed: bool
    pay_url: str = ""
    """Given once confirmed, while the order waits for payment."""
