"""Wire types of coupons: "my coupons" with what each saves, and the order sheet's quote."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from orders.schemas import CouponIds
from server.bounds import Id, Int32


class CouponState(StrEnum):
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"


class CouponRead(msgspec.Struct):
    id: int
    amount_off_fen: int
    min_spend_fen: int
    stackable: bool
    product_ids: list[int]
    """Products it applies to; empty for every product."""
    valid_from: str
    valid_until: str
    state: CouponState
    saves_fen: int = 0
    """What it takes off the deal asked about (alone), 0 if it does not apply."""
    short_by_fen: int = 0
    """How much more the order must cost for its minimum to be met."""


class QuoteAsk(msgspec.Struct, forbid_unknown_fields=True):
    deal_id: Id
    quantity: Int32 = 1
    coupon_ids: CouponIds = []


class Quote(msgspec.Struct):
    """The order sheet's price breakdown; the intake checks again when the order is placed."""

    gross_fen: int
    discount_fen: int
    due_fen: int
    refusal: str = ""
    """Why the coupons chosen do not apply together (then the discount is 0)."""
