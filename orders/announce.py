"""What orders/ needs of the rooms, as an interface live/ implements: orders/ never imports live/.

The assembly (server/app.py's lifespan, server/worker.py's startup, a test's fixture) hands
live/'s implementation in, so the graph stays one way: live/ calls orders/ for terms and
orders, orders/ talks to the rooms only through this.

A failed announcement never fails a sale: the rooms' stock is repaired by the next publish or
the next snapshot, the order is not.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from orders.schemas import DealView

log = structlog.get_logger()


class SellingRoom(Protocol):
    """Where a sale lands: the room's broadcast, the hub it relays and the store it sells for."""

    @property
    def broadcast_id(self) -> int: ...

    @property
    def hub_broadcast_id(self) -> int | None: ...

    @property
    def store_id(self) -> int | None:
        """None for the hub room."""
        ...


@runtime_checkable  # Litestar checks an injected dependency against its annotation
class Rooms(Protocol):
    """The rooms as orders/ sees them: told of deals, stock and sales; asked where sales land."""

    async def deal_state(self, broadcast_id: int, deal: DealView) -> None:
        """A deal's new state, kept in the broadcast's history (a resuming viewer gets it)."""
        ...

    async def stock(self, broadcast_id: int, deal_id: int, left: int) -> None:
        """Units left: absolute, so a missed one costs nothing."""
        ...

    async def ticker(
        self, broadcast_id: int, store_name: str, masked_name: str, product_name: str
    ) -> None:
        """The "just bought" line: transient."""
        ...

    async def room(self, session: AsyncSession, room_id: int) -> SellingRoom | None: ...

    async def broadcasts_selling_in(self, session: AsyncSession, broadcast_id: int) -> list[int]:
        """The broadcast and, for a hub, every store broadcast relaying it."""
        ...

    async def store_of_broadcast(self, session: AsyncSession, broadcast_id: int) -> int | None:
        """None for a hub broadcast or no such broadcast."""
        ...

    async def broadcast_exists(self, session: AsyncSession, broadcast_id: int) -> bool: ...


async def _quietly(call: Awaitable[None], what: str) -> None:
    try:
        await call
    except Exception:
        log.exception("orders.publish_failed", what=what)


async def stock(rooms: Rooms, broadcast_id: int | None, deal_id: int, left: int) -> None:
    if broadcast_id is not None:
        await _quietly(rooms.stock(broadcast_id, deal_id, left), "stock")


async def deal_state(rooms: Rooms, broadcast_id: int | None, deal: DealView) -> None:
    if broadcast_id is not None:
        await _quietly(rooms.deal_state(broadcast_id, deal), "deal")


async def ticker(
    rooms: Rooms, broadcast_id: int, store_name: str, masked_name: str, product_name: str
) -> None:
    await _quietly(rooms.ticker(broadcast_id, store_name, masked_name, product_name), "ticker")
