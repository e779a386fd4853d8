"""Tables of the deals store hosts create: each store's stock of a product, and HQ's limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import Base, utcnow


class StoreStock(Base):
    """Units of a product a store has on its shelves: what its host may put on a deal."""

    __tablename__ = "store_stock"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    units: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoreDealLimits(Base):
    """HQ's limits on the deals store hosts create, one row for the brand (id 1); absent, the
    defaults of orders/deals_limits.py apply."""

    __tablename__ = "store_deal_limits"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    floor_pct: Mapped[int]
    """Lowest deal price as a percentage of the product's list price."""
    floor_fen: Mapped[int]
    """Lowest deal price in fen, whatever the list price (0: none)."""
    stock_pct: Mapped[int]
    """Most of a store's stock of a product its open deals may hold together, in percent."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoreDeal(Base):
    """A deal a store host created: it sells in the store's broadcast and holds its stock out
    of the store's, until it ends."""

    __tablename__ = "store_deals"

    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    created_by: Mapped[int]
    """The host (a staff id) who created it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
