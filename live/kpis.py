"""Store KPIs per period from the service's own data: what live/ owns (broadcasts, rooms,
viewers, missed slots) beside what attribution/ owns (credit, till sales, fans, tasks,
sleeping customers), and the before/after of a store's first broadcast."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.instore import store_sales
from attribution.store_figures import (
    execution_by_store,
    live_credited_fen,
    member_purchases,
    new_fans,
    sleepers_woken,
    stores,
    till_transactions,
)
from live.models import Broadcast, BroadcastStatus, Room, ViewerSession
from live.scores_schemas import BeforeAfter, KpiDefinition, SpanFigures, StoreKpis
from server.model_base import utcnow

KPI_DEFINITIONS = [
    KpiDefinition(
        "live_minutes",
        "直播时长",
        "Live minutes",
        "期内门店自己的直播（含转播总部）在播的分钟数。",
        "Minutes the store's own broadcasts (relays of the hub included) were on air in the period.",
    ),
    KpiDefinition(
        "sessions",
        "直播场次",
        "Sessions",
        "期内开播的门店直播场数。",
        "Store broadcasts that went live in the period.",
    ),
    KpiDefinition(
        "live_sales_fen",
        "直播业绩",
        "Live sales",
        "期内在直播间成交、归属本店的业绩（扣除退款）。",
        "Sales bought in a broadcast's room and credited to the store, net of refunds.",
    ),
    KpiDefinition(
        "private_share",
        "私域业绩占比",
        "Private-domain share",
        "线上归属业绩 / (线上归属业绩 + 门店收银导入业绩)。案例目标 15%，标杆门店 30-34%。",
        "Online credited sales / (online credited + till sales imported). Case studies aim at"
        " 15%; the best stores reach 30-34%.",
    ),
    KpiDefinition(
        "execution_rate",
        "导购执行率",
        "Guide execution rate",
        "期内到期的跟进任务中已完成的比例（不含已取消的关怀步骤）。",
        "Follow-up tasks done / tasks due in the period (cancelled care steps left out).",
    ),
    KpiDefinition(
        "add_fan_rate",
        "加粉率",
        "Add-fan rate",
        "期内通过导购分享或扫码新绑定本店的顾客数 / 期内门店成交笔数（收银小票），与导购跟进"
        "页的加粉率同一口径。案例 87%。",
        "Customers newly bound to the store's guides by share or QR / the store's till"
        " transactions in the period, as on the guides' follow-up figures. Case study: 87%.",
    ),
    KpiDefinition(
        "reactivation_rate",
        "沉睡唤醒率",
        "Sleeping reactivation",
        "期初沉睡（上次购买在 180-720 天前）的本店顾客中，期内再次购买的比例。",
        "Of the store's customers asleep when the period began (last purchase 180-720 days"
        " before), the share who bought again in it.",
    ),
    KpiDefinition(
        "missed_slots",
        "缺播场次",
        "Missed slots",
        "期内排班开始、却从未开播的门店场次。",
        "Store slots scheduled to start in the period that never went live.",
    ),
]

BEFORE_AFTER_MEANS = (
    "开播前后：本店会员在门店首次开播后 N 周内的购买频次（次/人）与金额，对比开播前同样 N 周。"
    " Before/after: the store's members' purchases per member and sales in the N weeks after"
    " its first broadcast against the N weeks before."
)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def _live_time(
    session: AsyncSession, since: datetime, until: datetime
) -> tuple[dict[int, int], dict[int, int]]:
    """Per store: minutes on air within the period and broadcasts that went live in it."""
    rows = await session.execute(
        select(Broadcast.store_id, Broadcast.started_at, Broadcast.ended_at).where(
            Broadcast.store_id.is_not(None),
            Broadcast.started_at.is_not(None),
            Broadcast.started_at < until,
            (Broadcast.ended_at.is_(None)) | (Broadcast.ended_at > since),
        )
    )
    now = utcnow()
    seconds: dict[int, float] = defaultdict(float)
    sessions: dict[int, int] = defaultdict(int)
    for store_id, started, ended in rows.all():
        if store_id is None or started is None:
            continue
        on_air = min(ended or now, until) - max(started, since)
        seconds[store_id] += max(on_air.total_seconds(), 0.0)
        sessions[store_id] += 1 if started >= since else 0
    return {s: int(v // 60) for s, v in seconds.items()}, dict(sessions)


async def _viewers(session: AsyncSession, since: datetime, until: datetime) -> dict[int, int]:
    rows = await session.execute(
        select(Room.store_id, func.count(func.distinct(ViewerSession.customer_id)))
        .join(Room, Room.id == ViewerSession.room_id)
        .where(
            Room.store_id.is_not(None),
            ViewerSession.joined_at >= since,
            ViewerSession.joined_at < until,
        )
        .group_by(Room.store_id)
    )
    return {store_id: int(n) for store_id, n in rows.all() if store_id is not None}


async def _missed(session: AsyncSession, since: datetime, until: datetime) -> dict[int, int]:
    rows = await session.execute(
        select(Broadcast.store_id, func.count())
        .where(
            Broadcast.store_id.is_not(None),
            Broadcast.status == BroadcastStatus.MISSED,
            Broadcast.scheduled_start_at >= since,
            Broadcast.scheduled_start_at < until,
        )
        .group_by(Broadcast.store_id)
    )
    return {store_id: int(n) for store_id, n in rows.all() if store_id is not None}


async def store_kpis(session: AsyncSession, *, since: datetime, until: datetime) -> list[StoreKpis]:
    """Every store's KPIs over [since, until), in store order."""
    minutes, sessions = await _live_time(session, since, until)
    viewers = await _viewers(session, since, until)
    missed = await _missed(session, since, until)
    live_fen = await live_credited_fen(session, since=since, until=until)
    sales = {s.store_id: s for s in await store_sales(session, since=since, until=until)}
    execution = await execution_by_store(session, since=since, until=until)
    fans = await new_fans(session, since=since, until=until)
    transactions = await till_transactions(session, since=since, until=until)
    sleepers = await sleepers_woken(session, since=since, until=until)
    figures = []
    for store in await stores(session):
        line = sales.get(store.id)
        online, instore = (line.online_fen, line.in_store_fen) if line else (0, 0)
        tasks = execution.get(store.id)
        due, done = (tasks.due, tasks.done) if tasks else (0, 0)
        asleep = sleepers.get(store.id)
        slept, woke = (asleep.asleep, asleep.woken) if asleep else (0, 0)
        seen = viewers.get(store.id, 0)
        added = fans.get(store.id, 0)
        figures.append(
            StoreKpis(
                store_id=store.id,
                code=store.code,
                store=store.name,
                region_id=store.region_id,
                region=store.region,
                live_minutes=minutes.get(store.id, 0),
                sessions=sessions.get(store.id, 0),
                live_sales_fen=live_fen.get(store.id, 0),
                online_fen=online,
                instore_fen=instore,
                private_share=_rate(max(online, 0), max(online, 0) + instore),
                tasks_due=due,
                tasks_done=done,
                execution_rate=_rate(done, due),
                viewers=seen,
                new_fans=added,
                store_transactions=transactions.get(store.id, 0),
                add_fan_rate=_rate(added, transactions.get(store.id, 0)),
                asleep=slept,
                woken=woke,
                reactivation_rate=_rate(woke, slept),
                missed_slots=missed.get(store.id, 0),
            )
        )
    return figures


async def first_broadcasts(session: AsyncSession) -> dict[int, datetime]:
    """When each store first went live."""
    rows = await session.execute(
        select(Broadcast.store_id, func.min(Broadcast.started_at))
        .where(Broadcast.store_id.is_not(None), Broadcast.started_at.is_not(None))
        .group_by(Broadcast.store_id)
    )
    return {s: first for s, first in rows.all() if s is not None and first is not None}


async def _span(
    session: AsyncSession, store_id: int, since: datetime, until: datetime
) -> SpanFigures:
    bought = await member_purchases(session, store_id, since=since, until=until)
    return SpanFigures(
        since=since,
        until=until,
        members=bought.members,
        purchases=bought.purchases,
        sales_fen=bought.sales_fen,
        frequency=_rate(bought.purchases, bought.members),
    )


def _change(after: float, before: float) -> float | None:
    return round(after / before - 1, 4) if before else None


def _per_member(span: SpanFigures) -> float:
    return span.purchases / span.members if span.members else 0.0


async def before_after(session: AsyncSession, *, weeks: int) -> list[BeforeAfter]:
    """Each store's members' purchases in the `weeks` after its first broadcast against the
    same span before; a store that has not broadcast, or whose `after` has not ended yet, is
    compared over what has passed (its `after.until` says how far)."""
    firsts = await first_broadcasts(session)
    now = utcnow()
    span = timedelta(weeks=weeks)
    report = []
    for store in await stores(session):
        first = firsts.get(store.id)
        if first is None:
            report.append(BeforeAfter(store.id, store.name, None, weeks, None, None, None, None))
            continue
        after_end = min(first + span, now)
        # Compare like with like: a young store's before is as long as its after so far.
        before = await _span(session, store.id, first - (after_end - first), first)
        after = await _span(session, store.id, first, after_end)
        report.append(
            BeforeAfter(
                store_id=store.id,
                store=store.name,
                first_broadcast_at=first,
                weeks=weeks,
                before=before,
                after=after,
                frequency_change=_change(_per_member(after), _per_member(before)),
                sales_change=_change(after.sales_fen, before.sales_fen),
            )
        )
    return report
