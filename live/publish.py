"""What other packages tell the rooms, through live/'s streams. Called after their commit.

A deal's state goes into the broadcast's history (a viewer who resumes gets it); stock levels
and the "just bought" ticker are absolute or transient, so they are published without an
offset and a missed one costs nothing.
"""

from __future__ import annotations

import redis.asyncio

from live.protocol import DealChanged, Stock, Ticker
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
