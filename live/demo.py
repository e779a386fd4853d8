"""The demo broadcasts: tonight's hub broadcast with its window, and each store relaying it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, Room, WindowItem
from server.model_base import utcnow


@dataclass
class BroadcastSeed:
    hub_broadcast_id: int
    hub_room_id: int
    store_room_ids: dict[int, int]
    """Room id per store id."""


async def seed_broadcasts(
    session: AsyncSession,
    *,
    hq_staff_id: int,
    host_ids: dict[int, int],
    store_names: dict[int, str],
    window: list[tuple[int, int]],
) -> BroadcastSeed:
    """`window` is (product id, live price in fen) in display order."""
    start = (utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    hub = Broadcast(
        kind="hub",
        title="冬季新品首发 · 总部直播",
        host_id=hq_staff_id,
        scheduled_start_at=start,
        scheduled_end_at=end,
        poster_url="/static/img/poster.svg",
    )
    session.add(hub)
    await session.flush()
    hub_room = Room(broadcast_id=hub.id)
    session.add(hub_room)
    session.add_all(
        WindowItem(broadcast_id=hub.id, product_id=product_id, position=n, price_fen=price)
        for n, (product_id, price) in enumerate(window)
    )
    rooms: dict[int, int] = {}
    for store_id, host_id in host_ids.items():
        store_cast = Broadcast(
            kind="store",
            title=f"{store_names[store_id]} · 冬季新品店播",
            store_id=store_id,
            host_id=host_id,
            relays_id=hub.id,
            scheduled_start_at=start,
            scheduled_end_at=end,
            poster_url="/static/img/poster.svg",
        )
        session.add(store_cast)
        await session.flush()
        room = Room(broadcast_id=store_cast.id, store_id=store_id)
        session.add(room)
        await session.flush()
        rooms[store_id] = room.id
    await session.flush()
    return BroadcastSeed(hub.id, hub_room.id, rooms)


async def link_window_deals(
    session: AsyncSession, broadcast_id: int, deal_by_product: dict[int, int]
) -> None:
    items = await session.scalars(select(WindowItem).where(WindowItem.broadcast_id == broadcast_id))
    for item in items:
        item.deal_id = deal_by_product.get(item.product_id, item.deal_id)
