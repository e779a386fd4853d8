"""A known ended broadcast for the follow-up tests: a hub relayed by two stores, three guides,
ten viewers of whom two paid and one ordered without paying."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server import factories
from server.model_base import utcnow


@dataclass
class FollowupWorld:
    hub_id: int
    relay_a_id: int
    relay_b_id: int
    hub_room: int
    room_a: int
    room_b: int
    store_a: int
    store_b: int
    guides: dict[str, tuple[int, int]]
    """name -> (guide id, store id): a1, a2 of store A, b1 of store B."""
    customers: list[int]
    paid_orders: dict[int, str] = field(default_factory=dict)
    ended_at: datetime = field(default_factory=utcnow)

    def guide(self, name: str) -> int:
        return self.guides[name][0]

    @property
    def buyers(self) -> list[int]:
        return [self.customers[1], self.customers[4]]

    @property
    def unpaid(self) -> int:
        return self.customers[5]


async def build_followup_world(
    session: AsyncSession, *, ended_at: datetime | None = None
) -> FollowupWorld:
    """c0 watched the hub and store A (one task), c1 and c4 paid (none), c5 ordered and did not
    pay; c0-c3 are a1's, c4-c5 a2's, c6 b1's, c7-c8 unbound of store B, c9 unbound of store A."""
    end = ended_at or utcnow()
    start = end - timedelta(hours=2)
    region = await factories.add_region(session)
    store_a = await factories.add_store(session, region_id=region.id, code="SH01")
    store_b = await factories.add_store(
        session, region_id=region.id, code="HZ01", name="杭州湖滨店", city="杭州"
    )
    guides = {
        "a1": (await factories.add_guide(session, store_a.id, name="王丽", share_code="a1")).id,
        "a2": (await factories.add_guide(session, store_a.id, name="陈静", share_code="a2")).id,
        "b1": (await factories.add_guide(session, store_b.id, name="李娜", share_code="b1")).id,
    }
    hub = await factories.add_broadcast(session, status="ended", starts_at=start)
    hub.ended_at = end
    hub_room = await factories.add_room(session, hub.id)
    relay_a, room_a = await factories.add_store_relay(session, hub, store_a)
    relay_b, room_b = await factories.add_store_relay(session, hub, store_b)
    product = await factories.add_product(session)
    deal = await factories.add_deal(session, product.id, broadcast_id=hub.id, status="ended")
    homes = [store_a.id] * 6 + [store_b.id] * 3 + [store_a.id]
    customers = [
        (
            await factories.add_customer(
                session,
                f"fw-{n}",
                home_store_id=homes[n],
                nickname=f"林{n}",
                phone=f"1380000{n:04d}",
            )
        ).id
        for n in range(10)
    ]
    owners = ["a1"] * 4 + ["a2"] * 2 + ["b1"]
    for customer_id, owner in zip(customers, owners, strict=False):
        store = store_a.id if owner != "b1" else store_b.id
        await factories.add_binding(session, customer_id, guides[owner], store)
    rooms = [room_a.id] * 6 + [room_b.id] * 3 + [hub_room.id]
    for n, customer_id in enumerate(customers):
        await factories.add_viewer_session(
            session,
            rooms[n],
            customer_id,
            joined_at=start,
            watch_seconds=60 * (n + 1),
            taps=n % 3,
            chats=n % 2,
            likes=n,
        )
    await factories.add_viewer_session(  # c0 also watched the hub room
        session, hub_room.id, customers[0], joined_at=start, watch_seconds=300, taps=4
    )
    world = FollowupWorld(
        hub.id,
        relay_a.id,
        relay_b.id,
        hub_room.id,
        room_a.id,
        room_b.id,
        store_a.id,
        store_b.id,
        {k: (v, store_a.id if k != "b1" else store_b.id) for k, v in guides.items()},
        customers,
        ended_at=end,
    )
    for n in (1, 4):
        order = await factories.add_paid_order(
            session,
            deal,
            customers[n],
            room_store_id=store_a.id,
            at=start,
            idempotency_key=f"fw-paid-{n}",
        )
        world.paid_orders[customers[n]] = order.id
    await factories.add_unpaid_order(
        session,
        deal,
        customers[5],
        room_store_id=store_a.id,
        at=start,
        idempotency_key="fw-unpaid-5",
    )
    return world
