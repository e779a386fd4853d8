"""The product window a room shows: the hub's items it relays, minus those the store
hides, plus the store's own items, in order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, WindowHiddenItem, WindowItem
from live.protocol import BroadcastView, WindowItemView
from orders.models import Product


def millis(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


def broadcast_view(broadcast: Broadcast) -> BroadcastView:
    return BroadcastView(
        id=broadcast.id,
        kind=broadcast.kind,
        title=broadcast.title,
        status=broadcast.status,
        play_url=broadcast.play_url,
        replay_url=broadcast.replay_url,
        poster_url=broadcast.poster_url,
        scheduled_start_ms=millis(broadcast.scheduled_start_at) or 0,
        started_ms=millis(broadcast.started_at),
        ended_ms=millis(broadcast.ended_at),
    )


async def room_window(
    session: AsyncSession, broadcast: Broadcast
) -> tuple[list[WindowItemView], int | None]:
    """The room's items and the item on air (the hub's, unless the store put its own on)."""
    owners = [broadcast.id] if broadcast.relays_id is None else [broadcast.relays_id, broadcast.id]
    hidden = set(
        await session.scalars(
            select(WindowHiddenItem.item_id).where(WindowHiddenItem.broadcast_id == broadcast.id)
        )
    )
    rows = await session.execute(
        select(WindowItem, Product)
        .join(Product, Product.id == WindowItem.product_id)
        .where(WindowItem.broadcast_id.in_(owners))
        .order_by(WindowItem.broadcast_id != owners[0], WindowItem.position, WindowItem.id)
    )
    items: list[WindowItemView] = []
    on_air: dict[int, int] = {}
    for item, product in rows:
        if item.id in hidden:
            continue
        if item.on_air:
            on_air[item.broadcast_id] = item.id
        items.append(
            WindowItemView(
                item_id=item.id,
                product_id=product.id,
                name=product.name,
                name_en=product.name_en,
                image_url=product.image_url,
                list_price_fen=product.list_price_fen,
                price_fen=item.price_fen,
                position=len(items),
                store_only=item.broadcast_id == broadcast.id and broadcast.relays_id is not None,
                deal_id=item.deal_id,
            )
        )
    on_air_item = on_air.get(broadcast.id, on_air.get(owners[0]))
    return items, on_air_item if on_air_item not in hidden else None
