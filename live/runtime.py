"""live/'s long-lived objects in one process, built once by the app's lifespan and injected
into handlers as the `live` dependency."""

from __future__ import annotations

from dataclasses import dataclass

from live.gateway import RoomGateway
from live.publish import LiveRooms
from live.streams import StreamBus
from orders.runtime import OrdersRuntime
from server.services import Services


@dataclass
class LiveRuntime:
    bus: StreamBus
    """The rooms' streams on Redis: what host controls publish on."""
    rooms: LiveRooms
    """What orders/ tells and asks the rooms (its `orders.announce.Rooms`)."""
    gateway: RoomGateway
    """This process's room socket server; started by `start`, stopped by `close`."""

    @classmethod
    def build(cls, services: Services, rooms: LiveRooms, orders: OrdersRuntime) -> LiveRuntime:
        """`rooms` is the one handed to `orders` as its `Rooms`."""
        return cls(StreamBus(services.redis), rooms, RoomGateway(services, orders))

    async def start(self, host: str, port: int) -> None:
        await self.gateway.start(host, port)

    async def close(self) -> None:
        await self.gateway.stop()
