"""HQ's store KPIs, scores and rankings on a data set whose figures are worked out by hand
below; the daily roll-up; the guide contest; CSV export; and who may see any of it."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.followups_figures import figures
from live.kpis import before_after, store_kpis
from live.scores_job import roll_up_scores
from live.scores_models import StoreScoreDay
from live.scores_rollup import roll_up
from server import factories
from server.auth import Role
from server.services import Services

pytestmark = pytest.mark.database

TODAY = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
SINCE = TODAY - timedelta(days=7)
"""The period of every figure below: [SINCE, TODAY)."""
C_FIRST = TODAY - timedelta(days=60)
"""Store C first went live 60 days ago (a middle-phase store); A and B this week (early)."""

# What the world below gives, per store, over [SINCE, TODAY):
#  live minutes: A 30 (of a broadcast begun an hour before SINCE) + 90 + 60; B 120
#  sessions: A 2 (the one begun before SINCE is not this period's), B 1
#  live sales: A 30000 - 5000 refunded (99999 ten days ago is outside); B 50000
#  online credited: A 25000 + 10000 (not bought live); B 50000; C 0
#  till: A 65000 (four receipts), B 150000, C 10000 -> private share A 0.35, B 0.25, C 0
#  tasks: A 3 done of 4 due (a cancelled one and one due 10 days ago left out); B 1 of 2
#  add-fan: A 2 new fans by share (not the import, not the one 10 days ago) / 4 till
#  receipts; B 0 / 1; C 0 / 1
#  sleeping: A's S1 (last bought 200 days before) woke, S2 (300) did not, S3 (100) is awake
#  missed: B 1
KPIS = {
    "A": (180, 2, 25000, 35000, 65000, 0.35, 0.75, 0.5, 0.5, 0),
    "B": (120, 1, 50000, 50000, 150000, 0.25, 0.5, 0.0, 0.0, 1),
    "C": (0, 0, 0, 0, 10000, 0.0, 0.0, 0.0, 0.0, 0),
}
ZERO = dict.fromkeys(
    (
        "live_minutes",
        "sessions",
        "live_sales",
        "private_share",
        "execution",
        "add_fan",
        "reactivation",
        "missed_slots",
    ),
    0,
)
WEIGHTS = {
    "early": {**ZERO, "live_minutes": 50, "live_sales": 50},
    "middle": {**ZERO, "missed_slots": 10},
    "later": {**ZERO, "execution": 1},
}
# A (early): 50 * 180/180 + 50 * 25000/50000 = 75 of 100 points -> 75.0
# B (early): 50 * 120/180 + 50 * 50000/50000 = 83.33 of 100 -> 83.33
# C (middle): 10 * (1 - 0/1 missed) of 10 -> 100.0
SCORES = {"C": 100.0, "B": 83.33, "A": 75.0}


@pytest.fixture
def at_today() -> AsyncIterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


async def _world(services: Services) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with services.sessionmaker() as s, s.begin():
        east = await factories.add_region(s, "华东")
        south = await factories.add_region(s, "华南")
        ids["east"], ids["south"] = east.id, south.id
        for code, region in (("A", east), ("B", east), ("C", south)):
            store = await factories.add_store(s, region_id=region.id, code=code, name=f"店{code}")
            ids[code] = store.id
        for name, store in (("gA1", "A"), ("gA2", "A"), ("gB1", "B"), ("gC1", "C")):
            guide = await factories.add_guide(
                s, ids[store], name=name, share_code=name, phone="13900000001"
            )
            ids[name] = guide.id
        homes = {
            **dict.fromkeys(("v1", "v2", "f1", "f2", "f3", "f4", "S1", "S2", "S3", "x"), "A"),
            **dict.fromkeys(("v3", "m1", "m2"), "B"),
            "m3": "A",
        }
        homes.update(m1="C", m2="C")
        for name, home in homes.items():
            customer = await factories.add_customer(s, f"o-{name}", home_store_id=ids[home])
            ids[name] = customer.id

        # Broadcasts: A three (one begun an hour before SINCE), B one and a missed slot, C one
        # 60 days ago.
        a0, _ = await factories.add_aired_broadcast(
            s, ids["A"], started_at=SINCE - timedelta(hours=1), minutes=90
        )
        a1, room_a1 = await factories.add_aired_broadcast(
            s, ids["A"], started_at=TODAY - timedelta(days=3), minutes=90
        )
        _, room_a2 = await factories.add_aired_broadcast(
            s, ids["A"], started_at=TODAY - timedelta(days=2), minutes=60
        )
        b1, room_b1 = await factories.add_aired_broadcast(
            s, ids["B"], started_at=TODAY - timedelta(days=2), minutes=120
        )
        await factories.add_broadcast(
            s,
            kind="store",
            status="missed",
            store_id=ids["B"],
            starts_at=TODAY - timedelta(days=1),
        )
        await factories.add_aired_broadcast(s, ids["C"], started_at=C_FIRST, minutes=60)

        # Viewers: A's rooms saw v1, v2, f1 (twice), f2; B's v1 and v3.
        for room, name, days in (
            (room_a1, "v1", 3),
            (room_a1, "v2", 3),
            (room_a1, "f1", 3),
            (room_a2, "f1", 2),
            (room_a2, "f2", 2),
            (room_b1, "v1", 2),
            (room_b1, "v3", 2),
        ):
            await factories.add_viewer_session(
                s, room.id, ids[name], joined_at=TODAY - timedelta(days=days)
            )
        # Fans: f1, f2 by share this week; f3 imported; f4 by share 10 days ago. m3 is C's.
        for name, source, days in (
            ("f1", "share", 2),
            ("f2", "scan", 2),
            ("f3", "import", 2),
            ("f4", "share", 10),
        ):
            await factories.add_binding(
                s,
                ids[name],
                ids["gA1"],
                ids["A"],
                source=source,
                bound_at=TODAY - timedelta(days=days),
            )
        await factories.add_binding(
            s,
            ids["m3"],
            ids["gC1"],
            ids["C"],
            source="import",
            bound_at=C_FIRST - timedelta(days=30),
        )

        # Online credits.
        await factories.add_sale_credit(
            s,
            "a-live",
            ids["v1"],
            30000,
            at=TODAY - timedelta(days=3),
            store_id=ids["A"],
            guide_id=ids["gA1"],
            broadcast_id=a1.id,
        )
        await factories.add_sale_credit(
            s,
            "a-live",
            ids["v1"],
            -5000,
            at=TODAY - timedelta(days=1),
            store_id=ids["A"],
            guide_id=ids["gA1"],
            broadcast_id=a1.id,
            refund_id="r1",
        )
        await factories.add_sale_credit(
            s,
            "a-old",
            ids["v1"],
            99999,
            at=TODAY - timedelta(days=10),
            store_id=ids["A"],
            guide_id=ids["gA1"],
            broadcast_id=a0.id,
        )
        await factories.add_sale_credit(
            s,
            "a-shared",
            ids["v2"],
            10000,
            at=TODAY - timedelta(days=4),
            store_id=ids["A"],
            guide_id=ids["gA2"],
        )
        await factories.add_sale_credit(
            s,
            "b-live",
            ids["v3"],
            50000,
            at=TODAY - timedelta(days=2),
            store_id=ids["B"],
            guide_id=ids["gB1"],
            broadcast_id=b1.id,
        )

        # Till sales this week, and the sleepers' purchases long ago.
        till = [
            *(("A", None, fen, TODAY - timedelta(days=3)) for fen in (20000, 15000, 15000, 15000)),
            ("B", None, 150000, TODAY - timedelta(days=3)),
            ("C", "S1", 10000, TODAY - timedelta(days=1)),  # S1 wakes, buying at C
            ("A", "S1", 7000, SINCE - timedelta(days=200)),
            ("A", "S2", 7000, SINCE - timedelta(days=300)),
            ("A", "S3", 7000, SINCE - timedelta(days=100)),
        ]
        # C's members (m1, m2 at home; m3 bound to its guide) around its first broadcast.
        till += [
            ("C", "m1", 10000, C_FIRST - timedelta(days=3)),
            ("C", "m1", 5000, C_FIRST + timedelta(days=2)),
            ("C", "m2", 8000, C_FIRST + timedelta(days=20)),  # after the two weeks
            ("C", "x", 9000, C_FIRST + timedelta(days=3)),  # not C's member
        ]
        for n, (store, who, fen, at) in enumerate(till):
            await factories.add_instore_sale(
                s,
                ids[store],
                receipt_id=f"t{n}",
                amount_fen=fen,
                sold_at=at,
                customer_id=ids[who] if who else None,
            )
        await factories.add_sale_credit(
            s, "m1-online", ids["m1"], 10000, at=C_FIRST + timedelta(days=1), store_id=ids["C"]
        )
        await factories.add_sale_credit(
            s,
            "m3-online",
            ids["m3"],
            20000,
            at=C_FIRST + timedelta(days=5),
            store_id=ids["C"],
            guide_id=ids["gC1"],
        )

        # Tasks.
        for guide, store, status, days in (
            ("gA1", "A", "done", 1),
            ("gA1", "A", "done", 2),
            ("gA1", "A", "done", 3),
            ("gA2", "A", "open", 1),
            ("gA2", "A", "cancelled", 1),
            ("gA1", "A", "done", 10),
            ("gB1", "B", "done", 1),
            ("gB1", "B", "expired", 2),
        ):
            await factories.add_task(
                s,
                ids["v1"],
                store_id=ids[store],
                guide_id=ids[guide],
                status=status,
                due_at=TODAY - timedelta(days=days),
            )
    return ids


@pytest.fixture
async def world(services: Services, at_today: None) -> dict[str, int]:
    return await _world(services)


def headers(
    token_for: Callable[..., str], role: Role, store_id: int | None = None
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role, 1, store_id)}"}


async def test_each_kpi_of_each_store_is_the_one_worked_out_by_hand(
    services: Services, world: dict[str, int]
) -> None:
    async with services.sessionmaker() as session:
        figures = await store_kpis(session, since=SINCE, until=TODAY)
    found = {
        k.code: (
            k.live_minutes,
            k.sessions,
            k.live_sales_fen,
            k.online_fen,
            k.instore_fen,
            k.private_share,
            k.execution_rate,
            k.add_fan_rate,
            k.reactivation_rate,
            k.missed_slots,
        )
        for k in figures
    }
    assert found == KPIS
    a = next(k for k in figures if k.code == "A")
    assert (a.viewers, a.new_fans, a.store_transactions) == (4, 2, 4)
    assert (a.asleep, a.woken, a.tasks_due, a.tasks_done) == (2, 1, 4, 3)


async def test_members_buy_more_often_after_their_store_first_broadcast(
    services: Services, world: dict[str, int]
) -> None:
    async with services.sessionmaker() as session:
        report = {r.store_id: r for r in await before_after(session, weeks=2)}
    c = report[world["C"]]
    assert c.first_broadcast_at == C_FIRST
    assert c.before is not None and c.after is not None
    # Members m1, m2, m3. Before: m1's 10000. After: m1's 10000 online and 5000 till, m3's
    # 20000 (m2's purchase on day 20 and x's are not counted).
    assert (c.before.members, c.before.purchases, c.before.sales_fen) == (3, 1, 10000)
    assert (c.after.members, c.after.purchases, c.after.sales_fen) == (3, 3, 35000)
    assert (c.frequency_change, c.sales_change) == (2.0, 2.5)


async def test_the_score_and_ranking_follow_the_weights_hq_set(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    world: dict[str, int],
) -> None:
    hq = headers(token_for, Role.HQ)
    put = await client.put("/api/hq/scores/weights", json=WEIGHTS, headers=hq)
    assert put.status_code == 200, put.text
    period = {"from": SINCE.isoformat(), "to": TODAY.isoformat(), "bottom": 1}
    answer = await client.get("/api/hq/scores/ranking", params=period, headers=hq)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["stores"]
    assert [(r["code"], r["score"]) for r in rows] == list(SCORES.items())
    assert [(r["code"], r["phase"]) for r in rows] == [
        ("C", "middle"),
        ("B", "early"),
        ("A", "early"),
    ]
    assert [(r["rank_overall"], r["rank_region"], r["bottom"]) for r in rows] == [
        (1, 1, False),
        (2, 1, False),
        (3, 2, True),
    ]
    east = await client.get(
        "/api/hq/scores/ranking", params={**period, "region_id": world["east"]}, headers=hq
    )
    assert [r["code"] for r in east.json()["stores"]] == ["B", "A"]


async def test_weights_of_a_phase_all_zero_are_refused(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> None:
    hq = headers(token_for, Role.HQ)
    bad = {**WEIGHTS, "later": ZERO}
    answer = await client.put("/api/hq/scores/weights", json=bad, headers=hq)
    assert answer.status_code == 400
    assert "later" in answer.json()["detail"]


async def test_guides_rank_by_credited_sales_or_by_execution_rate(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> None:
    hq = headers(token_for, Role.HQ)
    period = {"from": SINCE.isoformat(), "to": TODAY.isoformat()}
    by_sales = (await client.get("/api/hq/scores/guides", params=period, headers=hq)).json()
    assert [(g["guide"], g["credited_fen"], g["execution_rate"]) for g in by_sales] == [
        ("gB1", 50000, 0.5),
        ("gA1", 25000, 1.0),
        ("gA2", 10000, 0.0),
        ("gC1", 0, 0.0),
    ]
    by_execution = (
        await client.get("/api/hq/scores/guides", params={**period, "by": "execution"}, headers=hq)
    ).json()
    assert [g["guide"] for g in by_execution] == ["gA1", "gB1", "gA2", "gC1"]
    assert [g["rank"] for g in by_execution] == [1, 2, 3, 4]


async def test_rolling_a_day_up_twice_changes_nothing(
    services: Services, world: dict[str, int]
) -> None:
    async def rows() -> list[tuple[Any, ...]]:
        async with services.sessionmaker() as session:
            found = await session.scalars(select(StoreScoreDay).order_by(StoreScoreDay.id))
            return [
                tuple(getattr(r, c.key) for c in StoreScoreDay.__table__.columns) for r in found
            ]

    assert await roll_up_scores({"services": services}) == 6  # two days, three stores
    first = await rows()
    assert len(first) == 6
    assert {r[1] for r in first} == {date(2026, 6, 28), date(2026, 6, 29)}
    with time_machine.travel(TODAY + timedelta(minutes=5), tick=False):
        await roll_up_scores({"services": services})
    assert await rows() == first


async def test_a_day_rolled_up_again_after_new_facts_is_rewritten_in_place(
    services: Services, world: dict[str, int]
) -> None:
    day = date(2026, 6, 29)
    async with services.sessionmaker() as session:
        await roll_up(session, day)
    async with services.sessionmaker() as s, s.begin():
        await factories.add_aired_broadcast(
            s, world["C"], started_at=TODAY - timedelta(days=2), minutes=30
        )
    async with services.sessionmaker() as session:
        await roll_up(session, day)
        rows = (await session.scalars(select(StoreScoreDay).where(StoreScoreDay.day == day))).all()
    assert len(rows) == 3
    assert {r.store_id: r.live_minutes for r in rows}[world["C"]] == 30


async def test_two_roll_ups_of_one_day_at_once_both_finish_with_one_row_per_store(
    services: Services, world: dict[str, int]
) -> None:
    day = date(2026, 6, 29)

    async def roll_up_alone() -> int:
        async with services.sessionmaker() as session:
            return (await roll_up(session, day)).stores

    assert await asyncio.gather(roll_up_alone(), roll_up_alone()) == [3, 3]
    async with services.sessionmaker() as session:
        rows = (await session.scalars(select(StoreScoreDay).where(StoreScoreDay.day == day))).all()
    assert sorted(r.store_id for r in rows) == sorted((world["A"], world["B"], world["C"]))


async def test_trends_give_each_store_its_daily_scores(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    world: dict[str, int],
) -> None:
    async with services.sessionmaker() as session:
        for back in (3, 2, 1):
            await roll_up(session, date(2026, 6, 30) - timedelta(days=back))
    answer = await client.get("/api/hq/scores/trends", headers=headers(token_for, Role.HQ))
    assert answer.status_code == 200, answer.text
    trends = {t["store"]: t["points"] for t in answer.json()}
    assert [p["day"] for p in trends["店A"]] == ["2026-06-27", "2026-06-28", "2026-06-29"]


async def test_every_table_exports_as_csv_excel_opens(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> None:
    hq = headers(token_for, Role.HQ)
    period = {"from": SINCE.isoformat(), "to": TODAY.isoformat()}
    for path, first_column, rows in (
        ("/api/hq/scores/ranking/csv", "store_id", 3),
        ("/api/hq/scores/guides/csv", "rank", 4),
        ("/api/hq/kpis/csv", "store_id", 3),
        ("/api/hq/kpis/before-after/csv", "store_id", 3),
    ):
        answer = await client.get(path, params=period, headers=hq)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.content.startswith(b"\xef\xbb\xbf"), path
        table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert len(table) == rows, path
        assert next(iter(table[0])) == first_column
    ranking = (await client.get("/api/hq/scores/ranking/csv", params=period, headers=hq)).text
    assert "店A" in ranking and "kpis.live_sales_fen" in ranking


HQ_ROUTES = [
    ("GET", "/api/hq/kpis"),
    ("GET", "/api/hq/kpis/csv"),
    ("GET", "/api/hq/kpis/before-after"),
    ("GET", "/api/hq/kpis/before-after/csv"),
    ("GET", "/api/hq/scores/weights"),
    ("PUT", "/api/hq/scores/weights"),
    ("GET", "/api/hq/scores/ranking"),
    ("GET", "/api/hq/scores/ranking/csv"),
    ("GET", "/api/hq/scores/trends"),
    ("POST", "/api/hq/scores/rollup"),
    ("GET", "/api/hq/scores/guides"),
    ("GET", "/api/hq/scores/guides/csv"),
]


async def test_only_hq_sees_or_changes_scores_and_kpis(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> None:
    callers = {
        Role.HQ: headers(token_for, Role.HQ),
        Role.HOST: headers(token_for, Role.HOST, world["A"]),
        Role.GUIDE: headers(token_for, Role.GUIDE, world["A"]),
        Role.VIEWER: headers(token_for, Role.VIEWER),
    }
    for method, path in HQ_ROUTES:
        body = WEIGHTS if method == "PUT" else None
        for role, caller in callers.items():
            answer = await client.request(method, path, json=body, headers=caller)
            expected = 200 if role is Role.HQ else 403
            assert answer.status_code == expected, (method, path, role, answer.text)
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)


async def test_a_period_backwards_naive_or_out_of_range_is_refused(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], world: dict[str, int]
) -> None:
    hq = headers(token_for, Role.HQ)
    for start, end in (
        (TODAY.isoformat(), SINCE.isoformat()),
        ("2026-06-01T00:00:00", "2026-06-08T00:00:00"),
        ("0001-01-01T00:00:00+00:00", "0001-01-02T00:00:00+00:00"),
    ):
        answer = await client.get(
            "/api/hq/scores/ranking", params={"from": start, "to": end}, headers=hq
        )
        assert answer.status_code == 400, (start, answer.text)
        assert answer.json()["status_code"] == 400
    far = await client.post("/api/hq/scores/rollup", params={"day": "9999-12-31"}, headers=hq)
    assert far.status_code == 400


async def test_a_stores_add_fan_and_execution_rates_are_the_same_on_scores_and_follow_ups(
    services: Services, world: dict[str, int]
) -> None:
    async with services.sessionmaker() as session:
        scored = {k.store_id: k for k in await store_kpis(session, since=SINCE, until=TODAY)}
        for code in ("A", "B", "C"):
            kpis = scored[world[code]]
            followed = await figures(session, since=SINCE, until=TODAY, store_id=world[code])
            assert (kpis.add_fan_rate, kpis.execution_rate) == (
                followed.add_fan_rate,
                followed.execution_rate,
            )
            assert (kpis.new_fans, kpis.store_transactions) == (
                followed.new_fans,
                followed.store_transactions,
            )
