"""Room notices of new orders: the stock left and the "王** just bought" ticker, coalesced.

A flash sale takes hundreds of orders a second; the rooms need the latest stock a few times
a second, not one frame per order. Each app process keeps the latest stock per deal and one
pending ticker per room, and a task sends them every FLUSH_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import select

from attribution.privacy import mask_name
from attribution.queries import customer_profile, store_names
from orders import announce
from orders.models import Deal, Product
from server.services import Services

log = structlog.get_logger()

FLUSH_SECONDS = 0.3
"""Inside the 200-500 ms the architecture asks of high-rate room state."""


class OrderNotices:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._stock: dict[int, int] = {}
        self._tickers: dict[tuple[int, int | None], tuple[int, int]] = {}
        self._deal_info: dict[int, tuple[int | None, str]] = {}
        self._task: asyncio.Task[None] | None = None

    def order_accepted(
        self,
        *,
        deal_id: int,
        stock_left: int,
        broadcast_id: int | None,
        room_store_id: int | None,
        customer_id: int,
    ) -> None:
        self._stock[deal_id] = stock_left
        if broadcast_id is not None:
            self._tickers[(broadcast_id, room_store_id)] = (customer_id, deal_id)

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

    async def flush(self) -> None:
        stock, self._stock = self._stock, {}
        tickers, self._tickers = self._tickers, {}
        client = self.services.redis
        for deal_id, left in stock.items():
            broadcast_id, _ = await self._deal(deal_id)
            await announce.stock(client, broadcast_id, deal_id, left)
        if not tickers:
            return
        async with self.services.sessionmaker() as session:
            stores = await store_names(session, [s for _, s in tickers if s is not None])
            for (broadcast_id, room_store_id), (customer_id, deal_id) in tickers.items():
                profile = await customer_profile(session, customer_id)
                _, product_name = await self._deal(deal_id)
                await announce.ticker(
                    client,
                    broadcast_id,
                    stores.get(room_store_id or 0, ""),
                    mask_name(profile.nickname if profile else ""),
                    product_name,
                )

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


def notices_of(services: Services) -> OrderNotices | None:
    notices = services.extras.get("orders.notices")
    return notices if isinstance(notices, OrderNotices) else None


async def start_notices(services: Services) -> OrderNotices:
    """Started by the app's lifespan; the returned object's stop() flushes what is pending."""
    notices = OrderNotices(services)
    services.extras["orders.notices"] = notices
    notices.start()
    return notices
