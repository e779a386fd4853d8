"""The brand's binding rule on a timeline: permanent keeps the first guide, latest hands the
customer to the newest share, protected holds for N days after the guide last served them.
Every move is a history row; a refused move changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from attribution.credit import credit_sale
from attribution.identity import MiniProgramIdentity
from attribution.login import enter_as_customer
from attribution.schemas import BindingMode, BindingReason, ShareOutcome
from server.services import Services
from tests.attribution.chain import (
    Chain,
    bound_guide,
    build_chain,
    history,
    share,
    use_rule,
)

pytestmark = pytest.mark.database
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
async def chain(services: Services) -> Chain:
    return await build_chain(services)


async def test_permanent_keeps_the_first_guide_whatever_is_shared_later(
    services: Services, chain: Chain
) -> None:
    customer = chain.customers[0]
    with time_machine.travel(START, tick=False) as clock:
        assert await share(services, customer, "g-wang") is ShareOutcome.BOUND
        clock.shift(timedelta(days=400))
        assert await share(services, customer, "g-li") is ShareOutcome.KEPT
        assert await share(services, customer, "g-zhang") is ShareOutcome.KEPT
    assert await bound_guide(services, customer) == chain.wang
    assert await history(services, customer) == [(None, chain.wang, "share")]


async def test_latest_hands_the_customer_to_the_newest_share_and_records_each_move(
    services: Services, chain: Chain
) -> None:
    await use_rule(services, BindingMode.LATEST)
    customer = chain.customers[0]
    with time_machine.travel(START, tick=False) as clock:
        assert await share(services, customer, "g-wang") is ShareOutcome.BOUND
        clock.shift(timedelta(days=1))
        assert await share(services, customer, "g-zhang", BindingReason.SCAN) is ShareOutcome.MOVED
        clock.shift(timedelta(days=1))
        assert await share(services, customer, "g-zhang") is ShareOutcome.ALREADY
    assert await bound_guide(services, customer) == chain.zhang
    assert await history(services, customer) == [
        (None, chain.wang, "share"),
        (chain.wang, chain.zhang, "scan"),
    ]


async def test_protected_holds_for_n_days_after_the_guide_last_served_the_customer(
    services: Services, chain: Chain
) -> None:
    await use_rule(services, BindingMode.PROTECTED, protect_days=7)
    customer = chain.customers[0]
    with time_machine.travel(START, tick=False) as clock:
        assert await share(services, customer, "g-wang") is ShareOutcome.BOUND
        clock.shift(timedelta(days=6))
        assert await share(services, customer, "g-li") is ShareOutcome.KEPT
        # Day 6: 王芳 serves the customer again (a sale credited to her): the 7 days restart.
        async with services.sessionmaker() as session, session.begin():
            await credit_sale(
                session,
                order_id="o-served",
                customer_id=customer,
                amount_fen=9900,
                room_store_id=chain.store_a,
            )
        clock.shift(timedelta(days=6))
        assert await share(services, customer, "g-li") is ShareOutcome.KEPT
        clock.shift(timedelta(days=1))
        assert await share(services, customer, "g-li") is ShareOutcome.MOVED
    assert await bound_guide(services, customer) == chain.li
    assert await history(services, customer) == [
        (None, chain.wang, "share"),
        (chain.wang, chain.li, "share"),
    ]


async def test_an_inactive_guides_share_binds_nobody(services: Services, chain: Chain) -> None:
    await use_rule(services, BindingMode.LATEST)
    unbound, bound = chain.customers[0], chain.customers[1]
    await share(services, bound, "g-wang")
    assert await share(services, unbound, "g-gone") is ShareOutcome.GUIDE_UNAVAILABLE
    assert await share(services, bound, "g-gone") is ShareOutcome.GUIDE_UNAVAILABLE
    assert await bound_guide(services, unbound) is None
    assert await bound_guide(services, bound) == chain.wang
    assert await history(services, unbound) == []


async def test_the_viewer_login_binds_through_a_share_link_or_a_scanned_qr_code(
    services: Services, chain: Chain, client: AsyncTestClient[Litestar]
) -> None:
    by_link = await client.post("/api/auth/viewer", json={"code": "new-1", "share_code": "g-wang"})
    by_qr = await client.post(
        "/api/auth/viewer", json={"code": "new-2", "share_code": "g-zhang", "share_via": "scan"}
    )
    assert by_link.status_code == by_qr.status_code == 201
    link_customer, qr_customer = by_link.json()["customer_id"], by_qr.json()["customer_id"]
    assert await history(services, link_customer) == [(None, chain.wang, "share")]
    assert await history(services, qr_customer) == [(None, chain.zhang, "scan")]
    # Permanent (the default): a later login through another guide's link moves nobody.
    again = await client.post("/api/auth/viewer", json={"code": "new-1", "share_code": "g-li"})
    assert again.status_code == 201
    assert await bound_guide(services, link_customer) == chain.wang


async def test_two_shares_opened_at_once_take_turns_and_leave_one_binding(
    services: Services, chain: Chain
) -> None:
    await use_rule(services, BindingMode.LATEST)
    identity = MiniProgramIdentity(openid="openid-0")

    async def login_through(code: str) -> None:
        async with services.sessionmaker() as session:
            await enter_as_customer(session, identity, share_code=code)

    await asyncio.gather(login_through("g-wang"), login_through("g-zhang"))
    customer = chain.customers[0]
    changes = await history(services, customer)
    assert len(changes) == 2 and changes[0][0] is None and changes[1][0] == changes[0][1]
    assert await bound_guide(services, customer) == changes[1][1]
