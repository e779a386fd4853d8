"""A property over random sequences of orders, payments, refunds, rebinds, transfers, till
sales and till returns: per store (and per guide) the credits sum to what was paid minus what
was refunded of the sales that counted for it when they were paid, plus the store's till sales
less their returns. The test keeps its own model of who is bound to whom,
so the expected owner of each sale does not come from the code under test."""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, or_, select

from attribution.bindings_hq import transfer_customers
from attribution.instore import import_till_sales
from attribution.models import InstoreSale, SaleCredit, Store
from attribution.schemas import BindingMode, InstoreImportReport, ShareOutcome, TransferRequest
from orders.models import Order, Refund
from orders.refunds import RefundError, refund_order
from server import factories
from server.services import Services
from tests.attribution.chain import Chain, build_chain, open_deal, place, share, use_rule
from tests.orders.test_payments import pay

pytestmark = pytest.mark.database
CUSTOMERS = 4
GUIDES = ("wang", "li", "zhang")
TRANSFERS = (("wang", "li"), ("li", "wang"), ("wang", None), ("li", None), ("zhang", None))

operation = st.one_of(
    st.tuples(
        st.just("order"),
        st.integers(0, CUSTOMERS - 1),
        st.sampled_from(["a", "b", None]),
        st.integers(1, 2),
    ),
    st.tuples(st.just("pay"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([None, 1])),
    st.tuples(st.just("rebind"), st.integers(0, CUSTOMERS - 1), st.sampled_from(GUIDES)),
    st.tuples(st.just("transfer"), st.sampled_from(TRANSFERS)),
    st.tuples(st.just("till"), st.sampled_from(["a", "b"]), st.integers(1, 50_000)),
    st.tuples(st.just("return"), st.integers(0, 30), st.integers(1, 50_000)),
)
_examples = itertools.count()


def _till_row(receipt: str, code: str, amount: int, **more: str) -> dict[str, Any]:
    return {
        "receipt_id": receipt,
        "store_code": code,
        "amount_fen": amount,
        "sold_at": "2026-03-02T10:00:00+08:00",
        **more,
    }


async def till_rows(services: Services, rows: list[dict[str, Any]]) -> InstoreImportReport:
    async with services.sessionmaker() as session:
        return await import_till_sales(session, rows)


@pytest.fixture
async def chain(services: Services) -> Chain:
    chain = await build_chain(services, customers=0)
    await use_rule(services, BindingMode.LATEST)
    return chain


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(operation, min_size=1, max_size=14))
async def test_per_store_credits_sum_to_paid_minus_refunded(
    services: Services, chain: Chain, plan: list[tuple[Any, ...]]
) -> None:
    example = next(_examples)
    async with services.sessionmaker() as session, session.begin():
        people = await factories.add_customers(
            session, CUSTOMERS, [chain.store_a], f"inv{example}-"
        )
    customers = [c.id for c in people]
    guide_ids = {name: getattr(chain, name) for name in GUIDES}
    store_of_guide = {
        chain.wang: chain.store_a,
        chain.li: chain.store_a,
        chain.zhang: chain.store_b,
    }
    rooms = {"a": chain.store_a, "b": chain.store_b, None: None}
    deal = await open_deal(services, chain)
    bound: dict[int, int] = {}
    """The model: customer -> guide."""
    orders: list[tuple[str, int, int | None]] = []
    """(order id, customer, room store)."""
    owner: dict[str, tuple[int | None, int | None]] = {}
    """order id -> (guide, store) it should count for, decided when it was paid."""
    codes = {"a": chain.store_a, "b": chain.store_b}
    async with services.sessionmaker() as session:
        code_of = dict((await session.execute(select(Store.id, Store.code))).all())
    till: list[tuple[str, int, int]] = []
    """(receipt, store, amount left to return): the model of the till line."""
    returns = 0

    for op in plan:
        kind = op[0]
        if kind == "order":
            customer = customers[op[1]]
            placed = await place(
                services, customer, deal, room_store_id=rooms[op[2]], quantity=op[3]
            )
            orders.append((placed.order_id, customer, rooms[op[2]]))
        elif kind == "rebind":
            customer, guide = customers[op[1]], guide_ids[op[2]]
            outcome = await share(services, customer, f"g-{op[2]}")
            assert outcome in (ShareOutcome.BOUND, ShareOutcome.MOVED, ShareOutcome.ALREADY)
            bound[customer] = guide
        elif kind == "transfer":
            source, target = (guide_ids[op[1][0]], guide_ids.get(op[1][1] or ""))
            async with services.sessionmaker() as session, session.begin():
                await transfer_customers(
                    session, source, TransferRequest(to_guide_id=target), chain.hq_staff
                )
            for customer, guide in list(bound.items()):
                if guide == source:
                    if target is None:
                        del bound[customer]
                    else:
                        bound[customer] = target
        elif orders and kind == "pay":
            order_id, customer, room_store = orders[op[1] % len(orders)]
            async with services.sessionmaker() as session:
                amount = await session.scalar(select(Order.amount_fen).where(Order.id == order_id))
            result = await pay(services, order_id, int(amount or 0), txn=f"t-{order_id}")
            if result.outcome == "applied":
                guide = bound.get(customer)
                owner[order_id] = (
                    (guide, store_of_guide[guide]) if guide is not None else (None, room_store)
                )
        elif orders and kind == "refund":
            order_id = orders[op[1] % len(orders)][0]
            with contextlib.suppress(RefundError):
                await refund_order(services, order_id, op[2])
        elif kind == "till":
            receipt, till_at = f"inv{example}-T{len(till)}", codes[op[1]]
            report = await till_rows(services, [_till_row(receipt, code_of[till_at], op[2])])
            assert report.imported == 1
            till.append((receipt, till_at, op[2]))
        elif till and kind == "return":
            n = op[1] % len(till)
            receipt, till_at, left = till[n]
            returns += 1
            row = _till_row(f"{receipt}-R{returns}", code_of[till_at], -op[2], return_of=receipt)
            report = await till_rows(services, [row])
            assert report.returns == (1 if op[2] <= left else 0)  # never more than was sold
            if report.returns:
                till[n] = (receipt, till_at, left - op[2])

    expected_store: dict[int | None, int] = defaultdict(int)
    expected_guide: dict[int | None, int] = defaultdict(int)
    async with services.sessionmaker() as session:
        for order_id, (guide, store) in owner.items():
            paid = await session.scalar(select(Order.amount_fen).where(Order.id == order_id))
            refunded = await session.scalar(
                select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
                    Refund.order_id == order_id
                )
            )
            net = int(paid or 0) - int(refunded or 0)
            expected_store[store] += net
            expected_guide[guide] += net
        for _, till_store, left in till:
            expected_store[till_store] += left
            expected_guide[None] += left  # a till sale is no guide's
        ids = [o[0] for o in orders] or ["none"]
        tills = select(InstoreSale.id).where(InstoreSale.receipt_id.like(f"inv{example}-T%"))
        ours = or_(SaleCredit.order_id.in_(ids), SaleCredit.instore_sale_id.in_(tills))
        by_store = await session.execute(
            select(SaleCredit.store_id, func.sum(SaleCredit.amount_fen))
            .where(ours)
            .group_by(SaleCredit.store_id)
        )
        by_guide = await session.execute(
            select(SaleCredit.guide_id, func.sum(SaleCredit.amount_fen))
            .where(ours)
            .group_by(SaleCredit.guide_id)
        )
        credited_store = {store: int(total) for store, total in by_store.all()}
        credited_guide = {guide: int(total) for guide, total in by_guide.all()}
    assert credited_store == {k: v for k, v in expected_store.items() if k in credited_store or v}
    assert credited_guide == {k: v for k, v in expected_guide.items() if k in credited_guide or v}
