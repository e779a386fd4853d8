"""HTTP of HQ's store KPIs, score weights, rankings, trends and guide contests; every table
also as CSV (`.../csv`). HQ only: a store sees no other store's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from live.csv_export import csv_response
from live.kpis import KPI_DEFINITIONS, before_after, store_kpis
from live.scores import current_weights, guide_contest, ranking, set_weights
from live.scores_rollup import business_day, roll_up, trends
from live.scores_schemas import (
    BeforeAfter,
    GuideRank,
    KpiReport,
    Ranking,
    RollupReport,
    StoreTrend,
    Weights,
)
from server.auth import Principal, Role, allow
from server.errors import Invalid
from server.model_base import utcnow

HQ = allow(Role.HQ)
DEFAULT_PERIOD = timedelta(days=7)
LONGEST_PERIOD = timedelta(days=366)

Since = Annotated[datetime | None, Parameter(query="from", required=False)]
Until = Annotated[datetime | None, Parameter(query="to", required=False)]
RegionId = Annotated[int | None, Parameter(ge=1, le=2**31 - 1, required=False)]
BottomN = Annotated[int, Parameter(ge=0, le=100)]
Weeks = Annotated[int, Parameter(ge=1, le=52)]
Days = Annotated[int, Parameter(ge=1, le=366)]


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Figures look back up to two years (sleeping customers) from periods within these bounds,
far from the ends of what a datetime holds."""


class BadPeriod(Invalid):
    """A naive bound, `to` before `from`, a period over a year or outside 2000-2100."""


class GuideOrder(StrEnum):
    SALES = "sales"
    EXECUTION = "execution"


def period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[from, to): the last 7 days by default."""
    if (since and since.tzinfo is None) or (until and until.tzinfo is None):
        raise BadPeriod("'from' and 'to' need their UTC offset (2026-11-01T00:00:00+08:00)")
    for bound in (since, until):
        if bound is not None and not EARLIEST <= bound <= LATEST:
            raise BadPeriod("'from' and 'to' fall within the years 2000 to 2100")
    until = until or utcnow()
    since = since or until - DEFAULT_PERIOD
    if until <= since or until - since > LONGEST_PERIOD:
        raise BadPeriod("'to' comes after 'from', at most 366 days later")
    return since, until


def rollup_day(day: date | None) -> date:
    """The day asked for, yesterday (Beijing) by default."""
    if day is not None and not EARLIEST.date() <= day < LATEST.date():
        raise BadPeriod("the day falls within the years 2000 to 2100")
    return day or business_day(utcnow()) - timedelta(days=1)


class KpiController(Controller):
    path = "/api/hq/kpis"
    tags = ("hq",)

    @get("/", opt=HQ)
    async def kpis(self, db: AsyncSession, start: Since = None, end: Until = None) -> KpiReport:
        """Every store's KPIs over [from, to) (the last 7 days by default), with definitions."""
        since, until = period(start, end)
        figures = await store_kpis(db, since=since, until=until)
        return KpiReport(since, until, figures, KPI_DEFINITIONS)

    @get("/csv", opt=HQ, media_type="text/csv")
    async def kpis_csv(
        self, db: AsyncSession, start: Since = None, end: Until = None
    ) -> Response[bytes]:
        since, until = period(start, end)
        return csv_response(await store_kpis(db, since=since, until=until), "store-kpis.csv")

    @get("/before-after", opt=HQ)
    async def before_after(self, db: AsyncSession, weeks: Weeks = 4) -> list[BeforeAfter]:
        """Each store's members' purchase frequency and sales in the `weeks` after its first
        broadcast against the same span before."""
        return await before_after(db, weeks=weeks)

    @get("/before-after/csv", opt=HQ, media_type="text/csv")
    async def before_after_csv(self, db: AsyncSession, weeks: Weeks = 4) -> Response[bytes]:
        return csv_response(await before_after(db, weeks=weeks), "before-after.csv")


class ScoreController(Controller):
    path = "/api/hq/scores"
    tags = ("hq",)

    @get("/weights", opt=HQ)
    async def weights(self, db: AsyncSession) -> Weights:
        """The weight of each KPI in the score, per phase (early, middle, later)."""
        return await current_weights(db)

    @put("/weights", opt=HQ)
    async def set_weights(self, data: Weights, db: AsyncSession, caller: Principal) -> Weights:
        return await set_weights(db, data, caller.sub)

    @get("/ranking", opt=HQ)
    async def ranking(
        self,
        db: AsyncSession,
        start: Since = None,
        end: Until = None,
        region_id: RegionId = None,
        bottom: BottomN = 3,
    ) -> Ranking:
        """Stores by score over [from, to) (7 days to now by default), overall or in one
        region; the `bottom` last overall are flagged."""
        since, until = period(start, end)
        return await ranking(db, since=since, until=until, bottom_n=bottom, region_id=region_id)

    @get("/ranking/csv", opt=HQ, media_type="text/csv")
    async def ranking_csv(
        self,
        db: AsyncSession,
        start: Since = None,
        end: Until = None,
        region_id: RegionId = None,
        bottom: BottomN = 3,
    ) -> Response[bytes]:
        since, until = period(start, end)
        table = await ranking(db, since=since, until=until, bottom_n=bottom, region_id=region_id)
        return csv_response(table.stores, "store-ranking.csv")

    @get("/trends", opt=HQ)
    async def trends(self, db: AsyncSession, days: Days = 30) -> list[StoreTrend]:
        """Each store's daily rolled-up score and rank over the last `days` days."""
        today = business_day(utcnow())
        return await trends(db, first_day=today - timedelta(days=days), last_day=today)

    @post("/rollup", opt=HQ, status_code=200)
    async def rollup(self, db: AsyncSession, day: date | None = None) -> RollupReport:
        """Roll one day up now (yesterday by default), as the nightly job does."""
        return await roll_up(db, rollup_day(day))

    @get("/guides", opt=HQ)
    async def guides(
        self,
        db: AsyncSession,
        start: Since = None,
        end: Until = None,
        by: GuideOrder = GuideOrder.SALES,
    ) -> list[GuideRank]:
        """The guide contest: guides by credited sales (or execution rate) over [from, to)."""
        since, until = period(start, end)
        return await guide_contest(db, since=since, until=until, by=by.value)

    @get("/guides/csv", opt=HQ, media_type="text/csv")
    async def guides_csv(
        self,
        db: AsyncSession,
        start: Since = None,
        end: Until = None,
        by: GuideOrder = GuideOrder.SALES,
    ) -> Response[bytes]:
        since, until = period(start, end)
        table = await guide_contest(db, since=since, until=until, by=by.value)
        return csv_response(table, "guide-contest.csv")


ROUTES = [KpiController, ScoreController]
