"""The chain's pulse while a hub broadcast is on: what sells across every room relaying it in
the last 15 minutes (top items by units and by how many rooms sell them), and how each room
compares with the chain's median. Store hosts see it beside their own room; HQ per store."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import store_names
from live.models import Broadcast
from orders.recent_sales import recent_sales
from server.errors import Forbidden, NotFound
from server.model_base import utcnow

WINDOW = timedelta(minutes=15)
TOP = 5


class TopItem(msgspec.Struct):
    product_id: int
    name: str
    name_en: str
    units: int
    rooms: int
    """How many of the chain's rooms sold it in the window."""


class RoomPulse(msgspec.Struct):
    broadcast_id: int
    store_id: int | None
    store_name: str
    units: int
    amount_fen: int


class ChainPulse(msgspec.Struct):
    hub_broadcast_id: int
    window_minutes: int
    by_units: list[TopItem]
    by_rooms: list[TopItem]
    rooms: list[RoomPulse]
    """Every room of the hub (the hub's own and each relaying store's), most sold first."""
    median_fen: int
    """The median of the rooms' sales in the window: a room above it sells better than half."""


class NoSuchHub(NotFound):
    pass


class NotYourHub(Forbidden):
    pass


async def check_relays(session: AsyncSession, store_id: int | None, hub_id: int) -> None:
    """A host reads the pulse of a hub their store relays: the chain's figures are for the
    stores taking part in that broadcast, not for any host of the chain at any time."""
    relaying = await session.scalar(
        select(Broadcast.id)
        .where(Broadcast.relays_id == hub_id, Broadcast.store_id == store_id)
        .limit(1)
    )
    if relaying is None:
        raise NotYourHub("your store does not relay this hub broadcast")


async def chain_pulse(session: AsyncSession, hub_id: int) -> ChainPulse:
    hub = await session.get(Broadcast, hub_id)
    if hub is None or hub.kind != "hub":
        raise NoSuchHub("no such hub broadcast")
    broadcasts = list(
        await session.scalars(
            select(Broadcast)
            .where(or_(Broadcast.id == hub_id, Broadcast.relays_id == hub_id))
            .order_by(Broadcast.id)
        )
    )
    sales = await recent_sales(session, [b.id for b in broadcasts], utcnow() - WINDOW)
    items: dict[int, TopItem] = {}
    per_room: dict[int, list[int]] = {b.id: [0, 0] for b in broadcasts}
    for sale in sales:
        item = items.setdefault(
            sale.product_id, TopItem(sale.product_id, sale.product_name, sale.product_name_en, 0, 0)
        )
        item.units += sale.units
        item.rooms += 1
        per_room[sale.broadcast_id][0] += sale.units
        per_room[sale.broadcast_id][1] += sale.amount_fen
    names = await store_names(session, sorted({b.store_id for b in broadcasts if b.store_id}))
    rooms = sorted(
        (
            RoomPulse(
                b.id,
                b.store_id,
                names.get(b.store_id, "") if b.store_id else "总部",
                *per_room[b.id],
            )
            for b in broadcasts
        ),
        key=lambda room: (-room.amount_fen, room.broadcast_id),
    )
    return ChainPulse(
        hub_broadcast_id=hub_id,
        window_minutes=int(WINDOW.total_seconds() // 60),
        by_units=sorted(items.values(), key=lambda i: (-i.units, -i.rooms, i.product_id))[:TOP],
        by_rooms=sorted(items.values(), key=lambda i: (-i.rooms, -i.units, i.product_id))[:TOP],
        rooms=rooms,
        median_fen=int(median([room.amount_fen for room in rooms])) if rooms else 0,
    )
