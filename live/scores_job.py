"""The nightly roll-up of store scores on the arq worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq.cron import cron

from live.scores_rollup import business_day, roll_up
from server.model_base import utcnow

CATCH_UP_DAYS = 2
"""Days rolled up each night: yesterday, and the day before in case the worker was down for
last night's run (rolling a day up twice changes nothing)."""


async def roll_up_scores(ctx: dict[str, Any]) -> int:
    """Each store's KPIs, score and ranks of the Beijing days just ended (live/scores_rollup.py)."""
    today = business_day(utcnow())
    rolled = 0
    async with ctx["services"].sessionmaker() as session:
        for back in range(CATCH_UP_DAYS, 0, -1):
            rolled += (await roll_up(session, today - timedelta(days=back))).stores
    return rolled


CRON_JOBS = [
    # 00:10 in Beijing: the day has ended and late payments of its last minutes are in.
    cron(roll_up_scores, hour=16, minute=10),
]
