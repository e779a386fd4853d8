"""HTTP endpoints of live/: room details, the socket URL, host controls, chat moderation and
the product window. Domain functions raise the error kinds of server/errors.py; the app maps
them to their status once."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from live.host_actions import (
    NotFound,
    check_control,
    end_broadcast,
    go_live,
    put_on_air,
    set_media,
)
from live.models import Broadcast, WindowItem
from live.moderation import customer_of_line, hide_line, mute_customer, unmute_customer
from live.protocol import Snapshot
from live.rooms import room_context
from live.runtime import LiveRuntime
from live.schemas import (
    BroadcastStatus,
    ChatLine,
    ClientConfig,
    HiddenChange,
    MediaChange,
    MuteChatter,
    OnAirChange,
    WindowItemCreate,
    WindowItemRead,
    WindowItemUpdate,
    WindowOrder,
)
from live.snapshot import build_snapshot
from live.window_edits import (
    add_item,
    plan_item_deal,
    remove_item,
    reorder_items,
    set_hidden,
    update_item,
)
from orders.deals_limits import StoreDealCheck
from orders.rooms_port import Rooms
from orders.schemas import DealCreate
from server.auth import PUBLIC, Principal, Role, allow
from server.bounds import PathId
from server.errors import Invalid
from server.services import Services

STAFF = allow(Role.HQ, Role.HOST)


class NoOneNamed(Invalid):
    """A mute or unmute that names neither a customer nor a chat line."""


def _status(broadcast: Broadcast) -> BroadcastStatus:
    return msgspec.convert(broadcast, BroadcastStatus, from_attributes=True)


def _item(item: WindowItem) -> WindowItemRead:
    return WindowItemRead(item.id, item.product_id, item.price_fen, item.position, item.deal_id)


class RoomController(Controller):
    path = "/api"
    tags = ("live",)

    @get("/config", opt=PUBLIC)
    async def client_config(self, services: Services) -> ClientConfig:
        """Where the pages open room sockets."""
        return ClientConfig(ws_url=services.settings.public_ws_url)

    @get("/rooms/{room_id:int}", opt=allow(*Role))
    async def room_details(self, room_id: PathId, db: AsyncSession, live: LiveRuntime) -> Snapshot:
        """The room as a snapshot, for pages that render before their socket opens."""
        room = await room_context(db, room_id)
        if room is None:
            raise NotFound("no such room")
        return await build_snapshot(db, live.bus, room)


class BroadcastController(Controller):
    """A broadcast's state: live, ended, what is on air, its media."""

    path = "/api/broadcasts/{broadcast_id:int}"
    tags = ("live",)

    @post("/live", opt=STAFF, status_code=200)
    async def start_broadcast(
        self, broadcast_id: PathId, caller: Principal, db: AsyncSession, live: LiveRuntime
    ) -> BroadcastStatus:
        broadcast, events = await go_live(db, caller, broadcast_id)
        await live.rooms.publish(events)
        return _status(broadcast)

    @post("/end", opt=STAFF, status_code=200)
    async def stop_broadcast(
        self, broadcast_id: PathId, caller: Principal, db: AsyncSession, live: LiveRuntime
    ) -> BroadcastStatus:
        broadcast, events = await end_broadcast(db, caller, broadcast_id)
        await live.rooms.publish(events)
        return _status(broadcast)

    @post("/on-air", opt=STAFF, status_code=204)
    async def change_on_air(
        self,
        broadcast_id: PathId,
        data: JSONBody[OnAirChange],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        await live.rooms.publish(await put_on_air(db, caller, broadcast_id, data.item_id))

    @post("/media", opt=STAFF, status_code=200)
    async def change_media(
        self,
        broadcast_id: PathId,
        data: JSONBody[MediaChange],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> BroadcastStatus:
        """Set the play or replay URL the media server gave; viewers get it at once."""
        broadcast, events = await set_media(
            db,
            caller,
            broadcast_id,
            play_url=data.play_url,
            replay_url=data.replay_url,
        )
        await live.rooms.publish(events)
        return _status(broadcast)


async def _check_moderator(caller: Principal, db: AsyncSession, broadcast_id: int) -> None:
    """Who controls a broadcast moderates its chat: HQ, or the host of its store."""
    broadcast = await db.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound("no such broadcast")
    check_control(caller, broadcast)


async def _customer_named(
    caller: Principal, db: AsyncSession, live: LiveRuntime, broadcast_id: int, who: MuteChatter
) -> int:
    """The customer a mute or unmute names: by id, or as the author of a chat line."""
    await _check_moderator(caller, db, broadcast_id)
    if who.customer_id is not None:
        return who.customer_id
    if who.chat_offset is None:
        raise NoOneNamed("name a customer_id or a chat_offset")
    return await customer_of_line(live.bus.redis, broadcast_id, who.chat_offset)


class ChatController(Controller):
    """Moderating a broadcast's chat: mute and unmute customers, hide lines."""

    path = "/api/broadcasts/{broadcast_id:int}"
    tags = ("live",)

    @post("/mute", opt=STAFF, status_code=204)
    async def mute_chatter(
        self,
        broadcast_id: PathId,
        data: JSONBody[MuteChatter],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        """Mute a customer in this room: by id, or as the author of a chat line (offset)."""
        customer_id = await _customer_named(caller, db, live, broadcast_id, data)
        await mute_customer(live.bus.redis, broadcast_id, customer_id)

    @post("/unmute", opt=STAFF, status_code=204)
    async def unmute_chatter(
        self,
        broadcast_id: PathId,
        data: JSONBody[MuteChatter],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        """Let a muted customer chat again: by id, or as the author of a chat line (offset)."""
        customer_id = await _customer_named(caller, db, live, broadcast_id, data)
        await unmute_customer(live.bus.redis, broadcast_id, customer_id)

    @post("/chat/hide", opt=STAFF, status_code=204)
    async def hide_chat_line(
        self,
        broadcast_id: PathId,
        data: JSONBody[ChatLine],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        """Hide a chat line, a customer's or staff's, from every viewer of this room."""
        await _check_moderator(caller, db, broadcast_id)
        await hide_line(live.bus, broadcast_id, data.chat_offset)


class WindowController(Controller):
    """A broadcast's product window: its own items, their order, the hub items it hides."""

    path = "/api/broadcasts/{broadcast_id:int}"
    tags = ("live",)

    @post("/window", opt=STAFF, status_code=201)
    async def add_window_item(
        self,
        broadcast_id: PathId,
        data: JSONBody[WindowItemCreate],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> WindowItemRead:
        """Add a product to this broadcast's own window (a store host: a store-only item)."""
        item, events = await add_item(db, caller, broadcast_id, data.product_id, data.price_fen)
        await live.rooms.publish(events)
        return _item(item)

    @patch("/window/{item_id:int}", opt=STAFF)
    async def change_window_item(
        self,
        broadcast_id: PathId,
        item_id: PathId,
        data: JSONBody[WindowItemUpdate],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> WindowItemRead:
        """Reprice one of this broadcast's own items, or link it to a deal (null unlinks)."""
        item, events = await update_item(
            db,
            live.bus.redis,
            caller,
            broadcast_id,
            item_id,
            price_fen=data.price_fen if isinstance(data.price_fen, int) else None,
            deal_id=data.deal_id if isinstance(data.deal_id, int) else None,
            unlink_deal=data.deal_id is None,
        )
        await live.rooms.publish(events)
        return _item(item)

    @post("/window/{item_id:int}/deal", opt=STAFF, status_code=201)
    async def plan_item_deal(
        self,
        broadcast_id: PathId,
        item_id: PathId,
        data: JSONBody[DealCreate],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
        rooms: Rooms,
    ) -> WindowItemRead:
        """Plan a deal (flash sale, group-buy, pack...) on one of this broadcast's own items
        and link the item to it, in one transaction; a store host within HQ's limits
        (`/api/deal-limits`), as `POST /api/deals`. It sells once launched."""
        check = StoreDealCheck(caller, rooms) if caller.role is Role.HOST else None
        item, events = await plan_item_deal(
            db, live.bus.redis, caller, broadcast_id, item_id, data, rooms=rooms, check=check
        )
        await live.rooms.publish(events)
        return _item(item)

    @delete("/window/{item_id:int}", opt=STAFF, status_code=204)
    async def remove_window_item(
        self,
        broadcast_id: PathId,
        item_id: PathId,
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        await live.rooms.publish(await remove_item(db, caller, broadcast_id, item_id))

    @put("/window/order", opt=STAFF, status_code=204)
    async def reorder_window(
        self,
        broadcast_id: PathId,
        data: JSONBody[WindowOrder],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        """The broadcast's own items, every one of them, in their new order."""
        await live.rooms.publish(await reorder_items(db, caller, broadcast_id, data.item_ids))

    @post("/hidden", opt=STAFF, status_code=204)
    async def hide_hub_item(
        self,
        broadcast_id: PathId,
        data: JSONBody[HiddenChange],
        caller: Principal,
        db: AsyncSession,
        live: LiveRuntime,
    ) -> None:
        """A store hides a hub item it cannot fulfil from its room (or shows it again)."""
        events = await set_hidden(db, caller, broadcast_id, data.item_id, data.hidden)
        await live.rooms.publish(events)


ROUTES: list[ControllerRouterHandler] = [
    RoomController,
    BroadcastController,
    ChatController,
    WindowController,
]
"""live/'s HTTP routes, as the app registers them."""
