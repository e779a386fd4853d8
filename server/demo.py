"""`storecast demo-data`: a chain that looks real, assembled from each package's seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.credit import credit_sale
from attribution.demo import seed_org
from attribution.models import Guide, Staff, Store
from live.demo import link_window_deals, seed_broadcasts
from live.models import Broadcast, Room
from live.publish import LiveRooms
from orders.deals import launch_deal
from orders.demo import seed_catalogue, seed_purchase_history, seed_window_deals
from orders.models import Order
from server.auth import Principal, Role, TokenSigner
from server.services import services_scope
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
        ]
        for staff_id, store_id, name in self.hosts:
            token = signer.issue(Principal(Role.HOST, staff_id, store_id))
            room = self.store_rooms[store_id]
            lines.append(
                f"  host console {name}  {base}/static/host.html?room={room}&token={token}"
            )
        for guide_id, store_id, share_code in self.guides:
            token = signer.issue(Principal(Role.GUIDE, guide_id, store_id))
            room = self.store_rooms[store_id]
            lines.append(f"  guide {share_code} workbench  {base}/static/guide.html?token={token}")
            lines.append(
                f"  viewer room via {share_code}'s share  "
                f"{base}/static/room.html?room={room}&share={share_code}"
            )
        lines.append(f"  HQ token: {hq_token}")
        return "\n".join(lines)


async def load_demo_data(settings: Settings) -> DemoSummary:
    """Load the demo chain once; on a database that has it, describe what is there."""
    async with services_scope(settings) as services, services.sessionmaker() as session:
        to_launch: list[int] = []
        async with session.begin():
            if await session.scalar(select(Store.id).limit(1)) is None:
                to_launch = await _seed(session)
        for deal_id in to_launch:  # after the commit: launching loads Redis and tells rooms
            await launch_deal(session, services.redis, deal_id, rooms=LiveRooms(services.redis))
        return await _summary(session)


async def _seed(session: AsyncSession) -> list[int]:
    """Write the chain; returns the deals to launch once it is committed."""
    org = await seed_org(session)
    catalogue = await seed_catalogue(session)
    rng = random.Random(3)
    buyers = [(cid, rng.choice(org.store_ids)) for cid in org.customer_ids if rng.random() < 0.4]
    await seed_purchase_history(session, catalogue, buyers)
    for order in await session.scalars(select(Order).where(Order.status == "paid")):
        await credit_sale(
            session,
            order_id=order.id,
            customer_id=order.customer_id,
            amount_fen=order.amount_fen,
            room_store_id=order.room_store_id,
            in_store=True,
            at=order.paid_at,
        )
    names = {s.id: s.name for s in await session.scalars(select(Store))}
    window = [(pid, catalogue.list_prices[pid] * 8 // 10) for pid in catalogue.product_ids[:8]]
    broadcasts = await seed_broadcasts(
        session,
        hq_staff_id=org.hq_staff_id,
        host_ids=org.host_ids,
        store_names=names,
        window=window,
    )
    deals = await seed_window_deals(session, broadcasts.hub_broadcast_id, window)
    await link_window_deals(session, broadcasts.hub_broadcast_id, deals.by_product)
    return deals.to_launch


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
        .where(Broadcast.kind == "hub")
        .order_by(Room.id)
    )
    store_rooms = {
        r.store_id: r.id
        for r in await session.scalars(select(Room).where(Room.store_id.is_not(None)))
        if r.store_id is not None
    }
    assert hq is not None and hub_room is not None, "demo data is incomplete"
    return DemoSummary(hq, hosts, guides, hub_room, store_rooms)
