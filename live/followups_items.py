"""What each viewer of a broadcast met in its window: the items they tapped and, per item, how
long it was on air while they were in the room.

Taps per item come with each stay (counted in the gateway's memory, flushed with the stay).
What was on air when comes from the broadcasts' on-air changes: a room presents its own
broadcast's choice, else the hub's it relays (live/window.py's `room_on_air`), from the start
until the end of its broadcast. A stay's overlap with each item's time on air is what the
viewer saw of it. All of it is read once per broadcast end, in the follow-ups job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_schemas import ItemSeen
from live.models import Broadcast, OnAirChange, ViewerSession, WindowItem
from orders.catalogue import product_cards

ITEMS_PER_TASK = 12
"""A card shows this many items at most: the most tapped, then the longest on air."""


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    item_id: int


def room_spans(
    own: list[tuple[datetime, int | None]],
    hub: list[tuple[datetime, int | None]],
    start: datetime,
    end: datetime,
) -> list[Span]:
    """The on-air spans of a room between `start` and `end`: its own choice, else the hub's.
    `own` and `hub` are (at, item) changes in time order."""
    changes = sorted(
        [(at, 0, item) for at, item in own] + [(at, 1, item) for at, item in hub],
        key=lambda change: change[:2],
    )
    chosen: list[int | None] = [None, None]
    spans: list[Span] = []
    since = start
    current: int | None = None
    for at, source, item in changes:
        if at > since and current is not None:
            spans.append(Span(since, min(at, end), current))
        since = max(since, at)
        chosen[source] = item
        current = chosen[0] if chosen[0] is not None else chosen[1]
    if current is not None and end > since:
        spans.append(Span(since, end, current))
    return [s for s in spans if s.end > s.start and s.start < end]


def overlap_seconds(span: Span, joined: datetime, left: datetime) -> float:
    return max(0.0, (min(span.end, left) - max(span.start, joined)).total_seconds())


async def items_seen(
    session: AsyncSession, rooms: dict[int, int], now: datetime
) -> dict[int, list[ItemSeen]]:
    """Per customer, the items they tapped or saw on air across `rooms` (room id -> broadcast
    id, all of one broadcast family)."""
    family = sorted(set(rooms.values()))
    broadcasts = {
        b.id: b for b in await session.scalars(select(Broadcast).where(Broadcast.id.in_(family)))
    }
    changes: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for change in await session.scalars(
        select(OnAirChange)
        .where(OnAirChange.broadcast_id.in_(family))
        .order_by(OnAirChange.at, OnAirChange.id)
    ):
        changes[change.broadcast_id].append((change.at, change.item_id))
    spans: dict[int, list[Span]] = {}
    for room_id, broadcast_id in rooms.items():
        broadcast = broadcasts[broadcast_id]
        hub = broadcasts.get(broadcast.relays_id) if broadcast.relays_id else None
        start = broadcast.started_at or broadcast.scheduled_start_at
        end = broadcast.ended_at or (hub.ended_at if hub else None) or now
        hub_changes = list(changes[hub.id]) if hub else []
        if hub is not None and hub.ended_at is not None:  # the hub presents nothing once ended
            hub_changes.append((hub.ended_at, None))
        spans[room_id] = room_spans(changes[broadcast_id], hub_changes, start, end)
    taps: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    seen: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for stay in await session.scalars(
        select(ViewerSession).where(ViewerSession.room_id.in_(list(rooms)))
    ):
        for item, count in (stay.tapped_items or {}).items():
            taps[stay.customer_id][int(item)] += count
        left = stay.left_at or now
        for span in spans[stay.room_id]:
            seconds = overlap_seconds(span, stay.joined_at, left)
            if seconds > 0:
                seen[stay.customer_id][span.item_id] += seconds
    item_ids = {i for per in taps.values() for i in per} | {i for per in seen.values() for i in per}
    products = dict(
        (
            await session.execute(
                select(WindowItem.id, WindowItem.product_id).where(WindowItem.id.in_(item_ids))
            )
        ).all()
    )
    cards = await product_cards(session, list(products.values()))
    found: dict[int, list[ItemSeen]] = {}
    for customer_id in taps.keys() | seen.keys():
        items = []
        for item_id in taps[customer_id].keys() | seen[customer_id].keys():
            card = cards.get(products.get(item_id, 0))
            if card is None:  # an item since removed from the window, or a made-up tap
                continue
            items.append(
                ItemSeen(
                    item_id=item_id,
                    product_id=card.product_id,
                    name=card.name,
                    name_en=card.name_en,
                    image_url=card.image_url,
                    taps=taps[customer_id].get(item_id, 0),
                    on_air_seconds=round(seen[customer_id].get(item_id, 0.0)),
                )
            )
        items.sort(key=lambda i: (-i.taps, -i.on_air_seconds, i.item_id))
        found[customer_id] = items[:ITEMS_PER_TASK]
    return found
