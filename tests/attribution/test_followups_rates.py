"""Add-fan rate (new bindings / store transactions) and repurchase rate (customers who bought
twice or more / customers who bought), for a guide, a store, a region and the chain, on a
known data set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_figures import figures
from attribution.models import SaleCredit
from server import factories
from server.auth import Role
from server.model_base import utcnow
from server.services import Services

pytestmark = pytest.mark.database


@dataclass
class RatesWorld:
    since: datetime
    until: datetime
    east: int
    north: int
    stores: dict[str, int]
    guides: dict[str, int]


async def build(session: AsyncSession) -> RatesWorld:
    until = utcnow()
    since = until - timedelta(days=30)
    inside, before = until - timedelta(days=3), since - timedelta(days=5)
    east = await factories.add_region(session, "华东")
    north = await factories.add_region(session, "华北")
    stores = {
        "A": (await factories.add_store(session, region_id=east.id, code="A")).id,
        "B": (await factories.add_store(session, region_id=east.id, code="B")).id,
        "C": (await factories.add_store(session, region_id=north.id, code="C")).id,
    }
    guides = {
        name: (await factories.add_guide(session, stores[name[0].upper()], share_code=name)).id
        for name in ("a1", "a2", "b1", "c1")
    }
    n = count()

    async def customer() -> int:
        return (await factories.add_customer(session, f"r-{next(n)}", home_store_id=None)).id

    # New fans: a1 2 shares + 1 scan, a2 1 share, b1 2 shares, c1 1 share; not counted: a1's
    # transfer in the period, a2's import, a1's share before the period.
    bindings = [("a1", "share", inside)] * 2 + [("a1", "scan", inside), ("a2", "share", inside)]
    bindings += [("b1", "share", inside)] * 2 + [("c1", "share", inside)]
    bindings += [("a1", "transfer", inside), ("a2", "import", inside), ("a1", "share", before)]
    for guide, source, at in bindings:
        await factories.add_binding(
            session,
            await customer(),
            guides[guide],
            stores[guide[0].upper()],
            source=source,
            bound_at=at,
        )
    k1, k2, k3, k4, k5 = [await customer() for _ in range(5)]
    receipts = count()

    async def till(store: str, customer_id: int | None = None, at: datetime = inside) -> None:
        await factories.add_instore_sale(
            session,
            stores[store],
            receipt_id=f"t-{next(receipts)}",
            amount_fen=10000,
            sold_at=at,
            customer_id=customer_id,
        )

    # Till transactions: A 8 (one names k2), B 2, C 5 (three name k5); one of A's before.
    for _ in range(7):
        await till("A")
    await till("A", k2)
    await till("A", at=before)
    for _ in range(2):
        await till("B")
    for _ in range(2):
        await till("C")
    for _ in range(3):
        await till("C", k5)

    def credit(order: str, who: int, guide: str, at: datetime, amount: int = 20000) -> SaleCredit:
        return SaleCredit(
            order_id=order,
            kind="sale" if amount > 0 else "reversal",
            refund_id=None if amount > 0 else f"r-{order}",
            customer_id=who,
            guide_id=guides[guide],
            store_id=stores[guide[0].upper()],
            room_store_id=None,
            rule="bound_guide",
            amount_fen=amount,
            created_at=at,
        )

    # k1 bought twice from a1; k2 once online (and once at A's till); k3 twice but one fully
    # refunded; k4 once from b1 in the period and once before it.
    session.add_all(
        [
            credit("o1", k1, "a1", inside),
            credit("o2", k1, "a1", inside),
            credit("o3", k2, "a1", inside),
            credit("o4", k3, "a1", inside),
            credit("o5", k3, "a1", inside),
            credit("o5", k3, "a1", inside, amount=-20000),
            credit("o6", k4, "b1", inside),
            credit("o7", k4, "b1", before),
        ]
    )
    await session.flush()
    return RatesWorld(since, until, east.id, north.id, stores, guides)


@pytest.fixture
async def world(services: Services) -> RatesWorld:
    async with services.sessionmaker() as session, session.begin():
        return await build(session)


@pytest.mark.parametrize(
    ("scope", "fans", "transactions", "add_fan", "buyers", "repeat", "repurchase"),
    [
        # a1 against store A's 8 receipts; her buyers k1, k2, k3, and only k1 bought twice.
        ({"guide": "a1"}, 3, 8, 0.375, 3, 1, 0.3333),
        # Store A: k2's till receipt makes her a repeat buyer too.
        ({"store": "A"}, 4, 8, 0.5, 3, 2, 0.6667),
        ({"store": "B"}, 2, 2, 1.0, 1, 0, 0.0),
        ({"store": "C"}, 1, 5, 0.2, 1, 1, 1.0),
        ({"region": "east"}, 6, 10, 0.6, 4, 2, 0.5),
        ({}, 7, 15, 0.4667, 5, 3, 0.6),
    ],
)
async def test_add_fan_and_repurchase_rates_per_scope(
    services: Services,
    world: RatesWorld,
    scope: dict[str, str],
    fans: int,
    transactions: int,
    add_fan: float,
    buyers: int,
    repeat: int,
    repurchase: float,
) -> None:
    async with services.sessionmaker() as session:
        found = await figures(
            session,
            since=world.since,
            until=world.until,
            guide_id=world.guides[scope["guide"]] if "guide" in scope else None,
            store_id=world.stores[scope["store"]] if "store" in scope else None,
            region_id={"east": world.east}.get(scope.get("region", "")),
        )
    assert (found.new_fans, found.store_transactions, found.add_fan_rate) == (
        fans,
        transactions,
        add_fan,
    )
    assert (found.buyers, found.repeat_buyers, found.repurchase_rate) == (
        buyers,
        repeat,
        repurchase,
    )


async def test_hq_asks_for_a_regions_rates_and_reads_their_definitions(
    client: AsyncTestClient[Litestar],
    world: RatesWorld,
    token_for: Callable[..., str],
) -> None:
    headers = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}
    response = await client.get(
        "/api/followups/figures",
        params={"region_id": world.north, "since": world.since.isoformat()},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["add_fan_rate"], body["repurchase_rate"]) == (0.2, 1.0)
    assert "加粉率" in body["add_fan_rate_means"] and "twice" in body["repurchase_rate_means"]
    guide = {
        "Authorization": f"Bearer {token_for(Role.GUIDE, world.guides['a1'], world.stores['A'])}"
    }
    refused = await client.get(
        "/api/followups/figures", params={"region_id": world.east}, headers=guide
    )
    assert refused.status_code == 403
