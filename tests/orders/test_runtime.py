"""orders/' runtime: built once per process, its payment provider the one the settings name,
and its cache of selling rooms bounded whatever room ids clients send."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from live.publish import LiveRooms
from orders.payments import SandboxProvider
from orders.runtime import ROOM_CACHE_S, SellingRooms
from server.services import Services
from tests.orders.conftest import runtime_of


class CountingRooms(LiveRooms):
    """The real rooms, counting the reads the cache lets through."""

    def __init__(self, services: Services) -> None:
        super().__init__(services.redis)
        self.reads: list[int] = []

    async def room(self, session: AsyncSession, room_id: int) -> Any:
        self.reads.append(room_id)
        return await super().room(session, room_id)


async def test_the_sandbox_is_the_provider_unless_wechat_pay_is_configured(
    services: Services,
) -> None:
    runtime = runtime_of(services)
    assert isinstance(runtime.payments, SandboxProvider)
    assert runtime_of(services) is runtime  # one per process: the same batcher and ids


async def test_a_room_is_read_once_per_interval_and_forgotten_beyond_the_cache_size(
    services: Services,
) -> None:
    rooms = CountingRooms(services)
    now = [0.0]
    cache = SellingRooms(rooms, size=3, clock=lambda: now[0])
    async with services.sessionmaker() as session:
        for room_id in (1, 2, 1, 3, 4, 5):  # client-sent ids, none of them a room
            assert await cache.get(session, room_id) is None
        assert rooms.reads == [1, 2, 3, 4, 5]
        await cache.get(session, 1)  # pushed out by three newer rooms: read again
        assert rooms.reads[-1] == 1
        now[0] += ROOM_CACHE_S + 1
        await cache.get(session, 5)  # stale: read again
        assert rooms.reads == [1, 2, 3, 4, 5, 1, 5]
