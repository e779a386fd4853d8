"""Group-buys after intake: a member's payment, the group filling, its deadline.

A group forms when its size of members have paid: in the payment's transaction, with the
group's row locked, every member's order gets a `group_formed` event at once. At its
deadline (an arq job, and the periodic sweep as the backstop) an unfilled group fails and
every paid member is refunded through `refund_order` and the refund outbox, unless the deal
lets HQ complete a group that reached `auto_complete_at` paid members. A refund is guarded
by the order's status, so a sweep that repeats one, or a worker killed half-way through a
group, refunds each member exactly once. A member whose order expires unpaid gives the seat
back (`release_seat`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import redis.asyncio
import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders import coupons, scripts
from orders.groups import insert_group
from orders.groups_models import GroupBuy, GroupMember, GroupStatus
from orders.groups_terms import GroupKeys, GroupTermsError, at_ms, group_terms
from orders.models import Deal, Order, OrderEvent
from orders.refunds import RefundError, refund_order
from orders.rooms_port import Rooms
from orders.statuses import OrderStatus
from server.model_base import utcnow
from server.services import Services

log = structlog.get_logger()

FAILED_REASON = "group_failed"
SWEEP_BATCH = 200

AfterCommit = Callable[[], Awaitable[None]]


async def on_paid(
    session: AsyncSession, client: redis.asyncio.Redis, order: Order
) -> AfterCommit | None:
    """In the payment's transaction, once `order` (of a group_buy deal) is paid: record the
    member, and form the group if every seat is paid. Returns what to tell Redis after the
    commit, if the group formed."""
    keys = GroupKeys(order.deal_id)
    found = await client.hget(keys.order_groups, order.id)  # type: ignore[misc]
    if found is None:
        log.error("orders.group_order_without_group", order_id=order.id)
        return None
    group_id = found.decode()
    group = await session.get(GroupBuy, group_id, with_for_update=True)
    if group is None:
        group = await _group_from_redis(session, client, keys, group_id)
        if group is None:
            log.error("orders.group_unknown", order_id=order.id, group_id=group_id)
            return None
    await session.execute(_insert_member(session, order, group_id))
    now = utcnow()
    if group.status != GroupStatus.OPEN or now >= group.deadline:
        return None  # out of time: the deadline's settlement refunds this member
    paid = await session.scalar(
        select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group_id)
    )
    if int(paid or 0) < group.size:
        return None
    group.status = GroupStatus.FORMED
    group.closed_at = now
    members = (
        await session.execute(
            select(GroupMember.order_id, GroupMember.customer_id).where(
                GroupMember.group_id == group_id
            )
        )
    ).all()
    for member_order, _ in members:
        session.add(
            OrderEvent(
                order_id=member_order, kind="group_formed", data={"group_id": group_id}, at=now
            )
        )
    await _issue_packs(session, [member_order for member_order, _ in members], now)
    customers = [customer for _, customer in members]

    async def tell_redis() -> None:
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(keys.group(group_id), "status", GroupStatus.FORMED)
            # Free to open or join another group of the deal.
            pipe.hdel(keys.member_of, *[str(c) for c in customers])
            await pipe.execute()

    log.info("orders.group_formed", group_id=group_id, members=len(members))
    return tell_redis


async def _issue_packs(session: AsyncSession, order_ids: list[str], at: datetime) -> None:
    """A pack sold as a group-buy: every member of the group gets the pack's coupons, once."""
    for order_id in order_ids:
        order = await session.get(Order, order_id)
        if order is not None:
            await coupons.issue_pack(session, order, at, group_formed=True)


async def seat_held(client: redis.asyncio.Redis, order: Order) -> bool:
    """Whether the order still holds its seat: one that expired gave it back (`release_seat`),
    and a payment arriving after that must not add a member beyond the group's size."""
    keys = GroupKeys(order.deal_id)
    group_id = await client.hget(keys.order_groups, order.id)  # type: ignore[misc]
    if group_id is None:
        return False
    seat = await client.hget(keys.group(group_id.decode()), f"m:{order.customer_id}")  # type: ignore[misc]
    return seat is not None and seat.decode() == order.id


def _insert_member(session: AsyncSession, order: Order, group_id: str) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(GroupMember)
        .values(
            order_id=order.id, group_id=group_id, customer_id=order.customer_id, paid_at=utcnow()
        )
        .on_conflict_do_nothing()
    )


async def _group_from_redis(
    session: AsyncSession, client: redis.asyncio.Redis, keys: GroupKeys, group_id: str
) -> GroupBuy | None:
    """The row of a group whose opening died between the script and its insert."""
    state = {
        k.decode(): v.decode()
        for k, v in (await client.hgetall(keys.group(group_id))).items()  # type: ignore[misc]
    }
    if "deadline_ms" not in state:
        return None
    await session.execute(
        insert_group(
            session,
            GroupBuy(
                id=group_id,
                deal_id=keys.deal_id,
                leader_customer_id=int(state["leader"]),
                size=int(state["size"]),
                sharer_code=state.get("sharer", ""),
                status=GroupStatus.OPEN,
                opened_at=at_ms(int(state["opened_ms"])),
                deadline=at_ms(int(state["deadline_ms"])),
                closed_at=None,
            ),
        )
    )
    return await session.get(GroupBuy, group_id, with_for_update=True)


async def release_seat(
    client: redis.asyncio.Redis, deal_id: int, order_id: str, customer_id: int
) -> None:
    """An order of a group_buy deal expired unpaid: its seat is free for someone else."""
    keys = GroupKeys(deal_id)
    found = await client.hget(keys.order_groups, order_id)  # type: ignore[misc]
    if found is None:
        return
    await scripts.GROUP_LEAVE(
        keys=[keys.group(found.decode()), keys.member_of],
        args=[order_id, customer_id, found.decode()],
        client=client,
    )


async def settle_group(services: Services, group_id: str, *, rooms: Rooms) -> GroupStatus | None:
    """At the group's deadline: fail it (or complete it, if the deal allows) unless it formed,
    then refund the paid members of a failed group. Safe to run any number of times."""
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        group = await session.get(GroupBuy, group_id, with_for_update=True)
        if group is None:
            return None
        if group.status == GroupStatus.OPEN:
            if now < group.deadline:
                return GroupStatus.OPEN
            paid = await _paid_orders(session, group_id)
            params = await session.scalar(select(Deal.params).where(Deal.id == group.deal_id))
            try:
                auto = group_terms(params or {}).auto_complete_at
            except GroupTermsError:
                auto = 0
            completed = auto > 0 and len(paid) >= auto
            group.status = GroupStatus.COMPLETED if completed else GroupStatus.FAILED
            group.closed_at = now
            for order_id in paid if completed else ():
                session.add(
                    OrderEvent(
                        order_id=order_id,
                        kind="group_completed",
                        data={"group_id": group_id, "members": len(paid)},
                        at=now,
                    )
                )
            if completed:
                await _issue_packs(session, paid, now)
            log.info("orders.group_closed", group_id=group_id, status=group.status, paid=len(paid))
        status, deal_id = group.status, group.deal_id
    await services.redis.hset(GroupKeys(deal_id).group(group_id), "status", status)  # type: ignore[misc]
    if status == GroupStatus.FAILED:
        await refund_members(services, group_id, rooms=rooms)
    return status


async def _paid_orders(session: AsyncSession, group_id: str) -> list[str]:
    return list(
        await session.scalars(
            select(GroupMember.order_id)
            .join(Order, Order.id == GroupMember.order_id)
            .where(GroupMember.group_id == group_id, Order.status == OrderStatus.PAID)
            .order_by(GroupMember.order_id)
        )
    )


async def refund_members(services: Services, group_id: str, *, rooms: Rooms) -> int:
    """Refund every member of a failed group whose order is still paid; returns how many."""
    async with services.sessionmaker() as session:
        due = await _paid_orders(session, group_id)
    refunded = 0
    for order_id in due:
        try:
            _, news = await refund_order(services, order_id, reason=FAILED_REASON)
            await rooms.publish(news)
            refunded += 1
        except RefundError:  # refunded meanwhile by another run
            continue
    return refunded


async def sweep_groups(services: Services, *, rooms: Rooms) -> int:
    """The backstop: settle groups past their deadline that no job settled, and finish the
    refunds of failed groups (a worker killed half-way, a member who paid after the end)."""
    async with services.sessionmaker() as session:
        due = list(
            await session.scalars(
                select(GroupBuy.id)
                .where(GroupBuy.status == GroupStatus.OPEN, GroupBuy.deadline <= utcnow())
                .order_by(GroupBuy.deadline)
                .limit(SWEEP_BATCH)
            )
        )
        unrefunded = list(
            await session.scalars(
                select(GroupBuy.id)
                .distinct()
                .join(GroupMember, GroupMember.group_id == GroupBuy.id)
                .join(Order, Order.id == GroupMember.order_id)
                .where(GroupBuy.status == GroupStatus.FAILED, Order.status == OrderStatus.PAID)
                .limit(SWEEP_BATCH)
            )
        )
    for group_id in due:
        await settle_group(services, group_id, rooms=rooms)
    for group_id in unrefunded:
        await refund_members(services, group_id, rooms=rooms)
    return len(due) + len(unrefunded)
