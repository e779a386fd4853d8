"""Rebuilding a group_buy deal's groups in Redis from SQL, after Redis lost them.

The join script decides on Redis alone (orders/lua/group_join.lua): a group's hash (status,
size, count, deadline, seats), the customer -> open group index and the order -> group map.
A Redis that came back empty, or without its last second, would take a joiner into a full
group, let a customer open a second group, or lose the group of an order about to be paid.
So the restorer (orders/restore.py `rebuild_deal`, while the deal's gate is closed) rewrites
them from SQL: every group of the deal still kept in Redis (a week past its deadline, as the
join script keeps them), its seats those of `group_seats` (copied with the orders by the
persister, orders/groups_seats.py) whose order still holds one (unpaid and not expired, or
paid) plus the paid members of `group_members`, and the index of open groups for their
members. A seat is in SQL when its order is: an order Redis lost before the persister wrote
it is lost with its seat.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from orders.groups_models import GroupBuy, GroupMember, GroupSeat, GroupStatus
from orders.groups_terms import GroupKeys
from orders.models import Order
from orders.statuses import SOLD, OrderStatus
from server.model_base import utcnow
from server.services import Services

log = structlog.get_logger()

KEPT = timedelta(days=7)
"""How long the join script keeps a group's hash past its deadline (for the share page)."""


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


async def rebuild_groups(services: Services, deal_id: int) -> int:
    """Rewrite the deal's groups in Redis from SQL; returns how many groups were rebuilt."""
    keys = GroupKeys(deal_id)
    now = utcnow()
    async with services.sessionmaker() as session:
        groups = list(
            await session.scalars(
                select(GroupBuy).where(GroupBuy.deal_id == deal_id, GroupBuy.deadline > now - KEPT)
            )
        )
        ids = [g.id for g in groups]
        holding = (OrderStatus.PENDING_PAYMENT, *SOLD)
        seats = (
            await session.execute(
                select(GroupSeat.group_id, GroupSeat.customer_id, GroupSeat.order_id)
                .join(Order, Order.id == GroupSeat.order_id)
                .where(GroupSeat.group_id.in_(ids), Order.status.in_(holding))
            )
        ).all()
        paid = (
            await session.execute(
                select(GroupMember.group_id, GroupMember.customer_id, GroupMember.order_id)
                .join(Order, Order.id == GroupMember.order_id)
                .where(GroupMember.group_id.in_(ids), Order.status.in_(SOLD))
            )
        ).all()
    members: dict[str, dict[int, str]] = defaultdict(dict)
    for group_id, customer, order_id in [*seats, *paid]:
        members[group_id][customer] = order_id
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.member_of, keys.order_groups)
        for group in groups:
            seated = members.get(group.id, {})
            deadline_ms = _ms(group.deadline)
            fields: dict[str, str | int] = {
                "status": str(group.status),
                "size": group.size,
                "count": len(seated),
                "deadline_ms": deadline_ms,
                "leader": group.leader_customer_id,
                "opened_ms": _ms(group.opened_at),
                "sharer": group.sharer_code,
            }
            fields.update({f"m:{c}": order_id for c, order_id in seated.items()})
            pipe.delete(keys.group(group.id))
            pipe.hset(keys.group(group.id), mapping=fields)
            pipe.pexpireat(keys.group(group.id), deadline_ms + int(KEPT.total_seconds() * 1000))
            if seated:
                pipe.hset(keys.order_groups, mapping={o: group.id for o in seated.values()})
            if group.status == GroupStatus.OPEN and group.deadline > now and seated:
                pipe.hset(
                    keys.member_of,
                    mapping={str(c): f"{group.id}|{deadline_ms}" for c in seated},
                )
        await pipe.execute()
    log.warning("orders.groups_rebuilt", deal_id=deal_id, groups=len(groups))
    return len(groups)
