"""Wire types of the console's deals: the catalogue a host picks from, HQ's limits on store
deals, and a deal's sales as the host console follows them."""

from __future__ import annotations

from typing import Annotated

import msgspec

Percent = Annotated[int, msgspec.Meta(ge=1, le=100)]
FloorFen = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class CatalogueItem(msgspec.Struct, frozen=True):
    """A product the caller may sell, as the picker shows it."""

    product_id: int
    sku: str
    name: str
    name_en: str
    image_url: str
    list_price_fen: int
    stock: int
    """A host: their store's units. HQ: the units of every store together."""
    floor_fen: int
    """The lowest deal price the caller may set (0 for HQ)."""
    max_deal_stock: int
    """The most units a new deal of the caller may hold (a host: the store's stock within
    HQ's share, less what its open deals hold; HQ: `stock`)."""


class DealLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """HQ's limits on the deals store hosts create."""

    floor_pct: Percent = 70
    """Lowest deal price, as a percentage of the list price."""
    floor_fen: FloorFen = 0
    """Lowest deal price in fen whatever the list price (0: none)."""
    stock_pct: Percent = 100
    """Most of a store's stock of one product its open deals may hold together."""


class DealSales(msgspec.Struct, frozen=True):
    """How a deal is selling, for the host console (a pack: packs and their coupons)."""

    deal_id: int
    kind: str
    paid_orders: int
    paid_units: int
    paid_fen: int
    pending_orders: int
    coupons_issued: int
    coupons_used: int
