"""The demo ends one broadcast (last night's), so every guide opens a queue with tasks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attribution.followups_queue import queue_for
from attribution.models import Guide
from server.auth import Principal, Role
from server.demo import load_demo_data
from server.model_base import utcnow
from server.services import Services
from server.settings import Settings

pytestmark = pytest.mark.demo


@pytest.mark.database
async def test_every_demo_guide_has_non_buyers_of_last_night_to_follow_up(
    settings: Settings, services: Services
) -> None:
    await load_demo_data(settings)

    async with services.sessionmaker() as session:
        guides = list(await session.scalars(select(Guide)))
        for guide in guides:
            queue = await queue_for(
                session, Principal(Role.GUIDE, guide.id, guide.store_id), utcnow()
            )
            own = [t for t in queue.tasks if not t.in_pool and t.kind != "care"]
            assert own, f"guide {guide.share_code} has no follow-ups"
            assert all(t.watch_seconds > 0 or t.kind == "ordered_unpaid" for t in own)
