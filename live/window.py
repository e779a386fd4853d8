"""The product window a room shows: the hub's items it relays, minus those the store hides,
plus the store's own items, in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, WindowHiddenItem, WindowItem
from live.protocol import BroadcastView, WindowChanged, WindowItemView
from live.streams import stream_name
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


@dataclass
class RoomWindow:
    items: list[WindowItemView]
    """Every item of the room's streams, hidden ones included."""
    hidden_item_ids: list[int]
    on_air_by_stream: dict[str, int]

    @property
    def on_air_item_id(self) -> int | None:
        """The store's choice, else the hub's (streams are listed hub first)."""
        choices = list(self.on_air_by_stream.values())
        return choices[-1] if choices else None


async def hidden_items(session: AsyncSession, broadcast_id: int) -> list[int]:
    return sorted(
        await session.scalars(
            select(WindowHiddenItem.item_id).where(WindowHiddenItem.broadcast_id == broadcast_id)
        )
    )


async def _items(
    session: AsyncSession, owners: list[int], store_broadcast_id: int | None
) -> list[WindowItemView]:
    rows = await session.execute(
        select(WindowItem, Product)
        .join(Product, Product.id == WindowItem.product_id)
        .where(WindowItem.broadcast_id.in_(owners))
        .order_by(WindowItem.broadcast_id != owners[0], WindowItem.position, WindowItem.id)
    )
    return [
        WindowItemView(
            item_id=item.id,
            product_id=product.id,
            name=product.name,
            name_en=product.name_en,
            image_url=product.image_url,
            list_price_fen=product.list_price_fen,
            price_fen=item.price_fen,
            position=item.position,
            store_only=item.broadcast_id == store_broadcast_id,
            deal_id=item.deal_id,
        )
        for item, product in rows
    ]


def _store_part(broadcast: Broadcast) -> int | None:
    """The broadcast whose items are store-only in its room (a relaying store's own)."""
    return broadcast.id if broadcast.relays_id is not None else None


async def room_window(session: AsyncSession, broadcast: Broadcast) -> RoomWindow:
    """The room's items, the hub items it hides, and what each stream has on air."""
    owners = [broadcast.id] if broadcast.relays_id is None else [broadcast.relays_id, broadcast.id]
    hidden = await hidden_items(session, broadcast.id)
    items = await _items(session, owners, _store_part(broadcast))
    shown = {item.item_id for item in items} - set(hidden)
    on_air: dict[str, int] = {}
    for owner in owners:
        choice = (
            broadcast.on_air_item_id
            if owner == broadcast.id
            else await session.scalar(select(Broadcast.on_air_item_id).where(Broadcast.id == owner))
        )
        if choice in shown:
            on_air[stream_name(owner)] = choice
    return RoomWindow(items, hidden, on_air)


async def window_change(session: AsyncSession, broadcast: Broadcast) -> WindowChanged:
    """The event that tells every room reading this broadcast's stream its new items."""
    items = await _items(session, [broadcast.id], _store_part(broadcast))
    hidden = await hidden_items(session, broadcast.id) if broadcast.relays_id else []
    return WindowChanged(items=items, hidden_item_ids=hidden)
