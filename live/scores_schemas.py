"""Wire types of HQ's store KPIs, scores, rankings and guide contests."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

Weight = Annotated[int, msgspec.Meta(ge=0, le=100)]


class Phase(StrEnum):
    """Where a store is in its broadcasting life, by days since its first broadcast went live
    (live/scores.py): early stores are judged on broadcasting at all, middle ones on selling,
    later ones on the private domain and their members."""

    EARLY = "early"
    MIDDLE = "middle"
    LATER = "later"


class StoreKpis(msgspec.Struct):
    """One store's figures over [since, until); each field is defined in KPI_DEFINITIONS."""

    store_id: int
    code: str
    store: str
    region_id: int
    region: str
    live_minutes: int
    sessions: int
    live_sales_fen: int
    online_fen: int
    instore_fen: int
    private_share: float
    tasks_due: int
    tasks_done: int
    execution_rate: float
    viewers: int
    new_fans: int
    store_transactions: int
    """Till receipts in the period: the add-fan rate's denominator."""
    add_fan_rate: float
    asleep: int
    woken: int
    reactivation_rate: float
    missed_slots: int


class KpiDefinition(msgspec.Struct):
    key: str
    name_zh: str
    name_en: str
    means_zh: str
    means_en: str


class KpiReport(msgspec.Struct):
    since: datetime
    until: datetime
    stores: list[StoreKpis]
    definitions: list[KpiDefinition]


class SpanFigures(msgspec.Struct):
    since: datetime
    until: datetime
    members: int
    purchases: int
    sales_fen: int
    frequency: float
    """Purchases per member."""


class BeforeAfter(msgspec.Struct):
    """A store's members before and after its first broadcast, over the same number of weeks."""

    store_id: int
    store: str
    first_broadcast_at: datetime | None
    weeks: int
    before: SpanFigures | None
    after: SpanFigures | None
    frequency_change: float | None
    """after / before - 1; None when there is no before to compare with."""
    sales_change: float | None


class PhaseWeights(msgspec.Struct, forbid_unknown_fields=True):
    """How much each KPI counts in a store's score, in points; a phase's points need not add
    up to 100 (the score divides by their sum), but they must not all be 0."""

    live_minutes: Weight
    sessions: Weight
    live_sales: Weight
    private_share: Weight
    execution: Weight
    add_fan: Weight
    reactivation: Weight
    missed_slots: Weight


class Weights(msgspec.Struct, forbid_unknown_fields=True):
    early: PhaseWeights
    middle: PhaseWeights
    later: PhaseWeights


class StoreScore(msgspec.Struct):
    """A store's place: its score (0-100) from its phase's weights and its KPIs measured
    against the best store's, its ranks, and whether it is among the bottom N."""

    store_id: int
    code: str
    store: str
    region_id: int
    region: str
    phase: Phase
    score: float
    rank_overall: int
    rank_region: int
    bottom: bool
    kpis: StoreKpis


class Ranking(msgspec.Struct):
    since: datetime
    until: datetime
    bottom_n: int
    stores: list[StoreScore]
    definitions: list[KpiDefinition]
    """What each KPI means, to show beside the figures."""


class TrendPoint(msgspec.Struct):
    day: date
    score: float
    rank_overall: int


class StoreTrend(msgspec.Struct):
    store_id: int
    store: str
    points: list[TrendPoint]


class GuideRank(msgspec.Struct):
    rank: int
    guide_id: int
    guide: str
    store_id: int
    store: str
    credited_fen: int
    tasks_due: int
    tasks_done: int
    execution_rate: float


class RollupReport(msgspec.Struct):
    day: date
    stores: int
