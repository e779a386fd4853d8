"""Background jobs of live/ on the arq worker."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from live.presence import flush_stays
from live.schedule_watch import watch_schedule


async def flush_viewer_stays(ctx: dict[str, Any]) -> int:
    """Finished stays from Redis into viewer_sessions, every few seconds."""
    return await flush_stays(ctx["services"])


async def watch_the_schedule(ctx: dict[str, Any]) -> int:
    """Reminders, no-show alerts and missed slots (live/schedule_watch.py), every minute."""
    async with ctx["services"].sessionmaker() as session:
        report = await watch_schedule(session)
    return report.count()


CRON_JOBS = [
    # unique (arq's default): one flusher at a time, which flush_stays relies on.
    cron(flush_viewer_stays, second=set(range(0, 60, 5)), run_at_startup=True),
    cron(watch_the_schedule, second=20, run_at_startup=True),
]
