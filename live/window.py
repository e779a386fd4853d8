"""The product window a room shows, defined once: each stream's part, and the room's merge.

A stream ("b{id}") owns one part of a room's window: its broadcast's own items, the hub items
it hides (a relaying store only) and its own on-air choice. The hub room reads one stream; a
store room relaying the hub reads the hub's and its own. The snapshot is the merge of the
parts, and every `window.changed` / `window.on_air` carries one part (or its on-air choice),
so applying events in order to a snapshot gives the next snapshot. `static/js/roomstate.js`
applies the same rule (docs/protocol.md, "Merging the window"); `room_on_air` is its last step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, WindowHiddenItem, WindowItem
from live.protocol import BroadcastView, OnAir, WindowChanged, WindowItemView
from live.streams import stream_name
from orders.catalogue import product_cards


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
class StreamWindow:
    """The part of a room's window one stream owns."""

    items: list[WindowItemView]
    hidden_item_ids: list[int]
    on_air_item_id: int | None

    def change(self) -> WindowChanged:
        return WindowChanged(
            items=self.items,
            hidden_item_ids=self.hidden_item_ids,
            on_air_item_id=self.on_air_item_id,
        )


@dataclass
class RoomWindow:
    items: list[WindowItemView]
    """Every item of the room's streams, hidden ones included: hub first, each by position."""
    hidden_item_ids: list[int]
    on_air_by_stream: dict[str, int]
    """Each stream's own choice, hidden or not, so an unhide brings it back."""
    own_stream: str

    @property
    def on_air_item_id(self) -> int | None:
        return room_on_air(self.on_air_by_stream, self.own_stream, self.hidden_item_ids)


def room_on_air(on_air_by_stream: dict[str, int], own_stream: str, hidden: list[int]) -> int | None:
    """What the room presents: its own stream's choice, else the hub's; nothing if hidden."""
    choice = on_air_by_stream.get(own_stream)
    if choice is None:
        choice = next((c for s, c in on_air_by_stream.items() if s != own_stream), None)
    return None if choice is None or choice in hidden else choice


async def hidden_items(session: AsyncSession, broadcast_id: int) -> list[int]:
    return sorted(
        await session.scalars(
            select(WindowHiddenItem.item_id).where(WindowHiddenItem.broadcast_id == broadcast_id)
        )
    )


async def _own_items(session: AsyncSession, broadcast: Broadcast) -> list[WindowItemView]:
    items = list(
        await session.scalars(
            select(WindowItem)
            .where(WindowItem.broadcast_id == broadcast.id)
            .order_by(WindowItem.position, WindowItem.id)
        )
    )
    products = await product_cards(session, [item.product_id for item in items])
    store_only = broadcast.relays_id is not None
    return [
        WindowItemView(
            item_id=item.id,
            product_id=product.product_id,
            name=product.name,
            name_en=product.name_en,
            image_url=product.image_url,
            list_price_fen=product.list_price_fen,
            price_fen=item.price_fen,
            position=item.position,
            store_only=store_only,
            deal_id=item.deal_id,
        )
        for item in items
        if (product := products.get(item.product_id)) is not None
    ]


async def stream_window(session: AsyncSession, broadcast: Broadcast) -> StreamWindow:
    """The part of the window `broadcast`'s stream owns, as it stands in this transaction."""
    hidden = await hidden_items(session, broadcast.id) if broadcast.relays_id else []
    return StreamWindow(await _own_items(session, broadcast), hidden, broadcast.on_air_item_id)


async def room_window(session: AsyncSession, broadcast: Broadcast) -> RoomWindow:
    """The merge of the room's streams' parts, hub first."""
    own = await stream_window(session, broadcast)
    if broadcast.relays_id is None:
        parts = {stream_name(broadcast.id): own}
    else:
        hub = await session.get(Broadcast, broadcast.relays_id)
        assert hub is not None, "a relaying store's hub broadcast exists"
        parts = {
            stream_name(hub.id): await stream_window(session, hub),
            stream_name(broadcast.id): own,
        }
    return RoomWindow(
        items=[item for part in parts.values() for item in part.items],
        hidden_item_ids=own.hidden_item_ids,
        on_air_by_stream={
            stream: part.on_air_item_id
            for stream, part in parts.items()
            if part.on_air_item_id is not None
        },
        own_stream=stream_name(broadcast.id),
    )


async def window_change(session: AsyncSession, broadcast: Broadcast) -> WindowChanged:
    """The event that tells every room reading this broadcast's stream its new part."""
    return (await stream_window(session, broadcast)).change()


def on_air_change(broadcast: Broadcast) -> OnAir:
    return OnAir(item_id=broadcast.on_air_item_id)
