"""Tables of the catalogue, deals, orders, payments and refunds. Money is integer fen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Identity, Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from orders.statuses import DealStatus, OrderStatus, PaymentOutcome
from server.model_base import NEVER_REUSED_IDS, Base, stored_by_value, utcnow


class Product(Base):
    __tablename__ = "products"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    list_price_fen: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deal(Base):
    """One mechanism for every way of selling live: a price, a stock, a window in time, a limit.

    `kind` says which rules apply on top (flash_sale, group_buy, coupon_pack, on_behalf,
    regular); kind-specific settings (group size, coupons in a pack) live in `params`.
    """

    __tablename__ = "deals"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    price_fen: Mapped[int]
    stock: Mapped[int]
    per_customer_limit: Mapped[int] = mapped_column(default=0)
    """Most units one customer may buy; 0 means no limit."""
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[DealStatus] = mapped_column(
        stored_by_value(DealStatus, 16), default=DealStatus.DRAFT
    )
    stock_policy: Mapped[str] = mapped_column(String(16), default="hold")  # hold | first_paid
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    presale: Mapped[bool] = mapped_column(default=False)
    """预售: meant to sell before the show, so it sells while no broadcast showing it is live
    yet; every other deal waits for the show (live/snapshot.py `not_on_sale`)."""


class Order(Base):
    __tablename__ = "orders"
    # Not unique: Redis answers a reused key while its deal can take or answer an order, and a
    # key reused after that is a new order (orders/intake.py); this index finds the first one.
    __table_args__ = (
        Index("ix_orders_customer_deal_key", "customer_id", "deal_id", "idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Made at intake, before the database sees the order, so a redelivery inserts nothing."""
    idempotency_key: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    room_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    """The store whose room the order was placed in."""
    placed_by_guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    """Set when a guide placed the order on the customer's behalf."""
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]
    discount_fen: Mapped[int] = mapped_column(default=0)
    amount_fen: Mapped[int]
    status: Mapped[OrderStatus] = mapped_column(stored_by_value(OrderStatus, 20), index=True)
    accepted_at: Mapped[datetime]
    pay_by: Mapped[datetime] = mapped_column(index=True)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class OrderEvent(Base):
    """The history of an order after its acceptance (the order row itself records that):
    every state change writes one, in the same transaction."""

    __tablename__ = "order_events"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int]
    outcome: Mapped[PaymentOutcome] = mapped_column(stored_by_value(PaymentOutcome, 20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    """Derived from the order id, so a refund asked twice is written once."""
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    quantity: Mapped[int]
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefundRequest(Base):
    """The refund outbox: money to send back, written in the transaction that decides it and
    sent by the worker afterwards (orders/refund_sender.py), retried until the provider
    confirms. A provider call never happens inside a transaction that may still roll back."""

    __tablename__ = "refund_outbox"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    """The refund id the provider sees: one per payment (or per refund of units), so a retry
    is the same refund to the provider and two payments are two refunds."""
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_error: Mapped[str] = mapped_column(String(200), default="")


def units_kept() -> ColumnElement[int]:
    """Units a sold order still holds: its quantity less the units its refunds put back.
    "Sold" is this, summed over the orders in SOLD; the stock, the customers' limits and the
    host's sales feed all count it."""
    refunded = (
        select(func.coalesce(func.sum(Refund.quantity), 0))
        .where(Refund.order_id == Order.id)
        .scalar_subquery()
    )
    return Order.quantity - refunded
