"""orders/' long-lived objects in one process, built once by the assembly and injected.

The app's lifespan builds one `OrdersRuntime` (with the room notices running) and closes it;
the worker's startup builds one for its jobs (ctx["orders"]). Handlers receive it as the
`orders` dependency; nothing here is made on first request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from orders.intake import OrderIntake
from orders.notices import OrderNotices, start_notices
from orders.payments import PaymentProvider, SandboxProvider
from orders.rooms_port import Rooms, SellingRoom
from orders.wechatpay import WechatPayProvider
from server.services import Services
from server.settings import Settings

ROOM_CACHE_S = 5.0
"""A room's broadcast and store do not change while it is live; the HTTP order path reads
them at most this often per room and process instead of once per order."""
ROOM_CACHE_SIZE = 4096
"""Rooms remembered per process. The key is a room id the client sends, so the cache is
bounded: beyond this the least recently used room is read again."""


class SellingRooms:
    """The rooms the HTTP order path sells in, read through `Rooms` and kept a few seconds."""

    def __init__(
        self,
        rooms: Rooms,
        ttl_s: float = ROOM_CACHE_S,
        size: int = ROOM_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rooms = rooms
        self.ttl_s = ttl_s
        self.size = size
        self._clock = clock
        self._cache: OrderedDict[int, tuple[float, SellingRoom | None]] = OrderedDict()

    async def get(self, session: AsyncSession, room_id: int) -> SellingRoom | None:
        """The room, or None when there is no such room. Reads in a transaction of its own,
        so the session holds no lock afterwards (SQLite)."""
        now = self._clock()
        hit = self._cache.get(room_id)
        if hit and now - hit[0] < self.ttl_s:
            self._cache.move_to_end(room_id)
            return hit[1]
        async with session.begin():
            room = await self.rooms.room(session, room_id)
        self._cache[room_id] = (now, room)
        self._cache.move_to_end(room_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return room


def configured_provider(settings: Settings) -> PaymentProvider:
    """The provider the settings name: the sandbox, or WeChat Pay (orders/wechatpay.py)."""
    if settings.orders.payment_provider == "wechatpay":
        return WechatPayProvider.from_settings(settings)
    return SandboxProvider(settings)


@dataclass
class OrdersRuntime:
    services: Services
    rooms: Rooms
    """live/'s side of what orders/ tells and asks the rooms, handed in at assembly."""
    intake: OrderIntake
    payments: PaymentProvider
    """The configured payment provider: it verifies notices and sends refunds."""
    sandbox: SandboxProvider
    """Signs the sandbox pay page's notices (demo and tests)."""
    selling_rooms: SellingRooms
    notices: OrderNotices | None = None
    """The stock and ticker notices of accepted orders; running in the app, absent in the
    worker and in tests that do not start them."""

    @classmethod
    def build(cls, services: Services, rooms: Rooms) -> OrdersRuntime:
        return cls(
            services=services,
            rooms=rooms,
            intake=OrderIntake(services),
            payments=configured_provider(services.settings),
            sandbox=SandboxProvider(services.settings),
            selling_rooms=SellingRooms(rooms),
        )

    async def start_notices(self) -> None:
        self.notices = await start_notices(self.services, self.rooms)

    async def close(self) -> None:
        """Stop the notices, flushing what is pending."""
        if self.notices is not None:
            await self.notices.stop()
            self.notices = None
