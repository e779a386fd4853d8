"""HQ transfers a leaving guide's customers: to a guide of the same store or to the store's
pool, all or a list; credit earned before stays with the guide who earned it; the history
says who moved whom."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attribution.bindings_hq import TransferRefused, import_bindings, transfer_customers
from attribution.credit import credit_sale
from attribution.models import Customer, SaleCredit
from attribution.schemas import BindingImportRow, ImportOutcome, ShareOutcome, TransferRequest
from server.services import Services
from tests.attribution.chain import Chain, bound_guide, build_chain, history, share

pytestmark = pytest.mark.database


@pytest.fixture
async def chain(services: Services) -> Chain:
    chain = await build_chain(services)
    for customer in chain.customers[:4]:
        await share(services, customer, "g-wang")
    return chain


async def transfer(services: Services, chain: Chain, guide: int, request: TransferRequest) -> int:
    async with services.sessionmaker() as session, session.begin():
        return (await transfer_customers(session, guide, request, chain.hq_staff)).moved


async def credited_to(services: Services, guide_id: int) -> int:
    async with services.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(SaleCredit.amount_fen), 0)).where(
                    SaleCredit.guide_id == guide_id
                )
            )
            or 0
        )


async def test_a_leaving_guides_customers_move_to_a_colleague_and_her_earned_credit_stays(
    services: Services, chain: Chain
) -> None:
    first = chain.customers[0]
    async with services.sessionmaker() as session, session.begin():
        await credit_sale(
            session, order_id="o-before", customer_id=first, amount_fen=12900, room_store_id=None
        )
    moved = await transfer(
        services, chain, chain.wang, TransferRequest(to_guide_id=chain.li, guide_leaves=True)
    )
    assert moved == 4
    assert [await bound_guide(services, c) for c in chain.customers[:4]] == [chain.li] * 4
    assert await history(services, first) == [
        (None, chain.wang, "share"),
        (chain.wang, chain.li, "transfer"),
    ]
    assert await credited_to(services, chain.wang) == 12900
    assert await credited_to(services, chain.li) == 0
    # She left: her link binds nobody any more.
    assert await share(services, chain.customers[5], "g-wang") is ShareOutcome.GUIDE_UNAVAILABLE


async def test_a_listed_transfer_to_the_pool_moves_only_those_customers(
    services: Services, chain: Chain
) -> None:
    listed = chain.customers[:2]
    assert await transfer(services, chain, chain.wang, TransferRequest(customer_ids=listed)) == 2
    assert [await bound_guide(services, c) for c in chain.customers[:4]] == [
        None,
        None,
        chain.wang,
        chain.wang,
    ]
    async with services.sessionmaker() as session:
        homes = await session.scalars(select(Customer.home_store_id).where(Customer.id.in_(listed)))
        assert set(homes) == {chain.store_a}
    assert (await history(services, listed[0]))[-1] == (chain.wang, None, "transfer")


@pytest.mark.parametrize(
    "target, listed, refusal",
    [
        ("zhang", None, "same store"),
        ("gone", None, "inactive"),
        ("wang", None, "same guide"),
        ("li", "unbound", "not bound"),
    ],
)
async def test_transfers_the_rules_refuse_move_nobody(
    services: Services, chain: Chain, target: str, listed: str | None, refusal: str
) -> None:
    request = TransferRequest(
        to_guide_id=getattr(chain, target),
        customer_ids=[chain.customers[5]] if listed else None,
    )
    with pytest.raises(TransferRefused, match=refusal):
        await transfer(services, chain, chain.wang, request)
    assert [await bound_guide(services, c) for c in chain.customers[:4]] == [chain.wang] * 4


async def test_hq_imports_bindings_by_id_or_phone_and_reports_each_bad_row(
    services: Services, chain: Chain
) -> None:
    rows = [
        BindingImportRow(guide_id=chain.zhang, customer_id=chain.customers[4]),
        BindingImportRow(guide_id=chain.li, phone="13812340005"),
        BindingImportRow(guide_id=chain.wang, customer_id=chain.customers[0]),
        BindingImportRow(guide_id=chain.gone, customer_id=chain.customers[1]),
        BindingImportRow(guide_id=chain.li, phone="10000000000"),
        BindingImportRow(guide_id=chain.li),
    ]
    async with services.sessionmaker() as session, session.begin():
        report = await import_bindings(session, rows, chain.hq_staff)
    assert [r.outcome for r in report.rows] == [
        ImportOutcome.BOUND,
        ImportOutcome.BOUND,
        ImportOutcome.UNCHANGED,
        ImportOutcome.ERROR,
        ImportOutcome.ERROR,
        ImportOutcome.ERROR,
    ]
    assert (report.bound, report.unchanged, report.errors) == (2, 1, 3)
    assert await bound_guide(services, chain.customers[4]) == chain.zhang
    assert await bound_guide(services, chain.customers[5]) == chain.li
    assert await history(services, chain.customers[4]) == [(None, chain.zhang, "import")]
    async with services.sessionmaker() as session, session.begin():
        again = await import_bindings(session, rows[:2], chain.hq_staff)
    assert (again.bound, again.unchanged) == (0, 2)
