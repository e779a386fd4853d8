"""The demo chain gives every store both lines of online credit: its guides' bound customers
and its rooms' unbound buyers, each with its reason; the hub room's unbound buyers go to HQ."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attribution.credit import RULE_BOUND_GUIDE, RULE_HQ_LINE, RULE_ROOM_STORE
from attribution.models import BindingHistory, SaleCredit, Store
from server.demo import load_demo_data
from server.services import Services
from server.settings import Settings


@pytest.mark.database
async def test_every_demo_store_has_bound_and_unbound_online_sales(
    settings: Settings, services: Services
) -> None:
    await load_demo_data(settings)
    async with services.sessionmaker() as session:
        stores = list(await session.scalars(select(Store.id)))
        rows = (await session.execute(select(SaleCredit.store_id, SaleCredit.rule))).all()
        credits = await session.scalars(
            select(SaleCredit).where(SaleCredit.rule != "physical_store")
        )
        reasons = [(c.reason_zh, c.reason_en) for c in credits]
        imported = await session.scalar(
            select(BindingHistory.id).where(BindingHistory.reason == "import")
        )
    for store in stores:
        rules = {rule for store_id, rule in rows if store_id == store}
        assert {RULE_BOUND_GUIDE, RULE_ROOM_STORE} <= rules, store
    assert RULE_HQ_LINE in {rule for _, rule in rows}
    assert reasons and all(zh and en for zh, en in reasons)
    assert imported is not None
