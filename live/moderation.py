"""Who speaks in a room, and what its host does about a line: mute its author, or hide it.

Mutes name a customer: they are kept in a set of customer ids per broadcast, and only a
customer's chat is checked against it, so muting customer 4 never silences the host, guide
or HQ operator whose staff id is also 4. Staff never need muting: only the room's own host
and HQ speak as staff, and any line, theirs included, can be hidden.

Every line's author is kept for a day under its offset, as "<role>:<id>": chat frames carry a
masked name only, and the host acts on "the author of line 8".
"""

from __future__ import annotations

from typing import NamedTuple

import redis.asyncio

from live.keys import chat_author_key, muted_customers_key
from live.protocol import ChatHidden
from live.rooms import RoomContext
from live.streams import StreamBus
from server.auth import Principal, Role
from server.errors import Invalid, NotFound

STAFF_CHAT_NAMES = {Role.HOST: "主播", Role.HQ: "总部"}
CHAT_AUTHOR_TTL_S = 4 * 3600
"""Long enough to mute or hide for a line still on the room's screen (a show lasts a few
hours), short enough that a night's chat does not stay in Redis a day (docs/benchmarks.md:
bytes per chat line)."""


class StaffLine(Invalid):
    """A staff member's line: hide it; staff are not muted."""


class NoSuchLine(NotFound):
    """No chat line at this offset of this broadcast's stream (or it is over four hours old)."""


class ChatAuthor(NamedTuple):
    role: Role
    id: int


def staff_chat_name(principal: Principal, room: RoomContext) -> str | None:
    """The name a staff member chats under in this room; None for staff who may only watch
    (a guide, another store's host, any host in the hub room)."""
    if principal.role is Role.HQ:
        return STAFF_CHAT_NAMES[Role.HQ]
    if principal.role is Role.HOST and principal.may_act_for_store(room.store_id):
        return STAFF_CHAT_NAMES[Role.HOST]
    return None


async def mute_customer(client: redis.asyncio.Redis, broadcast_id: int, customer_id: int) -> None:
    await client.sadd(muted_customers_key(broadcast_id), customer_id)  # type: ignore[misc]


async def unmute_customer(client: redis.asyncio.Redis, broadcast_id: int, customer_id: int) -> None:
    await client.srem(muted_customers_key(broadcast_id), customer_id)  # type: ignore[misc]


async def is_muted(client: redis.asyncio.Redis, broadcast_id: int, principal: Principal) -> bool:
    if principal.role is not Role.VIEWER:
        return False
    key = muted_customers_key(broadcast_id)
    return bool(await client.sismember(key, str(principal.sub)))  # type: ignore[misc]


async def record_chat_author(
    client: redis.asyncio.Redis, broadcast_id: int, offset: int, author: Principal
) -> None:
    value = f"{author.role.value}:{author.sub}"
    await client.set(chat_author_key(broadcast_id, offset), value, ex=CHAT_AUTHOR_TTL_S)


async def chat_author(client: redis.asyncio.Redis, broadcast_id: int, offset: int) -> ChatAuthor:
    found = await client.get(chat_author_key(broadcast_id, offset))
    if found is None:
        raise NoSuchLine("no such chat line in this room")
    role, _, author_id = found.decode().rpartition(":")
    # A bare id was written before staff lines were recorded: a customer's.
    return ChatAuthor(Role(role or Role.VIEWER), int(author_id))


async def customer_of_line(client: redis.asyncio.Redis, broadcast_id: int, offset: int) -> int:
    """The customer who wrote this line, to mute or unmute them."""
    author = await chat_author(client, broadcast_id, offset)
    if author.role is not Role.VIEWER:
        raise StaffLine("staff are not muted: hide the line instead")
    return author.id


async def hide_line(bus: StreamBus, broadcast_id: int, offset: int) -> None:
    """Every client drops the line; the hiding is history, so a resume replays it too."""
    await chat_author(bus.redis, broadcast_id, offset)  # a line of this broadcast, or NoSuchLine
    await bus.publish(broadcast_id, ChatHidden(line_offset=offset))
