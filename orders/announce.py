"""What orders/ tells the rooms, through live/'s public publish functions, after commit.

A failed publish never fails a sale: the rooms' stock is repaired by the next publish or
the next snapshot, the order is not.
"""

from __future__ import annotations

from collections.abc import Awaitable

import redis.asyncio
import structlog

from live import publish
from orders.schemas import DealView

log = structlog.get_logger()


async def _quietly(call: Awaitable[None], what: str) -> None:
    try:
        await call
    except Exception:
        log.exception("orders.publish_failed", what=what)


async def stock(
    client: redis.asyncio.Redis, broadcast_id: int | None, deal_id: int, left: int
) -> None:
    if broadcast_id is not None:
        await _quietly(publish.publish_stock(client, broadcast_id, deal_id, left), "stock")


async def deal_state(client: redis.asyncio.Redis, broadcast_id: int | None, deal: DealView) -> None:
    if broadcast_id is not None:
        await _quietly(publish.publish_deal_state(client, broadcast_id, deal), "deal")


async def ticker(
    client: redis.asyncio.Redis,
    broadcast_id: int,
    store_name: str,
    masked_name: str,
    product_name: str,
) -> None:
    await _quietly(
        publish.publish_ticker(client, broadcast_id, store_name, masked_name, product_name),
        "ticker",
    )
