"""HTTP endpoints of live/: room details, the socket URL, and host controls."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

import msgspec
from litestar import Request, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from live.host_actions import (
    BadMedia,
    BadTransition,
    NotAllowed,
    NotFound,
    check_control,
    end_broadcast,
    go_live,
    put_on_air,
    set_media,
)
from live.models import Broadcast
from live.moderation import (
    NoSuchLine,
    StaffLine,
    customer_of_line,
    hide_line,
    mute_customer,
    unmute_customer,
)
from live.protocol import Snapshot
from live.publish import LiveRooms
from live.rooms import room_context
from live.snapshot import build_snapshot
from live.streams import StreamBus
from live.window_edits import (
    BadEdit,
    add_item,
    remove_item,
    reorder_items,
    set_hidden,
    update_item,
)
from server.auth import PUBLIC, Principal, Role, allow
from server.bounds import Id, Int32, PathId, StreamOffset, Text500
from server.services import Services

STAFF = allow(Role.HQ, Role.HOST)
T = TypeVar("T")


class ClientConfig(msgspec.Struct):
    ws_url: str


class OnAirChange(msgspec.Struct, forbid_unknown_fields=True):
    item_id: Id | None


class MuteChatter(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: Id | None = None
    """A customer's id (never a staff member's: staff lines are hidden, not muted)."""
    chat_offset: StreamOffset | None = None
    """The offset of a customer's chat line on this broadcast's stream: (un)mute its author."""


class ChatLine(msgspec.Struct, forbid_unknown_fields=True):
    chat_offset: StreamOffset
    """The offset of a chat line, anyone's, on this broadcast's stream."""


class MediaChange(msgspec.Struct, forbid_unknown_fields=True):
    play_url: Text500 | None = None
    """HLS (.m3u8) or FLV URL from the media server; absent keeps, "" clears."""
    replay_url: Text500 | None = None


class WindowItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    product_id: Id
    price_fen: Int32
    """Checked by the window (1 fen to one million yuan), which says so in its own words."""


class WindowItemUpdate(msgspec.Struct, forbid_unknown_fields=True):
    price_fen: Int32 | msgspec.UnsetType = msgspec.UNSET
    deal_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    """A deal of the same product sold in this broadcast; null unlinks; absent keeps."""


class WindowItemRead(msgspec.Struct):
    item_id: int
    product_id: int
    price_fen: int
    position: int
    deal_id: int | None


class WindowOrder(msgspec.Struct, forbid_unknown_fields=True):
    item_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)]


class HiddenChange(msgspec.Struct, forbid_unknown_fields=True):
    item_id: Id
    hidden: bool = True


class BroadcastStatus(msgspec.Struct):
    id: int
    status: str


def _bus(state: State) -> StreamBus:
    services: Services = state.services
    return StreamBus(services.redis)


async def _translate(coro: Awaitable[T]) -> T:
    try:
        return await coro
    except NotAllowed as exc:
        raise PermissionDeniedException(str(exc)) from exc
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    except BadTransition as exc:
        raise ClientException(str(exc), status_code=409) from exc
    except (BadEdit, BadMedia, StaffLine) as exc:
        raise ClientException(str(exc), status_code=400) from exc
    except NoSuchLine as exc:
        raise NotFoundException(str(exc)) from exc


@get("/api/config", opt=PUBLIC, tags=["live"])
async def client_config(state: State) -> ClientConfig:
    """Where the pages open room sockets."""
    return ClientConfig(ws_url=state.services.settings.public_ws_url)


@get("/api/rooms/{room_id:int}", opt=allow(*Role), tags=["live"])
async def room_details(
    room_id: PathId, state: State, db: NamedDependency[AsyncSession]
) -> Snapshot:
    """The room as a snapshot, for pages that render before their socket opens."""
    room = await room_context(db, room_id)
    if room is None:
        raise NotFoundException("no such room")
    return await build_snapshot(db, _bus(state), room)


@post("/api/broadcasts/{broadcast_id:int}/live", opt=STAFF, tags=["live"], status_code=200)
async def start_broadcast(
    broadcast_id: PathId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> BroadcastStatus:
    broadcast, events = await _translate(go_live(db, request.user, broadcast_id))
    await rooms.publish(events)
    return BroadcastStatus(broadcast.id, broadcast.status)


@post("/api/broadcasts/{broadcast_id:int}/end", opt=STAFF, tags=["live"], status_code=200)
async def stop_broadcast(
    broadcast_id: PathId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> BroadcastStatus:
    broadcast, events = await _translate(end_broadcast(db, request.user, broadcast_id))
    await rooms.publish(events)
    return BroadcastStatus(broadcast.id, broadcast.status)


@post("/api/broadcasts/{broadcast_id:int}/on-air", opt=STAFF, tags=["live"], status_code=204)
async def change_on_air(
    broadcast_id: PathId,
    data: JSONBody[OnAirChange],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> None:
    await rooms.publish(await _translate(put_on_air(db, request.user, broadcast_id, data.item_id)))


@post("/api/broadcasts/{broadcast_id:int}/media", opt=STAFF, tags=["live"], status_code=200)
async def change_media(
    broadcast_id: PathId,
    data: JSONBody[MediaChange],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> BroadcastStatus:
    """Set the play or replay URL the media server gave; viewers get it at once."""
    broadcast, events = await _translate(
        set_media(
            db,
            request.user,
            broadcast_id,
            play_url=data.play_url,
            replay_url=data.replay_url,
        )
    )
    await rooms.publish(events)
    return BroadcastStatus(broadcast.id, broadcast.status)


async def _check_moderator(
    request: Request[Principal, str, State], db: AsyncSession, broadcast_id: int
) -> None:
    """Who controls a broadcast moderates its chat: HQ, or the host of its store."""
    broadcast = await db.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFoundException("no such broadcast")
    try:
        check_control(request.user, broadcast)
    except NotAllowed as exc:
        raise PermissionDeniedException(str(exc)) from exc


async def _customer_named(
    request: Request[Principal, str, State], db: AsyncSession, broadcast_id: int, who: MuteChatter
) -> int:
    """The customer a mute or unmute names: by id, or as the author of a chat line."""
    await _check_moderator(request, db, broadcast_id)
    if who.customer_id is not None:
        return who.customer_id
    if who.chat_offset is None:
        raise ClientException("name a customer_id or a chat_offset", status_code=400)
    redis = request.app.state.services.redis
    return await _translate(customer_of_line(redis, broadcast_id, who.chat_offset))


@post("/api/broadcasts/{broadcast_id:int}/mute", opt=STAFF, tags=["live"], status_code=204)
async def mute_chatter(
    broadcast_id: PathId,
    data: JSONBody[MuteChatter],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> None:
    """Mute a customer in this room: by id, or as the author of a chat line (offset)."""
    customer_id = await _customer_named(request, db, broadcast_id, data)
    await mute_customer(request.app.state.services.redis, broadcast_id, customer_id)


@post("/api/broadcasts/{broadcast_id:int}/unmute", opt=STAFF, tags=["live"], status_code=204)
async def unmute_chatter(
    broadcast_id: PathId,
    data: JSONBody[MuteChatter],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> None:
    """Let a muted customer chat again: by id, or as the author of a chat line (offset)."""
    customer_id = await _customer_named(request, db, broadcast_id, data)
    await unmute_customer(request.app.state.services.redis, broadcast_id, customer_id)


@post("/api/broadcasts/{broadcast_id:int}/chat/hide", opt=STAFF, tags=["live"], status_code=204)
async def hide_chat_line(
    broadcast_id: PathId,
    data: JSONBody[ChatLine],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> None:
    """Hide a chat line, a customer's or staff's, from every viewer of this room."""
    await _check_moderator(request, db, broadcast_id)
    await _translate(hide_line(_bus(request.app.state), broadcast_id, data.chat_offset))


@post("/api/broadcasts/{broadcast_id:int}/window", opt=STAFF, tags=["live"], status_code=201)
async def add_window_item(
    broadcast_id: PathId,
    data: JSONBody[WindowItemCreate],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> WindowItemRead:
    """Add a product to this broadcast's own window (a store host: a store-only item)."""
    item, events = await _translate(
        add_item(db, request.user, broadcast_id, data.product_id, data.price_fen)
    )
    await rooms.publish(events)
    return WindowItemRead(item.id, item.product_id, item.price_fen, item.position, item.deal_id)


@patch("/api/broadcasts/{broadcast_id:int}/window/{item_id:int}", opt=STAFF, tags=["live"])
async def change_window_item(
    broadcast_id: PathId,
    item_id: PathId,
    data: JSONBody[WindowItemUpdate],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> WindowItemRead:
    """Reprice one of this broadcast's own items, or link it to a deal (null unlinks)."""
    item, events = await _translate(
        update_item(
            db,
            rooms.bus.redis,
            request.user,
            broadcast_id,
            item_id,
            price_fen=data.price_fen if isinstance(data.price_fen, int) else None,
            deal_id=data.deal_id if isinstance(data.deal_id, int) else None,
            unlink_deal=data.deal_id is None,
        )
    )
    await rooms.publish(events)
    return WindowItemRead(item.id, item.product_id, item.price_fen, item.position, item.deal_id)


@delete(
    "/api/broadcasts/{broadcast_id:int}/window/{item_id:int}",
    opt=STAFF,
    tags=["live"],
    status_code=204,
)
async def remove_window_item(
    broadcast_id: PathId,
    item_id: PathId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> None:
    await rooms.publish(await _translate(remove_item(db, request.user, broadcast_id, item_id)))


@put("/api/broadcasts/{broadcast_id:int}/window/order", opt=STAFF, tags=["live"], status_code=204)
async def reorder_window(
    broadcast_id: PathId,
    data: JSONBody[WindowOrder],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> None:
    """The broadcast's own items, every one of them, in their new order."""
    await rooms.publish(
        await _translate(reorder_items(db, request.user, broadcast_id, data.item_ids))
    )


@post("/api/broadcasts/{broadcast_id:int}/hidden", opt=STAFF, tags=["live"], status_code=204)
async def hide_hub_item(
    broadcast_id: PathId,
    data: JSONBody[HiddenChange],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[LiveRooms],
) -> None:
    """A store hides a hub item it cannot fulfil from its room (or shows it again)."""
    await rooms.publish(
        await _translate(set_hidden(db, request.user, broadcast_id, data.item_id, data.hidden))
    )


ROUTES = [
    client_config,
    room_details,
    start_broadcast,
    stop_broadcast,
    change_on_air,
    change_media,
    mute_chatter,
    unmute_chatter,
    hide_chat_line,
    add_window_item,
    change_window_item,
    remove_window_item,
    reorder_window,
    hide_hub_item,
]
