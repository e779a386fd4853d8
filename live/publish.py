"""The one way anything reaches the rooms after a commit.

Domain functions (live/host_actions.py, live/window_edits.py, orders/' deals, refunds,
expiry, reconcile and notices) commit, then return the events their change caused; their
caller hands them to `LiveRooms.publish`, which sends them in order. `LiveRooms` is also what
orders/ gets at assembly as its `orders.rooms_port.Rooms`, so orders/ never imports live/.

One failure policy: a publish that fails is logged once and counted in `FAILED_PUBLISHES`,
and never raises into the caller, whose change is already committed. That is safe because
the rooms' state is repaired by what comes next: a deal's state and the window are part of
every snapshot, a viewer whose resume finds a gap gets a snapshot, and stock levels are
absolute values that the next publish replaces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec
import redis.asyncio
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live import keys, rooms
from live.models import Broadcast
from live.protocol import DealChanged, RoomEvent, Stock, Ticker
from live.rooms import RoomContext
from live.streams import StreamBus
from orders.rooms_port import DealStateChanged, JustBought, RoomNews, StockLeft

log = structlog.get_logger()

BROADCAST_ENDED_KEEP = 10_000
"""Entries kept in the broadcast-ended event stream: days of broadcasts for its readers."""


class RoomFrame(msgspec.Struct, frozen=True):
    """A frame for a broadcast's stream, kept in its history (a resuming viewer gets it)."""

    broadcast_id: int
    frame: RoomEvent


class BroadcastEnded(msgspec.Struct, frozen=True):
    """For other packages (follow-ups in attribution/): read from a Redis stream."""

    broadcast_id: int


Event = RoomFrame | BroadcastEnded | RoomNews

FAILED_PUBLISHES: Counter[str] = Counter()
"""Events lost to a failed publish since the process started, by kind (for /metrics)."""


class LiveRooms:
    """Publishes events to the rooms; answers orders/' questions about them."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.bus = StreamBus(client)

    async def publish(self, events: Iterable[Event]) -> None:
        """Send `events` in order; on a failure, count it and the rest as lost, log once."""
        pending = list(events)
        for sent, event in enumerate(pending):
            try:
                await self._send(event)
            except Exception:
                lost = pending[sent:]
                FAILED_PUBLISHES.update(_kind(e) for e in lost)
                log.exception("rooms.publish_failed", kind=_kind(event), lost=len(lost))
                return

    async def _send(self, event: Event) -> None:
        match event:
            case RoomFrame(broadcast_id, frame):
                await self.bus.publish(broadcast_id, frame)
            case DealStateChanged(broadcast_id, deal):
                await self.bus.publish(broadcast_id, DealChanged(deal=deal))
            case StockLeft(broadcast_id, deal_id, left):
                await self.bus.publish_ephemeral(
                    broadcast_id, Stock(deal_id=deal_id, stock_left=max(0, left))
                )
            case JustBought(broadcast_id, store_name, masked_name, product_name):
                await self.bus.publish_ephemeral(
                    broadcast_id,
                    Ticker(name=masked_name, store_name=store_name, product_name=product_name),
                )
            case BroadcastEnded(broadcast_id):
                await self.bus.redis.xadd(
                    keys.BROADCAST_ENDED_EVENTS,
                    {"broadcast_id": broadcast_id},
                    maxlen=BROADCAST_ENDED_KEEP,
                )

    async def room(self, session: AsyncSession, room_id: int) -> RoomContext | None:
        return await rooms.room_context(session, room_id)

    async def broadcasts_selling_in(self, session: AsyncSession, broadcast_id: int) -> list[int]:
        return await rooms.broadcasts_selling_in(session, broadcast_id)

    async def store_of_broadcast(self, session: AsyncSession, broadcast_id: int) -> int | None:
        return await rooms.store_of_broadcast(session, broadcast_id)

    async def broadcast_exists(self, session: AsyncSession, broadcast_id: int) -> bool:
        return await session.get(Broadcast, broadcast_id) is not None

    async def broadcast_statuses(
        self, session: AsyncSession, broadcast_ids: Iterable[int]
    ) -> dict[int, str]:
        rows = await session.execute(
            select(Broadcast.id, Broadcast.status).where(Broadcast.id.in_(list(broadcast_ids)))
        )
        return {broadcast_id: str(status) for broadcast_id, status in rows}


def _kind(event: Event) -> str:
    return type(event.frame).__name__ if isinstance(event, RoomFrame) else type(event).__name__
