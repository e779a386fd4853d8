"""The job that turns a broadcast's end into follow-up tasks, and the one that expires them and
issues the re-touches.

It reads `events:broadcast_ended` with a consumer group, so each end is handled once across
workers, and acknowledges an event only after its tasks' transaction commits: a worker killed
in between leaves the event pending, and the next run (any worker: the consumer name is fixed)
reads its pending events first and handles them again. The tasks are unique by broadcast and
customer, so handling an event twice writes them once.

Stays reach `viewer_sessions` when a socket closes (live/presence.py), and viewers often stay
in the room as it turns into a replay: an end is handled once it is SETTLE_SECONDS old, and the
people still present then are counted as viewers with the engagement their closed stays show.
Each viewer's items (what they tapped, how long each was on air while they watched) come from
live/followups_items.py.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from arq.cron import cron
from redis.exceptions import ResponseError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups import TasksMade, create_broadcast_tasks
from attribution.followups_outcomes import expire_due, retouch_due
from attribution.followups_schemas import ViewerActivity
from live.followups_items import items_seen
from live.keys import BROADCAST_ENDED_EVENTS
from live.models import Broadcast, BroadcastStatus, Room, ViewerSession
from live.presence import present_people
from orders.queries import buyers_of
from server.model_base import utcnow
from server.services import Services

log = structlog.get_logger()

ENDED_STREAM = BROADCAST_ENDED_EVENTS
GROUP = "followups"
CONSUMER = "followups"
"""One name for every worker: a restarted worker finds the events its predecessor left pending."""
SETTLE_SECONDS = 60
"""How old an end must be before it is handled: the stays of viewers leaving at the end have
been flushed by then (every 5 s)."""


async def ensure_group(services: Services) -> None:
    try:
        await services.redis.xgroup_create(ENDED_STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


async def broadcast_family(session: AsyncSession, broadcast_id: int) -> tuple[int, list[int]]:
    """The hub (or standalone store broadcast) and every broadcast relaying it; none while the
    hub is still live."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return broadcast_id, []
    root = broadcast.relays_id or broadcast.id
    hub = broadcast if root == broadcast.id else await session.get(Broadcast, root)
    if hub is None or hub.status != BroadcastStatus.ENDED:
        return root, []  # a store leaving a hub still live: the hub's own end handles them
    relays = await session.scalars(select(Broadcast.id).where(Broadcast.relays_id == root))
    return root, [root, *relays]


async def viewer_activity(
    services: Services, session: AsyncSession, family: list[int]
) -> list[ViewerActivity]:
    """One record per customer across the family's rooms: their stays summed, the room of
    their longest stay named, and the people still present added with nothing recorded yet."""
    found = (
        await session.execute(
            select(Room.id, Room.store_id, Room.broadcast_id).where(Room.broadcast_id.in_(family))
        )
    ).all()
    rooms = {room_id: store_id for room_id, store_id, _ in found}
    items = await items_seen(session, {room_id: b for room_id, _, b in found}, utcnow())
    rows = await session.execute(
        select(
            ViewerSession.customer_id,
            ViewerSession.room_id,
            func.sum(ViewerSession.watch_seconds),
            func.sum(ViewerSession.likes),
            func.sum(ViewerSession.chats),
            func.sum(ViewerSession.taps),
        )
        .where(ViewerSession.room_id.in_(list(rooms)))
        .group_by(ViewerSession.customer_id, ViewerSession.room_id)
    )
    totals: dict[int, list[int]] = {}
    longest: dict[int, tuple[int, int | None]] = {}
    for customer_id, room_id, watch, likes, chats, taps in rows.all():
        sums = totals.setdefault(customer_id, [0, 0, 0, 0])
        for n, value in enumerate((watch, likes, chats, taps)):
            sums[n] += int(value or 0)
        if int(watch or 0) >= longest.get(customer_id, (-1, None))[0]:
            longest[customer_id] = (int(watch or 0), rooms.get(room_id))
    for broadcast_id in family:
        for person in await present_people(services.redis, broadcast_id):
            kind, _, sub = person.partition(":")
            if kind == "viewer" and sub.isdigit() and int(sub) not in totals:
                totals[int(sub)] = [0, 0, 0, 0]
                longest[int(sub)] = (0, None)
    return [
        ViewerActivity(
            customer_id,
            longest[customer_id][1],
            watch_seconds=watch,
            likes=likes,
            chats=chats,
            taps=taps,
            items=items.get(customer_id, []),
        )
        for customer_id, (watch, likes, chats, taps) in totals.items()
    ]


async def tasks_for_end(services: Services, broadcast_id: int) -> TasksMade:
    """Handle one broadcast end, in one transaction. Safe to run again."""
    async with services.sessionmaker() as session:
        try:
            async with session.begin():
                root, family = await broadcast_family(session, broadcast_id)
                if not family:
                    return TasksMade()
                viewers = await viewer_activity(services, session, family)
                buyers = await buyers_of(session, family)
                return await create_broadcast_tasks(
                    session, broadcast_id=root, viewers=viewers, buyers=buyers, now=utcnow()
                )
        except IntegrityError:  # another run wrote the same tasks first: they are written
            return TasksMade()


async def consume_ended(services: Services, settle_seconds: float = SETTLE_SECONDS) -> int:
    """Handle the ends old enough, pending ones (a killed run's) first; returns how many."""
    await ensure_group(services)
    handled = 0
    for start in ("0", ">"):  # "0": this consumer's pending events; ">": new ones
        replies = await services.redis.xreadgroup(GROUP, CONSUMER, {ENDED_STREAM: start}, count=100)
        for _stream, messages in replies or []:
            for message_id, fields in messages:
                raw_id = message_id.decode() if isinstance(message_id, bytes) else message_id
                if time.time() - int(raw_id.split("-")[0]) / 1000 < settle_seconds:
                    continue  # stays pending; a later run takes it
                broadcast_id = int(fields.get(b"broadcast_id") or fields.get("broadcast_id"))
                made = await tasks_for_end(services, broadcast_id)
                await services.redis.xack(ENDED_STREAM, GROUP, message_id)
                log.info("followups.broadcast_ended", broadcast_id=broadcast_id, **vars(made))
                handled += 1
    return handled


async def followups_from_ends(ctx: dict[str, Any]) -> int:
    return await consume_ended(ctx["services"])


async def maintain_followups(ctx: dict[str, Any]) -> int:
    """Expire the tasks past their time and issue the re-touches that are due."""
    services: Services = ctx["services"]
    async with services.sessionmaker() as session, session.begin():
        now = utcnow()
        return await expire_due(session, now) + await retouch_due(session, now)


CRON_JOBS = [
    cron(followups_from_ends, second=set(range(0, 60, 10)), run_at_startup=True),
    cron(maintain_followups, minute=set(range(0, 60, 5)), second=30),
]
