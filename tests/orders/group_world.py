"""Helpers of the group-buy tests: a group deal, opening and joining, paying, and a group's
clock run out (its deadline moved into the past in SQL and Redis, for every process)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select, update

from orders.groups import GroupOrder, join_group, open_group
from orders.groups_models import GroupBuy, GroupMember
from orders.groups_terms import GroupKeys, deal_of_group
from orders.intake import IntakeRequest, Rejected
from orders.models import Order
from orders.payments import PaymentResult, SandboxProvider, handle_notification
from orders.persister import OrderPersister
from server.model_base import utcnow
from server.services import Services
from tests.orders.conftest import World, intake_of, make_deal

_keys = itertools.count()


async def group_deal(
    services: Services, world: World, *, size: int = 3, stock: int = 100, **params: object
) -> int:
    return await make_deal(
        services,
        world,
        kind="group_buy",
        price_fen=1990,
        stock=stock,
        params={"group_size": size, "group_minutes": 30, **params},
    )


def request(world: World, deal_id: int, customer: int, key: str | None = None) -> IntakeRequest:
    return IntakeRequest(
        customer_id=world.customer_ids[customer],
        deal_id=deal_id,
        quantity=1,
        idempotency_key=key or f"g-{next(_keys)}",
    )


async def opened(services: Services, world: World, deal_id: int, customer: int = 0) -> GroupOrder:
    placed = await open_group(intake_of(services), request(world, deal_id, customer), "GUIDE1")
    assert isinstance(placed, GroupOrder), placed
    return placed


async def joined(
    services: Services, world: World, deal_id: int, group_id: str, customer: int
) -> GroupOrder | Rejected:
    return await join_group(intake_of(services), request(world, deal_id, customer), group_id)


async def pay(services: Services, placed: GroupOrder) -> PaymentResult:
    await OrderPersister(services).drain()
    sandbox = SandboxProvider(services.settings)
    headers, body = sandbox.notification(placed.order.order_id, placed.order.amount_fen)
    return await handle_notification(services, sandbox, headers, body)


async def run_out_of_time(services: Services, group_id: str) -> None:
    """The group's time limit has passed."""
    past = utcnow() - timedelta(seconds=1)
    async with services.sessionmaker() as session, session.begin():
        await session.execute(update(GroupBuy).where(GroupBuy.id == group_id).values(deadline=past))
    deal_id = deal_of_group(group_id)
    assert deal_id is not None
    await services.redis.hset(  # type: ignore[misc]
        GroupKeys(deal_id).group(group_id), "deadline_ms", int(past.timestamp() * 1000)
    )


async def group_row(services: Services, group_id: str) -> GroupBuy:
    async with services.sessionmaker() as session:
        group = await session.get(GroupBuy, group_id)
        assert group is not None
        return group


async def member_statuses(services: Services, group_id: str) -> list[str]:
    async with services.sessionmaker() as session:
        return [
            str(s)
            for s in await session.scalars(
                select(Order.status)
                .join(GroupMember, GroupMember.order_id == Order.id)
                .where(GroupMember.group_id == group_id)
            )
        ]


async def seats(services: Services, group_id: str) -> int:
    deal_id = deal_of_group(group_id)
    assert deal_id is not None
    count = await services.redis.hget(GroupKeys(deal_id).group(group_id), "count")  # type: ignore[misc]
    return int(count or 0)
