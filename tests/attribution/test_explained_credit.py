"""The credit of each sale, written once when it is paid, says who it counts for and why, in
Chinese and English; a refund reverses exactly the refunded amount against the same guide and
store, whatever happened to the binding since."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from attribution.credit import (
    RULE_BOUND_GUIDE,
    RULE_HQ_LINE,
    RULE_ON_BEHALF,
    RULE_ROOM_STORE,
)
from attribution.schemas import BindingMode
from orders.refunds import refund_order
from server.services import Services
from tests.attribution.chain import (
    Chain,
    build_chain,
    buy,
    credit_rows,
    open_deal,
    share,
    use_rule,
)

pytestmark = pytest.mark.database


@pytest.fixture
async def chain(services: Services) -> Chain:
    return await build_chain(services)


async def test_a_bound_customer_credits_her_guide_and_says_since_when_and_how(
    services: Services, chain: Chain
) -> None:
    customer = chain.customers[0]
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC)):
        await share(services, customer, "g-wang")
    deal = await open_deal(services, chain)
    # Bought in store B's room: the credit still goes to 王芳 and store A.
    order_id = await buy(services, customer, deal, room_store_id=chain.store_b)
    [credit] = await credit_rows(services, order_id)
    assert (credit.guide_id, credit.store_id, credit.rule) == (
        chain.wang,
        chain.store_a,
        RULE_BOUND_GUIDE,
    )
    assert credit.room_store_id == chain.store_b
    assert credit.reason_zh == "绑定导购 王芳（自 2026-03-02 通过分享链接）"
    assert credit.reason_en == "bound to guide 王芳 since 2026-03-02 through share link"


async def test_an_unbound_customer_credits_the_store_whose_room_she_bought_in(
    services: Services, chain: Chain
) -> None:
    deal = await open_deal(services, chain)
    order_id = await buy(services, chain.customers[0], deal, room_store_id=chain.store_b)
    [credit] = await credit_rows(services, order_id)
    assert (credit.guide_id, credit.store_id, credit.rule) == (None, chain.store_b, RULE_ROOM_STORE)
    assert credit.reason_zh == "未绑定：计入下单直播间所属门店 杭州湖滨店"
    assert credit.reason_en.startswith("not bound: credited to the store whose room")


async def test_an_unbound_customer_in_the_hub_room_credits_hqs_own_line(
    services: Services, chain: Chain
) -> None:
    deal = await open_deal(services, chain)
    order_id = await buy(services, chain.customers[0], deal, room_store_id=None)
    [credit] = await credit_rows(services, order_id)
    assert (credit.guide_id, credit.store_id, credit.rule) == (None, None, RULE_HQ_LINE)
    assert credit.reason_zh == "未绑定，在总部直播间下单：计入总部"


async def test_an_order_a_guide_placed_on_the_customers_behalf_credits_that_guide(
    services: Services, chain: Chain
) -> None:
    customer = chain.customers[0]
    await share(services, customer, "g-wang")
    deal = await open_deal(services, chain)
    order_id = await buy(
        services, customer, deal, room_store_id=chain.store_a, on_behalf_of_guide=chain.zhang
    )
    [credit] = await credit_rows(services, order_id)
    assert (credit.guide_id, credit.store_id, credit.rule) == (
        chain.zhang,
        chain.store_b,
        RULE_ON_BEHALF,
    )
    assert credit.reason_zh == "导购 张伟 代客下单"
    assert credit.reason_en == "placed on the customer's behalf by guide 张伟"


async def test_a_refund_reverses_exactly_the_refunded_amount_against_the_original_credit(
    services: Services, chain: Chain
) -> None:
    await use_rule(services, BindingMode.LATEST)
    customer = chain.customers[0]
    await share(services, customer, "g-wang")
    deal = await open_deal(services, chain)
    order_id = await buy(services, customer, deal, room_store_id=chain.store_b, quantity=3)
    # The customer moves to 张伟 of store B before the refunds: the reversal does not follow.
    await share(services, customer, "g-zhang")
    await refund_order(services, order_id, 1)
    await refund_order(services, order_id, None)
    sale, first, rest = await credit_rows(services, order_id)
    assert [c.amount_fen for c in (sale, first, rest)] == [29700, -9900, -19800]
    for reversal in (first, rest):
        assert (reversal.kind, reversal.guide_id, reversal.store_id, reversal.rule) == (
            "reversal",
            chain.wang,
            chain.store_a,
            RULE_BOUND_GUIDE,
        )
        assert reversal.reason_zh.startswith("退款冲回：绑定导购 王芳")
    assert first.refund_id != rest.refund_id
