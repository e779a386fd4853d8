"""The coupons table: one row per coupon a paid pack order issued to its customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Identity, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import Base, utcnow


class Coupon(Base):
    """Amount off an order of at least `min_spend_fen`, usable once between its dates.

    `used_order_id` is the order that spends it (written when that order reaches SQL);
    cleared again when the order expires unpaid or is refunded while the coupon is valid."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("pack_order_id", "position"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    pack_deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    pack_order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    position: Mapped[int]
    """Its place in the pack: with the order, what makes issuing a pack twice write once."""
    amount_off_fen: Mapped[int]
    min_spend_fen: Mapped[int]
    stackable: Mapped[bool]
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Products it applies to; empty means every product."""
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    used_order_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("orders.id"), index=True, default=None
    )
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
