"""A small chain for the binding and credit tests: two stores of one region, two guides in the
first and one in the second, an inactive guide, customers with phones, one product, and a
launched deal that sells in any room."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select, update

from attribution.bindings import bind_through_share, set_binding_rule
from attribution.models import Binding, BindingHistory, Customer, SaleCredit
from attribution.schemas import BindingMode, BindingReason, BindingRule, ShareOutcome
from orders.intake import Accepted, IntakeRequest, place_order
from orders.models import Order
from orders.persister import OrderPersister
from server import factories
from server.services import Services
from tests.orders.conftest import intake_of
from tests.orders.test_payments import pay

_keys = itertools.count()


@dataclass
class Chain:
    region_id: int
    store_a: int
    store_b: int
    wang: int
    """王芳, guide of store A (share code g-wang)."""
    li: int
    """李娜, guide of store A (g-li)."""
    zhang: int
    """张伟, guide of store B (g-zhang)."""
    gone: int
    """赵离, an inactive guide of store A (g-gone)."""
    customers: list[int]
    product_id: int
    hq_staff: int
    host_a: int


async def build_chain(services: Services, customers: int = 6) -> Chain:
    async with services.sessionmaker() as session, session.begin():
        region = await factories.add_region(session)
        a = await factories.add_store(session, region_id=region.id)
        b = await factories.add_store(
            session, region_id=region.id, code="HZ01", name="杭州湖滨店", city="杭州"
        )
        wang = await factories.add_guide(session, a.id, name="王芳", share_code="g-wang")
        li = await factories.add_guide(
            session, a.id, name="李娜", phone="13900000002", share_code="g-li"
        )
        zhang = await factories.add_guide(
            session, b.id, name="张伟", phone="13900000003", share_code="g-zhang"
        )
        gone = await factories.add_guide(
            session, a.id, name="赵离", phone="13900000004", share_code="g-gone", active=False
        )
        people = [
            await factories.add_customer(
                session,
                f"openid-{n}",
                home_store_id=a.id,
                nickname=f"林{n}",
                phone=f"1381234{n:04d}",
            )
            for n in range(customers)
        ]
        product = await factories.add_product(session)
        hq = await factories.add_staff(session, "hq", "总部运营")
        host = await factories.add_staff(session, "host", "南京路主播", a.id)
        return Chain(
            region.id,
            a.id,
            b.id,
            wang.id,
            li.id,
            zhang.id,
            gone.id,
            [c.id for c in people],
            product.id,
            hq.id,
            host.id,
        )


async def use_rule(services: Services, mode: BindingMode, protect_days: int = 30) -> None:
    async with services.sessionmaker() as session, session.begin():
        await set_binding_rule(session, BindingRule(mode, protect_days), staff_id=1)


async def share(
    services: Services, customer_id: int, code: str, via: BindingReason = BindingReason.SHARE
) -> ShareOutcome:
    """The customer opens a guide's share link (or scans the QR code) carrying `code`."""
    async with services.sessionmaker() as session, session.begin():
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        return await bind_through_share(session, customer, code, reason=via)


async def bound_guide(services: Services, customer_id: int) -> int | None:
    async with services.sessionmaker() as session:
        return await session.scalar(
            select(Binding.guide_id).where(
                Binding.customer_id == customer_id, Binding.ended_at.is_(None)
            )
        )


async def history(services: Services, customer_id: int) -> list[tuple[int | None, int | None, str]]:
    """(from guide, to guide, reason) of each change, oldest first."""
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(BindingHistory.from_guide_id, BindingHistory.to_guide_id, BindingHistory.reason)
            .where(BindingHistory.customer_id == customer_id)
            .order_by(BindingHistory.id)
        )
        return [(f, t, r) for f, t, r in rows.all()]


async def credit_rows(services: Services, order_id: str) -> list[SaleCredit]:
    async with services.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(SaleCredit)
                    .where(SaleCredit.order_id == order_id)
                    .order_by(SaleCredit.id)
                )
            ).all()
        )


async def open_deal(services: Services, chain: Chain, stock: int = 1000) -> int:
    async with services.sessionmaker() as session:
        return await factories.open_deal(
            session, services.redis, chain.product_id, stock=stock, price_fen=9900
        )


async def place(
    services: Services,
    customer_id: int,
    deal_id: int,
    *,
    room_store_id: int | None,
    quantity: int = 1,
    on_behalf_of_guide: int | None = None,
) -> Accepted:
    """An order accepted and written to SQL, as a payment notice finds it; `on_behalf_of_guide`
    marks it placed by that guide (as the group-selling orders will be)."""
    request = IntakeRequest(
        customer_id=customer_id,
        deal_id=deal_id,
        quantity=quantity,
        idempotency_key=f"k-{next(_keys)}",
        room_store_id=room_store_id,
    )
    placed = await place_order(intake_of(services), request)
    assert isinstance(placed, Accepted), placed
    await OrderPersister(services).drain()
    if on_behalf_of_guide is not None:
        async with services.sessionmaker() as session, session.begin():
            await session.execute(
                update(Order)
                .where(Order.id == placed.order_id)
                .values(placed_by_guide_id=on_behalf_of_guide)
            )
    return placed


async def buy(
    services: Services,
    customer_id: int,
    deal_id: int,
    *,
    room_store_id: int | None,
    quantity: int = 1,
    on_behalf_of_guide: int | None = None,
) -> str:
    """Place and pay an order; its id."""
    placed = await place(
        services,
        customer_id,
        deal_id,
        room_store_id=room_store_id,
        quantity=quantity,
        on_behalf_of_guide=on_behalf_of_guide,
    )
    result = await pay(services, placed.order_id, placed.amount_fen)
    assert result.outcome == "applied", result
    return placed.order_id
