"""Room notices of new orders: the stock left and the "王** just bought" ticker, coalesced
across every app node.

A flash sale takes hundreds of orders a second on several nodes; the rooms need the stock
left a few times a second and a readable ticker, not one frame per order and per node (each
frame costs a send to every viewer of every relaying room). Each node marks what changed;
every FLUSH_SECONDS it takes a short Redis lock per deal (per room for the ticker), and only
the holder publishes: the stock it reads from Redis then, so the value is the latest whoever
took the order. A node that missed the lock keeps its mark and tries at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import select

from attribution.privacy import mask_name
from attribution.queries import customer_profile, store_names
from orders.keys import DealKeys
from orders.models import Deal, Product
from orders.rooms_port import JustBought, Rooms, stock_left
from server.services import Services

log = structlog.get_logger()

FLUSH_SECONDS = 0.25
STOCK_EVERY_MS = 450
"""A deal's stock goes out every 450-500 ms (the lock's life, then the next node's flush),
the slow end of the 200-500 ms the architecture allows high-rate room state: each frame is a
send to every viewer of every relaying room, and a count that moves twice a second still
reads as live."""
TICKER_EVERY_MS = 1500
"""One "just bought" line per room every 1.5 s: long enough to read, often enough to feel busy."""

Room = tuple[int, int | None]
"""(broadcast id of the room, the store it sells for)."""


class OrderNotices:
    def __init__(self, services: Services, rooms: Rooms) -> None:
        self.services = services
        self.rooms = rooms
        self._dirty_deals: set[int] = set()
        self._tickers: dict[Room, tuple[int, int]] = {}
        """The latest buyer and deal per room, waiting for the room's ticker slot."""
        self._deal_info: dict[int, tuple[int | None, str]] = {}
        self._task: asyncio.Task[None] | None = None

    def order_accepted(
        self,
        *,
        deal_id: int,
        broadcast_id: int | None,
        room_store_id: int | None,
        customer_id: int,
    ) -> None:
        self._dirty_deals.add(deal_id)
        if broadcast_id is not None:
            self._tickers[(broadcast_id, room_store_id)] = (customer_id, deal_id)

    def stock_changed(self, deal_id: int) -> None:
        """A deal's stock moved without an order (expiry gave units back): its next stock
        frame goes out with the orders', coalesced the same way."""
        self._dirty_deals.add(deal_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="orders.notices")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                log.exception("orders.notices_failed")

    async def _slot(self, key: str, every_ms: int) -> bool:
        """Whether this node publishes `key` now: one node per interval, across all nodes."""
        return bool(await self.services.redis.set(key, 1, nx=True, px=every_ms))

    async def flush(self) -> None:
        client = self.services.redis
        for deal_id in list(self._dirty_deals):
            keys = DealKeys(deal_id)
            if not await self._slot(f"{keys.tag}:stock-notice", STOCK_EVERY_MS):
                continue
            self._dirty_deals.discard(deal_id)
            left = await client.hget(keys.state, "stock")  # type: ignore[misc]
            broadcast_id, _ = await self._deal(deal_id)
            await self.rooms.publish(
                stock_left(broadcast_id, deal_id, None if left is None else int(left))
            )
        due = [
            room
            for room in list(self._tickers)
            if await self._slot(f"{{b{room[0]}}}:ticker-notice:{room[1]}", TICKER_EVERY_MS)
        ]
        if due:
            await self._publish_tickers({room: self._tickers.pop(room) for room in due})

    async def _publish_tickers(self, tickers: dict[Room, tuple[int, int]]) -> None:
        news = []
        async with self.services.sessionmaker() as session:
            stores = await store_names(session, [s for _, s in tickers if s is not None])
            for (broadcast_id, room_store_id), (customer_id, deal_id) in tickers.items():
                profile = await customer_profile(session, customer_id)
                _, product_name = await self._deal(deal_id)
                news.append(
                    JustBought(
                        broadcast_id,
                        stores.get(room_store_id or 0, ""),
                        mask_name(profile.nickname if profile else ""),
                        product_name,
                    )
                )
        await self.rooms.publish(news)

    async def _deal(self, deal_id: int) -> tuple[int | None, str]:
        found = self._deal_info.get(deal_id)
        if found is None:
            async with self.services.sessionmaker() as session:
                row = (
                    await session.execute(
                        select(Deal.broadcast_id, Product.name)
                        .join(Product, Product.id == Deal.product_id)
                        .where(Deal.id == deal_id)
                    )
                ).first()
            found = (row[0], row[1]) if row else (None, "")
            self._deal_info[deal_id] = found
        return found


async def start_notices(services: Services, rooms: Rooms) -> OrderNotices:
    """Started by the app's lifespan; the returned object's stop() flushes what is pending."""
    notices = OrderNotices(services, rooms)
    notices.start()
    return notices
