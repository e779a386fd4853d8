"""The demo chain gives every store both lines of credit: online (its guides' bound customers
and its rooms' unbound buyers) and in-store (till sales), each with its reason; the hub room's
unbound buyers go to HQ. No past online order is credited as bought at the till."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attribution.credit import (
    RULE_BOUND_GUIDE,
    RULE_HQ_LINE,
    RULE_PHYSICAL_STORE,
    RULE_ROOM_STORE,
)
from attribution.instore_credit import RULE_INSTORE
from attribution.models import BindingHistory, SaleCredit, Store
from server.demo import load_demo_data
from server.services import Services
from server.settings import Settings

pytestmark = pytest.mark.demo


@pytest.mark.database
async def test_every_demo_store_has_bound_unbound_and_instore_sales(
    settings: Settings, services: Services
) -> None:
    await load_demo_data(settings)
    async with services.sessionmaker() as session:
        stores = list(await session.scalars(select(Store.id)))
        rows = (await session.execute(select(SaleCredit.store_id, SaleCredit.rule))).all()
        credits = list(await session.scalars(select(SaleCredit)))
        reasons = [(c.reason_zh, c.reason_en) for c in credits]
        imported = await session.scalar(
            select(BindingHistory.id).where(BindingHistory.reason == "import")
        )
    for store in stores:
        rules = {rule for store_id, rule in rows if store_id == store}
        assert {RULE_BOUND_GUIDE, RULE_ROOM_STORE, RULE_INSTORE} <= rules, store
    assert RULE_HQ_LINE in {rule for _, rule in rows}
    assert RULE_PHYSICAL_STORE not in {rule for _, rule in rows}
    online = [c for c in credits if c.order_id is not None]
    assert all(c.rule != RULE_INSTORE and c.instore_sale_id is None for c in online)
    till = [c for c in credits if c.rule == RULE_INSTORE]
    assert all(c.guide_id is None and c.instore_sale_id for c in till)
    assert all(c.reason_zh.startswith("门店收银") for c in till)
    assert reasons and all(zh and en for zh, en in reasons)
    assert imported is not None
