"""Tables of store scores: HQ's weights per phase and the daily roll-up that keeps the history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Identity, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import NEVER_REUSED_IDS, Base, utcnow


class ScoreWeights(Base):
    """The weight of each KPI in a store's score while the store is in this phase (early,
    middle, later); one row per phase, absent rows take live/scores.py's defaults."""

    __tablename__ = "score_weights"

    phase: Mapped[str] = mapped_column(String(8), primary_key=True)
    live_minutes: Mapped[int]
    sessions: Mapped[int]
    live_sales: Mapped[int]
    private_share: Mapped[int]
    execution: Mapped[int]
    add_fan: Mapped[int]
    reactivation: Mapped[int]
    missed_slots: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(default=None)


class StoreScoreDay(Base):
    """One store's KPIs, phase, score and ranks as of one day's end (the window of
    live/scores_rollup.py ending that day). Rewritten in place when the day is rolled up again."""

    __tablename__ = "store_score_days"
    __table_args__ = (UniqueConstraint("day", "store_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    phase: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    rank_overall: Mapped[int]
    rank_region: Mapped[int]
    live_minutes: Mapped[int]
    sessions: Mapped[int]
    live_sales_fen: Mapped[int]
    online_fen: Mapped[int]
    instore_fen: Mapped[int]
    private_share: Mapped[float] = mapped_column(Float)
    execution_rate: Mapped[float] = mapped_column(Float)
    add_fan_rate: Mapped[float] = mapped_column(Float)
    reactivation_rate: Mapped[float] = mapped_column(Float)
    missed_slots: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
