"""Segments on a data set whose figures and classes are worked out by hand below: RFML over
online credited sales (net of refunds) and linked in-store sales, the eight RFM classes against
the medians, sleeping customers, and the 10/30/60 tiers; and who may list them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from attribution.credit import credit_sale, reverse_credit
from attribution.jobs import refresh_customer_segments
from attribution.schemas import SegmentMember
from attribution.segments_classes import RfmClass, Tier
from attribution.segments_queries import customers_in_segment
from server import factories
from server.auth import Role
from server.services import Services

pytestmark = pytest.mark.database

TODAY = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

# customer: [(days ago, fen, "online" | "till")]
PURCHASES = {
    "A": [(10, 50000, "online"), (40, 30000, "online"), (100, 20000, "till")],
    "B": [(5, 80000, "till")],
    "C": [(300, 40000, "online"), (400, 40000, "online")],
    "D": [(500, 90000, "till")],
    "E": [(20, 5000, "online"), (60, 5000, "online")],
    "F": [(30, 3000, "online")],
    "G": [(200, 2000, "online"), (250, 2000, "till"), (350, 2000, "online")],
    "H": [(600, 1000, "till")],
    "I": [(15, 60000, "online")],  # and an order of 20000 at 12 days, refunded in full
    "J": [(150, 25000, "online")],  # refunded 5000; and an order 800 days ago, out of the period
    "K": [(800, 99000, "online")],  # nothing in the period: no segment
}
# R (days since last), F, M (fen), L (days first to last), as worked out from PURCHASES.
FIGURES = {
    "A": (10, 3, 100000, 90),
    "B": (5, 1, 80000, 0),
    "C": (300, 2, 80000, 100),
    "D": (500, 1, 90000, 0),
    "E": (20, 2, 10000, 40),
    "F": (30, 1, 3000, 0),
    "G": (200, 3, 6000, 150),
    "H": (600, 1, 1000, 0),
    "I": (15, 1, 60000, 0),
    "J": (150, 1, 20000, 0),
}
# Medians over the ten: R = (30 + 150) / 2 = 90 days, F = 1, M = (20000 + 60000) / 2 = 40000.
# Recent: R < 90 (A B E F I). Frequent: F > 1 (A C E G). High spend: M > 40000 (A B C D I).
CLASSES = {
    "A": RfmClass.IMPORTANT_VALUE,  # 重要价值: recent, frequent, high
    "B": RfmClass.IMPORTANT_DEVELOPMENT,  # 重要发展: recent, once, high
    "C": RfmClass.IMPORTANT_KEEP,  # 重要保持: long ago, frequent, high
    "D": RfmClass.IMPORTANT_WIN_BACK,  # 重要挽留: long ago, once, high
    "E": RfmClass.ORDINARY_VALUE,  # 一般价值: recent, frequent, low
    "F": RfmClass.ORDINARY_DEVELOPMENT,  # 一般发展: recent, once, low
    "G": RfmClass.ORDINARY_KEEP,  # 一般保持: long ago, frequent, low
    "H": RfmClass.ORDINARY_WIN_BACK,  # 一般挽留: long ago, once, low
    "I": RfmClass.IMPORTANT_DEVELOPMENT,  # the refunded order is no purchase
    "J": RfmClass.ORDINARY_WIN_BACK,  # 25000 less the 5000 refunded is low spend
}
# By spend: A 1st; D 2nd; B and C tie 3rd; then I, J, E, G, F, H. Of ten, the top 10% is rank
# 1 and the next 30% ranks 2 to 4 (the tie stays together).
TIERS = {
    "A": Tier.CORE,
    "D": Tier.HIGH_POTENTIAL,
    "B": Tier.HIGH_POTENTIAL,
    "C": Tier.HIGH_POTENTIAL,
    **{name: Tier.ORDINARY for name in "IJEGFH"},
}
SLEEPING = {"C", "D", "G", "H"}  # last purchase 300, 500, 200 and 600 days ago; J's is 150
HOME = {**{name: "north" for name in "ABCDE"}, **{name: "south" for name in "FGHIJK"}}


@pytest.fixture
def at_today() -> AsyncIterator[None]:
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
async def world(services: Services, at_today: None) -> dict[str, int]:
    """Two stores, the customers of PURCHASES, their sales; F is bound to a north guide."""
    async with services.sessionmaker() as session, session.begin():
        region = await factories.add_region(session)
        ids: dict[str, int] = {}
        for code in ("north", "south"):
            store = await factories.add_store(session, region_id=region.id, code=code, name=code)
            ids[code] = store.id
        for name in PURCHASES:
            customer = await factories.add_customer(
                session,
                f"openid-{name}",
                home_store_id=ids[HOME[name]],
                nickname=f"林{name}",
                phone=f"1380000000{ord(name) - ord('A')}",
            )
            ids[name] = customer.id
        guide = await factories.add_guide(session, ids["north"])
        ids["guide"] = guide.id
        await factories.add_binding(session, ids["F"], guide.id, ids["north"])
        for name, purchases in PURCHASES.items():
            for n, (days, fen, where) in enumerate(purchases):
                at = TODAY - timedelta(days=days)
                if where == "till":
                    await factories.add_instore_sale(
                        session,
                        ids[HOME[name]],
                        receipt_id=f"{name}-{n}",
                        amount_fen=fen,
                        sold_at=at,
                        customer_id=ids[name],
                    )
                else:
                    await sale(session, f"{name}-{n}", ids[name], fen, at)
        await sale(session, "I-refunded", ids["I"], 20000, TODAY - timedelta(days=12))
        await reverse_credit(session, order_id="I-refunded", refund_id="r1", amount_fen=20000)
        await reverse_credit(session, order_id="J-0", refund_id="r2", amount_fen=5000)
        await sale(session, "J-old", ids["J"], 99000, TODAY - timedelta(days=800))
        # A till sale whose phone matched nobody counts for its store, in no one's segment.
        await factories.add_instore_sale(
            session, ids["north"], receipt_id="anon", amount_fen=500000, sold_at=TODAY
        )
    await refresh_customer_segments({"services": services})
    return ids


async def sale(session: object, order_id: str, customer_id: int, fen: int, at: datetime) -> None:
    await credit_sale(
        session,  # type: ignore[arg-type]
        order_id=order_id,
        customer_id=customer_id,
        amount_fen=fen,
        room_store_id=None,
        at=at,
    )


async def segments(
    services: Services, world: dict[str, int], **filters: object
) -> dict[str, SegmentMember]:
    names = {customer_id: name for name, customer_id in world.items() if len(name) == 1}
    async with services.sessionmaker() as session:
        members = await customers_in_segment(session, **filters)  # type: ignore[arg-type]
    return {names[member.customer_id]: member for member in members}


async def test_rfml_counts_online_sales_net_of_refunds_and_linked_till_sales(
    services: Services, world: dict[str, int]
) -> None:
    found = await segments(services, world)
    assert {
        name: (m.recency_days, m.frequency, m.monetary_fen, m.length_days)
        for name, m in found.items()
    } == FIGURES


async def test_each_customer_falls_in_the_rfm_class_worked_out_by_hand(
    services: Services, world: dict[str, int]
) -> None:
    found = await segments(services, world)
    assert {name: m.rfm_class for name, m in found.items()} == CLASSES
    assert found["A"].rfm_class_zh == "重要价值"
    assert found["H"].rfm_class_zh == "一般挽留"
    for rfm_class in RfmClass:
        listed = await segments(services, world, rfm_class=rfm_class)
        assert set(listed) == {name for name, c in CLASSES.items() if c is rfm_class}


async def test_sleeping_customers_have_not_bought_for_180_to_720_days(
    services: Services, world: dict[str, int]
) -> None:
    assert set(await segments(services, world, sleeping=True)) == SLEEPING
    assert set(await segments(services, world, sleeping=False)) == set(FIGURES) - SLEEPING


async def test_the_top_tenth_by_spend_is_core_and_the_next_three_tenths_high_potential(
    services: Services, world: dict[str, int]
) -> None:
    found = await segments(services, world)
    assert {name: m.tier for name, m in found.items()} == TIERS
    assert list(await segments(services, world, tier=Tier.HIGH_POTENTIAL)) == ["D", "B", "C"]


async def test_refreshing_again_gives_the_same_segments(
    services: Services, world: dict[str, int], at_today: None
) -> None:
    def figures(found: dict[str, SegmentMember]) -> dict[str, SegmentMember]:
        return {name: msgspec.structs.replace(m, computed_at=TODAY) for name, m in found.items()}

    before = await segments(services, world)
    assert await refresh_customer_segments({"services": services}) == len(FIGURES)
    assert figures(await segments(services, world)) == figures(before)


async def test_a_customer_belongs_to_the_bound_guides_store_else_their_home_store(
    services: Services, world: dict[str, int]
) -> None:
    assert set(await segments(services, world, store_id=world["north"])) == set("ABCDEF")
    assert set(await segments(services, world, store_id=world["south"])) == set("GHIJ")
    assert set(await segments(services, world, guide_id=world["guide"])) == {"F"}


@pytest.fixture
async def as_role(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> Callable[..., dict[str, str]]:
    def headers(role: Role, store: str | None = None) -> dict[str, str]:
        store_id = world[store] if store else None
        return {"Authorization": f"Bearer {token_for(role, 1, store_id)}"}

    return headers


async def listed(
    client: AsyncTestClient[Litestar], headers: dict[str, str], query: str = ""
) -> set[str]:
    response = await client.get(f"/api/segments/customers{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {member["nickname"][1:] for member in response.json()}


async def test_hq_lists_every_store_and_filters_by_segment(
    client: AsyncTestClient[Litestar], as_role: Callable[..., dict[str, str]]
) -> None:
    assert await listed(client, as_role(Role.HQ)) == set(FIGURES)
    assert await listed(client, as_role(Role.HQ), "?sleeping=true&tier=high_potential") == {
        "C",
        "D",
    }
    response = await client.get(
        "/api/segments/customers?rfm_class=important_value", headers=as_role(Role.HQ)
    )
    [member] = response.json()
    assert member["phone_masked"] == "138****0000"
    assert "phone" not in member


async def test_a_host_sees_only_their_stores_customers(
    client: AsyncTestClient[Litestar], as_role: Callable[..., dict[str, str]], world: dict[str, int]
) -> None:
    host = as_role(Role.HOST, "south")
    assert await listed(client, host) == set("GHIJ")
    assert await listed(client, host, "?sleeping=true") == {"G", "H"}
    other = await client.get(f"/api/segments/customers?store_id={world['north']}", headers=host)
    assert other.status_code == 403
    summary = (await client.get("/api/segments/summary", headers=host)).json()
    assert (summary["customers"], summary["sleeping"]) == (4, 2)
    assert summary["by_tier"] == {"core": 0, "high_potential": 0, "ordinary": 4}


async def test_guides_and_viewers_may_not_list_segments(
    client: AsyncTestClient[Litestar], as_role: Callable[..., dict[str, str]]
) -> None:
    for headers in (as_role(Role.GUIDE, "north"), as_role(Role.VIEWER)):
        for path in ("/api/segments/customers", "/api/segments/summary"):
            assert (await client.get(path, headers=headers)).status_code == 403
