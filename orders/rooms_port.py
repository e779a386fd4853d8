"""The rooms as orders/ sees them: the news it gives them and the questions it asks them.

orders/ never imports live/. A domain function here returns the news its change caused (the
structs below) once its transaction has committed; its caller hands them to `Rooms.publish`,
which live/ implements (live/publish.py) and the assembly (server/app.py's lifespan,
server/worker.py's startup, a test's fixture) hands in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from orders.schemas import DealView


class DealStateChanged(msgspec.Struct, frozen=True):
    """A deal's new state, kept in the broadcast's history (a resuming viewer gets it)."""

    broadcast_id: int
    deal: DealView


class StockLeft(msgspec.Struct, frozen=True):
    """Units left of a deal: absolute, so a missed one costs nothing."""

    broadcast_id: int
    deal_id: int
    left: int


class JustBought(msgspec.Struct, frozen=True):
    """The "just bought" line: transient, with a masked name only."""

    broadcast_id: int
    store_name: str
    masked_name: str
    product_name: str


RoomNews = DealStateChanged | StockLeft | JustBought


def deal_state(broadcast_id: int | None, deal: DealView) -> list[RoomNews]:
    """The news of a deal's state; none for a deal not yet shown in any broadcast."""
    return [] if broadcast_id is None else [DealStateChanged(broadcast_id, deal)]


def stock_left(broadcast_id: int | None, deal_id: int, left: int | None) -> list[RoomNews]:
    """The news of a deal's stock; none when Redis holds no counter or no broadcast sells it."""
    if broadcast_id is None or left is None:
        return []
    return [StockLeft(broadcast_id, deal_id, int(left))]


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
    async def publish(self, events: Iterable[RoomNews]) -> None:
        """Send news after its commit. Never raises: a failure is logged and counted, and
        the next snapshot or resume carries the truth."""
        ...

    async def room(self, session: AsyncSession, room_id: int) -> SellingRoom | None: ...

    async def broadcasts_selling_in(self, session: AsyncSession, broadcast_id: int) -> list[int]:
        """The broadcast and, for a hub, every store broadcast relaying it."""
        ...

    async def store_of_broadcast(self, session: AsyncSession, broadcast_id: int) -> int | None:
        """None for a hub broadcast or no such broadcast."""
        ...

    async def broadcast_exists(self, session: AsyncSession, broadcast_id: int) -> bool: ...

    async def broadcast_statuses(
        self, session: AsyncSession, broadcast_ids: Iterable[int]
    ) -> dict[int, str]:
        """Each broadcast's status (scheduled, live, ended...); unknown ids are left out."""
        ...
