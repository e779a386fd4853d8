"""When a deal may sell (docs/architecture.md, "Relaying a live hub"): while a broadcast
showing it is live, or in its shoppable replay; a pre-sale deal (预售) whatever the state.

One rule for both ways in: the room socket judges it on the room's kept snapshot (no I/O,
live/snapshot.py), the HTTP order path on the database (`refusal_over_http`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Deal
from orders.rooms_port import Rooms, SellingRoom
from server.bounds import INT32_MAX

SHOWING = frozenset({"live", "ended"})
"""A broadcast sells what it shows while live and in its shoppable replay, not before."""
NOT_STARTED = "the broadcast showing it has not started"


def why_not_selling(
    deal_broadcast_id: int | None,
    presale: bool,
    room_broadcast_id: int | None,
    hub_broadcast_id: int | None,
    status_of: Callable[[int], str | None],
) -> str | None:
    """Why the deal does not sell now (None: it may). The broadcasts showing it: in a room,
    the room's own, and for a hub deal in a relaying store room the hub's too; with no room
    (`room_broadcast_id` None), the deal's own. A deal of neither the room nor its hub is
    left to the reserve script."""
    if deal_broadcast_id is None or presale:
        return None
    if room_broadcast_id is None or deal_broadcast_id == room_broadcast_id:
        showing = [deal_broadcast_id]
    elif deal_broadcast_id == hub_broadcast_id:
        showing = [room_broadcast_id, deal_broadcast_id]
    else:
        return None
    if any(status_of(broadcast_id) in SHOWING for broadcast_id in showing):
        return None
    return NOT_STARTED


async def refusal_over_http(
    session: AsyncSession, rooms: Rooms, deal_id: int, room: SellingRoom | None
) -> str | None:
    """The rule for an order placed over HTTP, read from the database: in a transaction of
    its own (so the session holds no lock afterwards: SQLite), or in the caller's if one is
    open (the caller ends it)."""
    if not 0 < deal_id <= INT32_MAX:  # no such deal (a group id's digits can be any number)
        return None
    own = session.begin() if not session.in_transaction() else contextlib.nullcontext()
    async with own:
        deal = (
            await session.execute(select(Deal.broadcast_id, Deal.presale).where(Deal.id == deal_id))
        ).one_or_none()
        if deal is None or deal.broadcast_id is None:
            return None  # the reserve script answers an unknown deal
        ids = {deal.broadcast_id}
        if room is not None:
            ids |= {room.broadcast_id, room.hub_broadcast_id or room.broadcast_id}
        statuses = await rooms.broadcast_statuses(session, ids)
    return why_not_selling(
        deal.broadcast_id,
        deal.presale,
        room.broadcast_id if room is not None else None,
        room.hub_broadcast_id if room is not None else None,
        statuses.get,
    )
