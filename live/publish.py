"""What other packages tell the rooms, through live/'s streams. Called after their commit.

`LiveRooms` is what orders/ gets at assembly (its `orders.announce.Rooms`): these publishes and
the room reads orders/ needs, so orders/ never imports live/.

A deal's state goes into the broadcast's history (a viewer who resumes gets it); stock levels
and the "just bought" ticker are absolute or transient, so they are published without an
offset and a missed one costs nothing.
"""

from __future__ import annotations

import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from live import rooms
from live.models import Broadcast
from live.protocol import DealChanged, Stock, Ticker
from live.rooms import RoomContext
from live.streams import StreamBus
from orders.schemas import DealView


async def publish_deal_state(
    client: redis.asyncio.Redis, broadcast_id: int, deal: DealView
) -> None:
    await StreamBus(client).publish(broadcast_id, DealChanged(deal=deal))


async def publish_stock(
    client: redis.asyncio.Redis, broadcast_id: int, deal_id: int, stock_left: int
) -> None:
    await StreamBus(client).publish_ephemeral(
        broadcast_id, Stock(deal_id=deal_id, stock_left=max(0, stock_left))
    )


async def publish_ticker(
    client: redis.asyncio.Redis,
    broadcast_id: int,
    store_name: str,
    masked_name: str,
    product_name: str,
) -> None:
    await StreamBus(client).publish_ephemeral(
        broadcast_id, Ticker(name=masked_name, store_name=store_name, product_name=product_name)
    )


class LiveRooms:
    """live/'s side of `orders.announce.Rooms`: the assembly hands one to orders/."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client

    async def deal_state(self, broadcast_id: int, deal: DealView) -> None:
        await publish_deal_state(self.client, broadcast_id, deal)

    async def stock(self, broadcast_id: int, deal_id: int, left: int) -> None:
        await publish_stock(self.client, broadcast_id, deal_id, left)

    async def ticker(
        self, broadcast_id: int, store_name: str, masked_name: str, product_name: str
    ) -> None:
        await publish_ticker(self.client, broadcast_id, store_name, masked_name, product_name)

    async def room(self, session: AsyncSession, room_id: int) -> RoomContext | None:
        return await rooms.room_context(session, room_id)

    async def broadcasts_selling_in(self, session: AsyncSession, broadcast_id: int) -> list[int]:
        return await rooms.broadcasts_selling_in(session, broadcast_id)

    async def store_of_broadcast(self, session: AsyncSession, broadcast_id: int) -> int | None:
        return await rooms.store_of_broadcast(session, broadcast_id)

    async def broadcast_exists(self, session: AsyncSession, broadcast_id: int) -> bool:
        return await session.get(Broadcast, broadcast_id) is not None
