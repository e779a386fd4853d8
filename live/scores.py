"""Store scores from the KPIs with the weights HQ sets per phase, and the rankings (overall,
per region, bottom N flagged) and guide contests built on them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.store_figures import GuideFigures, guide_figures
from live.kpis import KPI_DEFINITIONS, first_broadcasts, store_kpis
from live.scores_models import ScoreWeights
from live.scores_schemas import (
    GuideRank,
    Phase,
    PhaseWeights,
    Ranking,
    StoreKpis,
    StoreScore,
    Weights,
)
from server.errors import Invalid
from server.model_base import utcnow

EARLY_DAYS = 30
MIDDLE_DAYS = 90
"""A store is early for its first month of broadcasting (the chains judge whether it shows up
at all), middle until its third month ends (whether it sells), later after."""

DEFAULT_WEIGHTS = Weights(
    early=PhaseWeights(30, 30, 10, 5, 10, 10, 0, 5),
    middle=PhaseWeights(10, 10, 40, 10, 10, 10, 5, 5),
    later=PhaseWeights(5, 5, 20, 25, 15, 10, 15, 5),
)
WEIGHT_FIELDS = PhaseWeights.__struct_fields__

KPI_OF_WEIGHT: dict[str, Callable[[StoreKpis], float]] = {
    "live_minutes": lambda k: k.live_minutes,
    "sessions": lambda k: k.sessions,
    "live_sales": lambda k: max(k.live_sales_fen, 0),
    "private_share": lambda k: k.private_share,
    "execution": lambda k: k.execution_rate,
    "add_fan": lambda k: k.add_fan_rate,
    "reactivation": lambda k: k.reactivation_rate,
    "missed_slots": lambda k: k.missed_slots,
}
FEWER_IS_BETTER = frozenset({"missed_slots"})


class WeightlessPhase(Invalid):
    """Every KPI of a phase weighs 0: no score could be made from it."""


def phase_of(first_live_at: datetime | None, at: datetime) -> Phase:
    if first_live_at is None or at - first_live_at < timedelta(days=EARLY_DAYS):
        return Phase.EARLY
    if at - first_live_at < timedelta(days=MIDDLE_DAYS):
        return Phase.MIDDLE
    return Phase.LATER


async def current_weights(session: AsyncSession) -> Weights:
    stored = {row.phase: row for row in await session.scalars(select(ScoreWeights))}
    phases = {}
    for phase in Phase:
        row = stored.get(phase.value)
        phases[phase.value] = (
            PhaseWeights(**{name: getattr(row, name) for name in WEIGHT_FIELDS})
            if row
            else getattr(DEFAULT_WEIGHTS, phase.value)
        )
    return Weights(**phases)


async def set_weights(session: AsyncSession, weights: Weights, staff_id: int) -> Weights:
    """HQ's weights for every phase, replacing the ones before."""
    for phase in Phase:
        if not any(msgspec.structs.astuple(getattr(weights, phase.value))):
            raise WeightlessPhase(f"the {phase.value} phase needs at least one KPI weighing > 0")
    async with session.begin():
        for phase in Phase:
            values = msgspec.structs.asdict(getattr(weights, phase.value))
            row = await session.get(ScoreWeights, phase.value)
            if row is None:
                session.add(ScoreWeights(phase=phase.value, updated_by=staff_id, **values))
                continue
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            row.updated_by = staff_id
    return weights


def score_stores(
    kpis: list[StoreKpis], phases: dict[int, Phase], weights: Weights
) -> dict[int, float]:
    """Each store's score, 0-100: every KPI as a fraction of the best store's (for missed
    slots, of the worst store's, reversed), weighted by the store's phase."""
    best = {name: max((pick(k) for k in kpis), default=0) for name, pick in KPI_OF_WEIGHT.items()}
    scores = {}
    for k in kpis:
        phase_weights = msgspec.structs.asdict(getattr(weights, phases[k.store_id].value))
        total = sum(phase_weights.values())
        points = 0.0
        for name, weight in phase_weights.items():
            top = best[name]
            share = KPI_OF_WEIGHT[name](k) / top if top else 0.0
            if name in FEWER_IS_BETTER:
                share = 1.0 - share
            points += weight * share
        scores[k.store_id] = round(100 * points / total, 2) if total else 0.0
    return scores


def rank(
    kpis: list[StoreKpis],
    phases: dict[int, Phase],
    scores: dict[int, float],
    bottom_n: int,
) -> list[StoreScore]:
    """Stores best first (ties: more live sales, then the lower store id), ranked overall and
    within their region; the last `bottom_n` overall flagged."""
    ordered = sorted(kpis, key=lambda k: (-scores[k.store_id], -k.live_sales_fen, k.store_id))
    in_region: dict[int, int] = defaultdict(int)
    ranked = []
    for place, k in enumerate(ordered, start=1):
        in_region[k.region_id] += 1
        ranked.append(
            StoreScore(
                store_id=k.store_id,
                code=k.code,
                store=k.store,
                region_id=k.region_id,
                region=k.region,
                phase=phases[k.store_id],
                score=scores[k.store_id],
                rank_overall=place,
                rank_region=in_region[k.region_id],
                bottom=place > len(ordered) - bottom_n,
                kpis=k,
            )
        )
    return ranked


async def ranking(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    bottom_n: int = 3,
    region_id: int | None = None,
) -> Ranking:
    """Every store scored over [since, until) (phases as of `until`), best first; with a
    region, only its stores (their overall ranks and bottom flags stay the chain's)."""
    kpis = await store_kpis(session, since=since, until=until)
    firsts = await first_broadcasts(session)
    phases = {k.store_id: phase_of(firsts.get(k.store_id), until) for k in kpis}
    scores = score_stores(kpis, phases, await current_weights(session))
    ranked = rank(kpis, phases, scores, bottom_n)
    if region_id is not None:
        ranked = [s for s in ranked if s.region_id == region_id]
    return Ranking(
        since=since, until=until, bottom_n=bottom_n, stores=ranked, definitions=KPI_DEFINITIONS
    )


async def guide_contest(
    session: AsyncSession, *, since: datetime, until: datetime, by: str = "sales"
) -> list[GuideRank]:
    """Guides by credited sales (then execution rate), or by execution rate (then sales)."""
    figures = await guide_figures(session, since=since, until=until)

    def rate(done: int, due: int) -> float:
        return round(done / due, 4) if due else 0.0

    def key(g: GuideFigures) -> tuple[float, float, int]:
        execution = rate(g.tasks_done, g.tasks_due)
        if by == "execution":
            return (-execution, -g.credited_fen, g.guide_id)
        return (-g.credited_fen, -execution, g.guide_id)

    return [
        GuideRank(
            rank=place,
            guide_id=g.guide_id,
            guide=g.guide,
            store_id=g.store_id,
            store=g.store,
            credited_fen=g.credited_fen,
            tasks_due=g.tasks_due,
            tasks_done=g.tasks_done,
            execution_rate=rate(g.tasks_done, g.tasks_due),
        )
        for place, g in enumerate(sorted(figures, key=key), start=1)
    ]
