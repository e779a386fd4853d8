"""The daily roll-up: each store's KPIs, phase, score and ranks as of a day's end, kept as
history for the trend charts. Rolling a day up again rewrites its rows in place, so the job
may run any number of times."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.store_figures import stores
from live.scores import ranking
from live.scores_models import StoreScoreDay
from live.scores_schemas import RollupReport, StoreTrend, TrendPoint

BUSINESS_TZ = timezone(timedelta(hours=8))
"""The chains' day is Beijing's (no daylight saving), whatever the server's clock says."""
WINDOW_DAYS = 7
"""A day's score covers the week ending with it: one day is too noisy to rank stores on (a
store broadcasts two or three evenings a week)."""


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), BUSINESS_TZ).astimezone(UTC)


def business_day(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


def window(day: date) -> tuple[datetime, datetime]:
    """[since, until) of the scores of `day`: the WINDOW_DAYS Beijing days ending with it."""
    return day_start(day - timedelta(days=WINDOW_DAYS - 1)), day_start(day + timedelta(days=1))


async def roll_up(session: AsyncSession, day: date) -> RollupReport:
    """Write (or rewrite) every store's row of `day`. Two roll-ups of one day at once (the
    nightly job and HQ's button) may both find a store's row missing: the one that commits
    second hits the unique key, and its retry finds the rows and rewrites them in place."""
    try:
        return await _roll_up_once(session, day)
    except IntegrityError:
        return await _roll_up_once(session, day)


async def _roll_up_once(session: AsyncSession, day: date) -> RollupReport:
    since, until = window(day)
    async with session.begin():
        ranked = (await ranking(session, since=since, until=until, bottom_n=0)).stores
        existing = {
            row.store_id: row
            for row in await session.scalars(select(StoreScoreDay).where(StoreScoreDay.day == day))
        }
        for s in ranked:
            k = s.kpis
            values = {
                "region_id": s.region_id,
                "phase": s.phase.value,
                "score": s.score,
                "rank_overall": s.rank_overall,
                "rank_region": s.rank_region,
                "live_minutes": k.live_minutes,
                "sessions": k.sessions,
                "live_sales_fen": k.live_sales_fen,
                "online_fen": k.online_fen,
                "instore_fen": k.instore_fen,
                "private_share": k.private_share,
                "execution_rate": k.execution_rate,
                "add_fan_rate": k.add_fan_rate,
                "reactivation_rate": k.reactivation_rate,
                "missed_slots": k.missed_slots,
            }
            row = existing.get(s.store_id)
            if row is None:
                session.add(StoreScoreDay(day=day, store_id=s.store_id, **values))
            elif any(getattr(row, name) != value for name, value in values.items()):
                # Only a changed figure touches the row: a second run writes nothing.
                for name, value in values.items():
                    setattr(row, name, value)
    return RollupReport(day=day, stores=len(ranked))


async def trends(
    session: AsyncSession, *, first_day: date, last_day: date, store_id: int | None = None
) -> list[StoreTrend]:
    """Each store's rolled-up score and rank per day in [first_day, last_day]."""
    query = (
        select(
            StoreScoreDay.store_id,
            StoreScoreDay.day,
            StoreScoreDay.score,
            StoreScoreDay.rank_overall,
        )
        .where(StoreScoreDay.day >= first_day, StoreScoreDay.day <= last_day)
        .order_by(StoreScoreDay.store_id, StoreScoreDay.day)
    )
    if store_id is not None:
        query = query.where(StoreScoreDay.store_id == store_id)
    points: dict[int, list[TrendPoint]] = defaultdict(list)
    for each, day, score, place in await session.execute(query):
        points[each].append(TrendPoint(day, score, place))
    return [
        StoreTrend(store.id, store.name, points[store.id])
        for store in await stores(session)
        if store_id is None or store.id == store_id
    ]
