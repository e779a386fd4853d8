"""Editing a product window: add, remove, reorder, reprice, link a deal (or plan one on an
item and link it at once), hide a hub item.

Each edit is one transaction on one broadcast's own items; it returns, for its caller to
publish after the commit (live/publish.py), that broadcast's new part of the window
(live/window.py) for its stream. HQ edits the hub window,
so one publish reaches every relaying store room; a store host edits only the store's own
items and hidden set. Removing an item also publishes on every store stream whose part
named it (its on-air choice or a hidden row), so no room keeps a pointer to a dead id.
"""

from __future__ import annotations

import msgspec
import redis.asyncio
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from live.host_actions import BadTransition, NotFound, controlled_broadcast
from live.models import Broadcast, OnAirChange, WindowHiddenItem, WindowItem
from live.publish import Event, RoomFrame
from live.window import window_change
from orders.catalogue import product_exists
from orders.deals import DealCheck, adopt_deal, create_deal, deal_snapshots, deal_terms
from orders.rooms_port import DealStateChanged, Rooms
from orders.schemas import DealCreate
from server.auth import Principal
from server.errors import Invalid
from server.model_base import utcnow

MAX_PRICE_FEN = 100_000_000
"""One million yuan: above any item a live room sells; a typo, not a price."""


class BadEdit(Invalid):
    """The edit makes no sense (a price out of range, a deal for another product...)."""


def _check_price(price_fen: int) -> None:
    if not 0 < price_fen <= MAX_PRICE_FEN:
        raise BadEdit(f"price_fen must be 1-{MAX_PRICE_FEN}")


async def _own_item(session: AsyncSession, broadcast: Broadcast, item_id: int) -> WindowItem:
    item = await session.get(WindowItem, item_id)
    if item is None or item.broadcast_id != broadcast.id:
        raise NotFound("no such item in this broadcast's own window")
    return item


async def add_item(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: int,
    product_id: int,
    price_fen: int,
) -> tuple[WindowItem, list[Event]]:
    _check_price(price_fen)
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        if not await product_exists(session, product_id):
            raise NotFound(f"no product {product_id}")
        taken = await session.scalar(
            select(WindowItem.id).where(
                WindowItem.broadcast_id == broadcast.id, WindowItem.product_id == product_id
            )
        )
        if taken is not None:
            raise BadTransition("the product is in this window already")
        last = await session.scalar(
            select(func.max(WindowItem.position)).where(WindowItem.broadcast_id == broadcast.id)
        )
        item = WindowItem(
            broadcast_id=broadcast.id,
            product_id=product_id,
            position=(last if last is not None else -1) + 1,
            price_fen=price_fen,
        )
        session.add(item)
        await session.flush()
        change = await window_change(session, broadcast)
    return item, [RoomFrame(broadcast_id, change)]


async def remove_item(
    session: AsyncSession, principal: Principal, broadcast_id: int, item_id: int
) -> list[Event]:
    """Remove an own item and everything that pointed at it: the on-air choices that named it
    and the stores' hidden rows; each stream that showed any of them gets its new part."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        item = await _own_item(session, broadcast, item_id)
        hiding = set(
            await session.scalars(
                select(WindowHiddenItem.broadcast_id).where(WindowHiddenItem.item_id == item.id)
            )
        )
        await session.execute(delete(WindowHiddenItem).where(WindowHiddenItem.item_id == item.id))
        touched = [broadcast]
        relaying = await session.scalars(
            select(Broadcast)
            .where(Broadcast.relays_id == broadcast.id)
            .order_by(Broadcast.id)
            .with_for_update()
        )
        for store in relaying:
            if store.on_air_item_id == item.id or store.id in hiding:
                touched.append(store)
        for owner in touched:
            if owner.on_air_item_id == item.id:
                owner.on_air_item_id = None
                session.add(OnAirChange(broadcast_id=owner.id, item_id=None, at=utcnow()))
        await session.delete(item)
        await session.flush()
        changes: list[Event] = [
            RoomFrame(owner.id, await window_change(session, owner)) for owner in touched
        ]
    return changes


async def reorder_items(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: int,
    item_ids: list[int],
) -> list[Event]:
    """`item_ids` is every one of the broadcast's own items, in the new order."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        items = {
            item.id: item
            for item in await session.scalars(
                select(WindowItem).where(WindowItem.broadcast_id == broadcast.id)
            )
        }
        if sorted(item_ids) != sorted(items):
            raise BadEdit("item_ids must list each of this broadcast's own items once")
        for position, item_id in enumerate(item_ids):
            items[item_id].position = position
        await session.flush()
        change = await window_change(session, broadcast)
    return [RoomFrame(broadcast_id, change)]


async def update_item(
    session: AsyncSession,
    client: redis.asyncio.Redis,
    principal: Principal,
    broadcast_id: int,
    item_id: int,
    *,
    price_fen: int | None = None,
    deal_id: int | None = None,
    unlink_deal: bool = False,
) -> tuple[WindowItem, list[Event]]:
    """Reprice an item or link it to a deal of the same product sold in this broadcast."""
    if price_fen is not None:
        _check_price(price_fen)
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        item = await _own_item(session, broadcast, item_id)
        if price_fen is not None:
            item.price_fen = price_fen
        if deal_id is not None:
            terms = await deal_terms(session, deal_id)
            if terms is None:
                raise NotFound(f"no deal {deal_id}")
            elsewhere = terms.broadcast_id not in (broadcast.id, None)
            if terms.product_id != item.product_id or elsewhere:
                raise BadEdit("the deal sells another product or in another broadcast")
            # A deal planned without a broadcast sells where it is first shown: adopted, its
            # launch, stop and stock are announced on this broadcast's stream.
            await adopt_deal(session, deal_id, broadcast.id)
            item.deal_id = deal_id
        elif unlink_deal:
            item.deal_id = None
        await session.flush()
        change = await window_change(session, broadcast)
    events: list[Event] = [RoomFrame(broadcast_id, change)]
    if deal_id is not None:
        view = (await deal_snapshots(client, session, [deal_id]))[deal_id]
        events.append(DealStateChanged(broadcast_id, view))
    return item, events


async def plan_item_deal(
    session: AsyncSession,
    client: redis.asyncio.Redis,
    principal: Principal,
    broadcast_id: int,
    item_id: int,
    data: DealCreate,
    *,
    rooms: Rooms,
    check: DealCheck | None,
) -> tuple[WindowItem, list[Event]]:
    """Plan a deal on one of this broadcast's own items and link the item to it, in one
    transaction: a deal is never left planned (holding its stock) and shown nowhere."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        item = await _own_item(session, broadcast, item_id)
        if data.product_id != item.product_id or data.broadcast_id not in (None, broadcast.id):
            raise BadEdit("the deal sells another product or in another broadcast")
        planned = msgspec.structs.replace(data, broadcast_id=broadcast.id)
        deal = await create_deal(session, planned, rooms=rooms, check=check)
        await session.flush()
        item.deal_id = deal.id
        await session.flush()
        change = await window_change(session, broadcast)
    view = (await deal_snapshots(client, session, [deal.id]))[deal.id]
    return item, [RoomFrame(broadcast_id, change), DealStateChanged(broadcast_id, view)]


async def set_hidden(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: int,
    item_id: int,
    hidden: bool,
) -> list[Event]:
    """A relaying store hides a hub item it cannot fulfil (or shows it again)."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        item = await session.get(WindowItem, item_id)
        if broadcast.relays_id is None or item is None or item.broadcast_id != broadcast.relays_id:
            raise NotFound("no such hub item in this store's room")
        await session.execute(
            delete(WindowHiddenItem).where(
                WindowHiddenItem.broadcast_id == broadcast.id, WindowHiddenItem.item_id == item_id
            )
        )
        if hidden:
            session.add(WindowHiddenItem(broadcast_id=broadcast.id, item_id=item_id))
        await session.flush()
        change = await window_change(session, broadcast)
    return [RoomFrame(broadcast_id, change)]
