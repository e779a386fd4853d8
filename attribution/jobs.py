"""Background jobs of attribution/ on the arq worker. Each opens its own database scope through
ctx["services"] and is safe to run more than once."""

from __future__ import annotations

from typing import Any

import structlog
from arq.cron import cron

from attribution.segments import refresh_segments
from server.model_base import utcnow

log = structlog.get_logger()


async def refresh_customer_segments(ctx: dict[str, Any]) -> int:
    """Recompute every customer's RFML, class, tier and sleeping flag as of now."""
    async with ctx["services"].sessionmaker() as session:
        customers = await refresh_segments(session, today=utcnow())
    log.info("attribution.segments_refreshed", customers=customers)
    return customers


JOB_FUNCTIONS: list[Any] = []
CRON_JOBS = [
    # 03:30 in China, after the night's till exports; and at startup, so a new deployment (the
    # demo's included) has segments before its first night.
    cron(refresh_customer_segments, hour=19, minute=30, second=0, run_at_startup=True),
]
