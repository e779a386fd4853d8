"""What a host does to a broadcast: named state changes, each in one transaction.

Each returns the events it caused, for the caller to publish after the commit (live/publish.py).

HQ controls the hub broadcast; a store host controls only their own store's broadcast.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, BroadcastStatus, OnAirChange, SlotApproval, WindowItem
from live.protocol import BroadcastState
from live.publish import BroadcastEnded, Event, RoomFrame
from live.window import broadcast_view, on_air_change
from server import errors
from server.auth import Principal, Role
from server.model_base import utcnow


class NotAllowed(errors.Forbidden):
    """The caller may not control this broadcast."""


class NotFound(errors.NotFound):
    """No such broadcast or item."""


class BadTransition(errors.Conflict):
    """The broadcast is not in a state that allows this."""


class BadMedia(errors.Invalid):
    """A play or replay URL we will not hand to viewers."""


def check_control(principal: Principal, broadcast: Broadcast) -> None:
    if broadcast.kind == "hub":
        if principal.role is not Role.HQ:
            raise NotAllowed("only HQ controls the hub broadcast")
    elif not (
        principal.role is Role.HQ
        or (principal.role is Role.HOST and principal.may_act_for_store(broadcast.store_id))
    ):
        raise NotAllowed("this broadcast belongs to another store")


async def controlled_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: int
) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise NotFound("no such broadcast")
    check_control(principal, broadcast)
    return broadcast


def _state(broadcast: Broadcast) -> RoomFrame:
    return RoomFrame(broadcast.id, BroadcastState(broadcast=broadcast_view(broadcast)))


async def go_live(
    session: AsyncSession, principal: Principal, broadcast_id: int
) -> tuple[Broadcast, list[Event]]:
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        if broadcast.status != BroadcastStatus.SCHEDULED:
            raise BadTransition(f"a {broadcast.status} broadcast cannot go live")
        if broadcast.approval != SlotApproval.APPROVED:
            raise BadTransition(f"a {broadcast.approval} slot cannot go live until HQ approves it")
        broadcast.status, broadcast.started_at = BroadcastStatus.LIVE, utcnow()
    return broadcast, [_state(broadcast)]


async def end_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: int
) -> tuple[Broadcast, list[Event]]:
    """End the broadcast; its room stays open as a shoppable replay. Other packages
    (follow-ups in attribution/) hear of it through `BroadcastEnded`."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        if broadcast.status != BroadcastStatus.LIVE:
            raise BadTransition(f"a {broadcast.status} broadcast cannot end")
        broadcast.status, broadcast.ended_at = BroadcastStatus.ENDED, utcnow()
    return broadcast, [_state(broadcast), BroadcastEnded(broadcast.id)]


MEDIA_SCHEMES = ("https://", "http://")


async def set_media(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: int,
    *,
    play_url: str | None = None,
    replay_url: str | None = None,
) -> tuple[Broadcast, list[Event]]:
    """Hand viewers the media server's play (HLS/FLV) or replay URL; we never touch video."""
    for url in (play_url, replay_url):
        if url and (not url.startswith(MEDIA_SCHEMES) or len(url) > 500):
            raise BadMedia("media URLs are http(s):// and at most 500 characters")
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        if play_url is not None:
            broadcast.play_url = play_url
        if replay_url is not None:
            broadcast.replay_url = replay_url
    return broadcast, [_state(broadcast)]


async def put_on_air(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: int,
    item_id: int | None,
) -> list[Event]:
    """Present one of the room's items (a store host may present a hub item); None: none."""
    async with session.begin():
        broadcast = await controlled_broadcast(session, principal, broadcast_id)
        if item_id is not None:
            item = await session.get(WindowItem, item_id)
            if item is None or item.broadcast_id not in (broadcast.id, broadcast.relays_id):
                raise NotFound("no such item in this room's window")
        if broadcast.on_air_item_id != item_id:  # the follow-ups' record of what was on air
            session.add(OnAirChange(broadcast_id=broadcast.id, item_id=item_id, at=utcnow()))
        broadcast.on_air_item_id = item_id
    return [RoomFrame(broadcast_id, on_air_change(broadcast))]
