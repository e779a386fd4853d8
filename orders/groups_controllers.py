"""HTTP of group-buys: a deal's open groups, one group (the share page reads it without a
login), opening and joining by ordering, and the caller's groups."""

from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from orders.groups import join_group, open_group, share_path_of
from orders.groups_schemas import (
    DealGroupsRead,
    GroupJoin,
    GroupOpen,
    GroupPlaced,
    GroupRead,
    PathGroupId,
)
from orders.groups_socket import placed_reply
from orders.groups_terms import deal_of_group
from orders.groups_views import deal_groups, my_groups, one_group
from orders.intake import IntakeRequest, Rejected
from orders.rooms_port import Rooms, SellingRoom
from orders.runtime import OrdersRuntime
from orders.selling_rule import refusal_over_http
from server.auth import PUBLIC, Principal, Role, allow
from server.bounds import PathId
from server.errors import Conflict, Invalid, NotFound
from server.services import Services


class GroupRefused(Conflict):
    """Full, out of time, closed, already in a group of the deal, sold out, over the limit."""


class GroupNotFound(NotFound):
    pass


class GroupInvalid(Invalid):
    """A group of another deal, a deal that sells no groups, a malformed request."""


NOT_FOUND = frozenset({"unknown_group", "unknown_deal"})
INVALID = frozenset(
    {"foreign_group", "not_a_group_deal", "invalid_quantity", "invalid_request", "forbidden"}
)


def _refusal(rejected: Rejected) -> Exception:
    """The domain error of a refused open or join; its detail starts with the reason the
    pages switch on."""
    message = f"{rejected.reason}: {rejected.detail}" if rejected.detail else rejected.reason
    if rejected.reason in NOT_FOUND:
        return GroupNotFound(message)
    if rejected.reason in INVALID:
        return GroupInvalid(message)
    return GroupRefused(message)


async def _room(rooms: Rooms, db: AsyncSession, room_id: int | None) -> SellingRoom | None:
    if room_id is None:
        return None
    room = await rooms.room(db, room_id)
    if room is None:
        raise GroupNotFound(f"no room {room_id}")
    return room


def _request(caller: Principal, room: SellingRoom | None, deal_id: int, key: str) -> IntakeRequest:
    # Outside a room the sale counts for the customer's home store, or HQ's own line when the
    # link brought a customer with none: a share link works without a broadcast.
    store_id = room.store_id if room else caller.store_id
    return IntakeRequest(
        customer_id=caller.sub,
        deal_id=deal_id,
        quantity=1,
        idempotency_key=key,
        broadcast_id=room.broadcast_id if room else None,
        hub_broadcast_id=room.hub_broadcast_id if room else None,
        room_store_id=store_id,
    )


class GroupBuyController(Controller):
    path = "/api/group-buys"
    tags = ("group-buys",)

    @get("/deals/{deal_id:int}", opt=PUBLIC)
    async def deal_groups(
        self, deal_id: PathId, db: AsyncSession, services: Services
    ) -> DealGroupsRead:
        """A group deal's terms and its groups open to join, with their progress."""
        found = await deal_groups(db, services.redis, deal_id)
        if found is None:
            raise GroupNotFound(f"unknown_deal: no group deal {deal_id}")
        return found

    @get("/groups/{group_id:str}", opt=PUBLIC)
    async def read_group(
        self, group_id: PathGroupId, db: AsyncSession, services: Services
    ) -> GroupRead:
        """One group, for its share page: members as masked nicknames, the deadline."""
        found = await one_group(db, services.redis, group_id)
        if found is None:
            raise GroupNotFound(f"unknown_group: no group {group_id}")
        return found

    @post("/deals/{deal_id:int}/open", opt=allow(Role.VIEWER), status_code=201)
    async def open_group(
        self,
        deal_id: PathId,
        data: GroupOpen,
        db: AsyncSession,
        caller: Principal,
        services: Services,
        rooms: Rooms,
        orders: OrdersRuntime,
    ) -> GroupPlaced:
        """Open a group as its leader by ordering one unit at the group price."""
        room = await _room(rooms, db, data.room_id)
        refusal = await refusal_over_http(db, rooms, deal_id, room)
        await db.rollback()  # end the read: opening writes the group's row on its own session
        if refusal is not None:
            raise _refusal(Rejected("deal_not_live", refusal))
        request = _request(caller, room, deal_id, data.idempotency_key)
        placed = await open_group(orders.intake, request, data.share_code)
        if isinstance(placed, Rejected):
            raise _refusal(placed)
        share_path = await share_path_of(services, deal_id, placed.group_id)
        return placed_reply(services, data.idempotency_key, placed, share_path)

    @post("/groups/{group_id:str}/join", opt=allow(Role.VIEWER), status_code=201)
    async def join_group(
        self,
        group_id: PathGroupId,
        data: GroupJoin,
        db: AsyncSession,
        caller: Principal,
        services: Services,
        rooms: Rooms,
        orders: OrdersRuntime,
    ) -> GroupPlaced:
        """Join an open group by ordering one unit at the group price, from a room or from the
        group's share link alone."""
        room = await _room(rooms, db, data.room_id)
        deal_id = deal_of_group(group_id)
        if deal_id is None:  # its deal part is past any deal id: a group that cannot exist
            raise GroupNotFound(f"unknown_group: no group {group_id}")
        refusal = await refusal_over_http(db, rooms, deal_id, room)
        await db.rollback()  # end the reads: joining writes on its own session
        if refusal is not None:
            raise _refusal(Rejected("deal_not_live", refusal))
        request = _request(caller, room, deal_id, data.idempotency_key)
        placed = await join_group(orders.intake, request, group_id)
        if isinstance(placed, Rejected):
            raise _refusal(placed)
        share_path = await share_path_of(services, deal_id, placed.group_id)
        return placed_reply(services, data.idempotency_key, placed, share_path)

    @get("/mine", opt=allow(Role.VIEWER))
    async def mine(
        self, db: AsyncSession, caller: Principal, services: Services
    ) -> list[GroupRead]:
        """The groups the caller opened or paid into, newest first."""
        return await my_groups(db, services.redis, caller.sub)


ROUTES = [GroupBuyController]
