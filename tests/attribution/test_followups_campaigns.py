"""Recall campaigns: HQ touches the sleeping customers outside do-not-disturb, core customers
protected; the ones who did not pay get one second touch; progress per store and guide."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

import attribution.followups_campaigns
from attribution.care import after_sale
from attribution.credit import credit_sale
from attribution.followups_outcomes import retouch_due
from attribution.models import FollowupTask, RecallCampaign
from server import factories
from server.auth import Role
from server.model_base import utcnow
from server.services import Services

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]
CAMPAIGN = {
    "name": "冬季唤醒",
    "invitation_url": "https://example.com/static/room.html?room=1",
    "script_zh": "好久不见，今晚直播有老顾客专享价",
    "script_en": "Long time no see: tonight's live show has a returning-customer price",
}


@dataclass
class Members:
    store_id: int
    guide_id: int
    customers: list[int]


@pytest.fixture
async def members(services: Services) -> Members:
    """c0 bought 100 days ago, c1 200 (bound), c2 400 (unbound), c3 800, c4 300 but was
    reached yesterday, c5 500 (core tier), c6 200 and again 10 days ago, c7 never."""
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        guide = await factories.add_guide(session, store.id)
        people = await factories.add_customers(session, 8, [store.id], "recall-")
        ids = [p.id for p in people]
        for n in (0, 1, 3, 4, 5, 6):
            await factories.add_binding(session, ids[n], guide.id, store.id)
        purchases = [(0, 100), (1, 200), (2, 400), (3, 800), (4, 300), (5, 500), (6, 200), (6, 10)]
        for n, (who, days) in enumerate(purchases):
            await credit_sale(
                session,
                order_id=f"past-{n}",
                customer_id=ids[who],
                amount_fen=50000,
                room_store_id=store.id,
                in_store=True,
                at=now - timedelta(days=days),
            )
        yesterday = now - timedelta(days=1)
        session.add(
            FollowupTask(
                kind="watched",
                customer_id=ids[4],
                guide_id=guide.id,
                store_id=store.id,
                status="done",
                outcome="reached",
                closed_at=yesterday,
                due_at=yesterday,
                expires_at=now,
            )
        )
    return Members(store.id, guide.id, ids)


@pytest.fixture
def core_c5(members: Members, monkeypatch: pytest.MonkeyPatch) -> None:
    async def tiers(session: object, ids: list[int]) -> dict[int, str]:
        return {members.customers[5]: "core"} if members.customers[5] in ids else {}

    monkeypatch.setattr(attribution.followups_campaigns, "customer_tiers", tiers)


def hq(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}


async def recall_tasks(services: Services) -> dict[int, FollowupTask]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(select(FollowupTask).where(FollowupTask.kind == "recall"))
        return {t.customer_id: t for t in rows}


@pytest.mark.usefixtures("core_c5")
async def test_a_campaign_touches_exactly_the_sleeping_customers_outside_do_not_disturb(
    client: Client, members: Members, token_for: Callable[..., str], services: Services
) -> None:
    c = members.customers

    response = await client.post("/api/campaigns", json=CAMPAIGN, headers=hq(token_for))

    assert response.status_code == 201, response.text
    assert (response.json()["touched_customers"], response.json()["left_out"]) == (2, 2)
    tasks = await recall_tasks(services)
    assert {cid: t.guide_id for cid, t in tasks.items()} == {c[1]: members.guide_id, c[2]: None}
    assert tasks[c[2]].store_id == members.store_id  # the unbound one: the store's pool
    guide = {"Authorization": f"Bearer {token_for(Role.GUIDE, members.guide_id, members.store_id)}"}
    queue = (await client.get("/api/followups/queue", headers=guide)).json()
    (mine,) = [t for t in queue["tasks"] if t["customer_id"] == c[1]]
    assert mine["script_zh"].endswith(CAMPAIGN["invitation_url"])


@pytest.mark.usefixtures("core_c5")
async def test_those_who_did_not_pay_get_one_second_touch_and_progress_counts_the_paid(
    client: Client, members: Members, token_for: Callable[..., str], services: Services
) -> None:
    c = members.customers
    started = await client.post("/api/campaigns", json=CAMPAIGN, headers=hq(token_for))
    campaign = started.json()["id"]
    guide = {"Authorization": f"Bearer {token_for(Role.GUIDE, members.guide_id, members.store_id)}"}
    tasks = await recall_tasks(services)
    for customer, outcome in ((c[1], "reached"), (c[2], "no_answer")):
        done = await client.post(
            f"/api/followups/tasks/{tasks[customer].id}/done",
            json={"outcome": outcome},
            headers=guide,
        )
        assert done.status_code == 200, done.text
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        await after_sale(  # c2 came back and paid three days after the touch
            session,
            order_id="back-2",
            customer_id=c[2],
            guide_id=None,
            store_id=members.store_id,
            paid_at=now + timedelta(days=3),
            ordered=[],
        )
    for _ in range(2):
        async with services.sessionmaker() as session, session.begin():
            await retouch_due(session, now + timedelta(days=14, minutes=1))

    async with services.sessionmaker() as session:
        again = list(
            await session.scalars(select(FollowupTask).where(FollowupTask.kind == "retouch"))
        )
    recalls = {t.id for t in tasks.values()}
    assert [t.customer_id for t in again if t.retouch_of_id in recalls] == [c[1]]
    progress = (
        await client.get(f"/api/campaigns/{campaign}/progress", headers=hq(token_for))
    ).json()
    total = progress["total"]
    assert (total["issued"], total["touched"], total["paid"]) == (2, 2, 1)
    assert total["reactivation_rate"] == 0.5 and "paid" in progress["reactivation_rate_means"]
    # c2's pool task became the guide's when done: one row, the guide's
    assert [(r["store_id"], r["guide_id"], r["touched"], r["paid"]) for r in progress["rows"]] == [
        (members.store_id, members.guide_id, 2, 1)
    ]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"min_days": 3000, "max_days": 3600}, 409),  # nobody sleeps that long
        ({"segment": "vip"}, 400),  # no such segment
        ({"min_days": 720, "max_days": 180}, 400),
    ],
)
async def test_an_empty_or_unknown_segment_is_refused_and_writes_nothing(
    client: Client,
    members: Members,
    token_for: Callable[..., str],
    services: Services,
    change: dict[str, object],
    status: int,
) -> None:
    response = await client.post(
        "/api/campaigns", json={**CAMPAIGN, **change}, headers=hq(token_for)
    )

    assert response.status_code == status, response.text
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RecallCampaign)) == 0
    assert await recall_tasks(services) == {}


async def test_a_guide_may_not_start_a_campaign(
    client: Client, members: Members, token_for: Callable[..., str]
) -> None:
    guide = {"Authorization": f"Bearer {token_for(Role.GUIDE, members.guide_id, members.store_id)}"}

    response = await client.post("/api/campaigns", json=CAMPAIGN, headers=guide)

    assert response.status_code == 403
