"""`storecast demo-data`: load the demo chain (server/demo_chain.py) once, and say where to look."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Guide, Staff, Store
from attribution.segments import refresh_segments
from live.followups_job import tasks_for_end
from live.models import Broadcast, BroadcastStatus, Room
from live.publish import LiveRooms
from orders.deals import launch_deal
from orders.groups_models import GroupBuy, GroupStatus
from orders.groups_views import share_path
from server.auth import Principal, Role, TokenSigner
from server.demo_chain import (
    deals_to_launch,
    open_demo_group,
    place_waiting_on_behalf,
    roll_up_history,
    seed_chain,
    seed_last_night,
    seed_store_history,
)
from server.demo_clip import prepare_demo_clip
from server.model_base import utcnow
from server.services import Services, services_scope
from server.settings import Settings


@dataclass
class DemoSummary:
    hq_staff_id: int
    hosts: list[tuple[int, int, str]]
    """(staff id, store id, store name)"""
    guides: list[tuple[int, int, str]]
    """(guide id, store id, share code)"""
    hub_room_id: int
    store_rooms: dict[int, int]
    group_share_path: str | None = None
    """The share page of tonight's first open group-buy."""

    def describe(self, settings: Settings) -> str:
        signer = TokenSigner(settings.auth.secret, settings.auth.token_ttl_seconds)
        base = settings.public_url
        hq_token = signer.issue(Principal(Role.HQ, self.hq_staff_id))
        lines = [
            "Storecast demo is ready. Open:",
            f"  API docs          {base}/schema",
            f"  health            {base}/healthz",
            f"  HQ dashboard      {base}/static/hq.html?token={hq_token}",
            f"  hub host console  {base}/static/host.html?room={self.hub_room_id}&token={hq_token}",
            f"  HQ customers and sales  {base}/static/customers.html?token={hq_token}",
        ]
        for staff_id, store_id, name in self.hosts:
            token = signer.issue(Principal(Role.HOST, staff_id, store_id))
            room = self.store_rooms[store_id]
            lines.append(
                f"  host console {name}  {base}/static/host.html?room={room}&token={token}"
            )
            lines.append(f"  customers of {name}  {base}/static/customers.html?token={token}")
        for guide_id, store_id, share_code in self.guides:
            token = signer.issue(Principal(Role.GUIDE, guide_id, store_id))
            room = self.store_rooms[store_id]
            lines.append(f"  guide {share_code} workbench  {base}/static/guide.html?token={token}")
            lines.append(
                f"  viewer room via {share_code}'s share  "
                f"{base}/static/room.html?room={room}&share={share_code}"
            )
        if self.group_share_path:
            lines.append(f"  open group-buy    {base}{self.group_share_path}")
        lines.append(f"  HQ token: {hq_token}")
        return "\n".join(lines)


async def load_demo_data(settings: Settings) -> DemoSummary:
    """Load the demo chain once; on a database that has it, describe what is there."""
    prepare_demo_clip(settings.var_path)  # what its rooms play
    async with services_scope(settings) as services, services.sessionmaker() as session:
        await seed_demo_tables(services)
        await bring_demo_live(services)
        return await _summary(session)


async def seed_demo_tables(services: Services) -> None:
    """The demo's rows, written once: the chain, its past, last night's follow-up tasks, the
    segments and the score roll-ups. SQL only, so a test session can keep the result as a
    template database and copy it per test (tests/conftest.py)."""
    async with services.sessionmaker() as session:
        async with session.begin():
            if await session.scalar(select(Store.id).limit(1)) is not None:
                return
            await seed_chain(session)
            last_night = await seed_last_night(session)
            await seed_store_history(session)
        await tasks_for_end(services, last_night)  # as the worker would on its end
        await refresh_segments(session, today=utcnow())  # the worker refreshes them nightly
        await roll_up_history(services)


async def bring_demo_live(services: Services) -> None:
    """Once, after the rows: launch tonight's live prices (which loads Redis and tells the
    rooms), open a group and leave an order on behalf waiting."""
    async with services.sessionmaker() as session:
        to_launch = await deals_to_launch(session)
    async with services.sessionmaker() as session:
        rooms = LiveRooms(services.redis)
        for deal_id in to_launch:
            _, news = await launch_deal(session, services.redis, deal_id)
            await rooms.publish(news)
    if to_launch:
        await open_demo_group(services)
        await place_waiting_on_behalf(services, to_launch)


async def _summary(session: AsyncSession) -> DemoSummary:
    hq = await session.scalar(select(Staff.id).where(Staff.role == "hq").order_by(Staff.id))
    names = {s.id: s.name for s in await session.scalars(select(Store))}
    hosts = [
        (s.id, s.store_id, names[s.store_id])
        for s in await session.scalars(select(Staff).where(Staff.role == "host"))
        if s.store_id is not None
    ]
    guides = [
        (g.id, g.store_id, g.share_code)
        for g in await session.scalars(select(Guide).order_by(Guide.id))
    ]
    hub_room = await session.scalar(
        select(Room.id)
        .join(Broadcast, Broadcast.id == Room.broadcast_id)
        .where(Broadcast.kind == "hub", Broadcast.status != BroadcastStatus.ENDED)
        .order_by(Room.id)
    )
    # Each store's first room: tonight's relay (the week's schedule adds later ones).
    store_rooms = {
        r.store_id: r.id
        for r in await session.scalars(
            select(Room)
            .join(Broadcast, Broadcast.id == Room.broadcast_id)
            .where(Room.store_id.is_not(None), Broadcast.status != BroadcastStatus.ENDED)
            .order_by(Room.id.desc())
        )
        if r.store_id is not None
    }
    assert hq is not None and hub_room is not None, "demo data is incomplete"
    group = await session.scalar(
        select(GroupBuy).where(GroupBuy.status == GroupStatus.OPEN).order_by(GroupBuy.opened_at)
    )
    share = share_path(group) if group else None
    return DemoSummary(hq, hosts, guides, hub_room, store_rooms, share)
