"""What the room, the share page and "my groups" show of group-buys: seats from Redis (they
change with every join), status and paid members from SQL."""

from __future__ import annotations

from typing import Any

import redis.asyncio
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import masked_names
from orders.deals import deal_snapshots
from orders.groups_models import GroupBuy, GroupMember, GroupStatus
from orders.groups_schemas import DealGroupsRead, GroupRead
from orders.groups_terms import GROUP_KIND, GroupKeys, group_terms
from orders.models import Deal, Product
from server.model_base import utcnow

OPEN_GROUPS_SHOWN = 20


def share_path(group: GroupBuy) -> str:
    suffix = f"&share={group.sharer_code}" if group.sharer_code else ""
    return f"/static/group.html?g={group.id}{suffix}"


async def group_reads(
    session: AsyncSession, client: redis.asyncio.Redis, groups: list[GroupBuy]
) -> list[GroupRead]:
    if not groups:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for group in groups:
            pipe.hgetall(GroupKeys(group.deal_id).group(group.id))
        states: list[dict[bytes, bytes]] = await pipe.execute()
    paid_rows = await session.execute(
        select(GroupMember.group_id, GroupMember.customer_id).where(
            GroupMember.group_id.in_([g.id for g in groups])
        )
    )
    paid: dict[str, list[int]] = {}
    for group_id, customer_id in paid_rows.all():
        paid.setdefault(group_id, []).append(customer_id)
    seated: dict[str, list[int]] = {}
    for group, state in zip(groups, states, strict=True):
        members = [int(k[2:]) for k in state if k.startswith(b"m:")]
        # Redis keeps a group a week past its deadline; after that, its paid members.
        found = members or paid.get(group.id, [])
        seated[group.id] = sorted(found, key=lambda c: (c != group.leader_customer_id, c))
    names = await masked_names(session, sorted({c for cs in seated.values() for c in cs}))
    return [
        GroupRead(
            group_id=group.id,
            deal_id=group.deal_id,
            status=group.status,
            size=group.size,
            members=len(seated[group.id]),
            paid=len(paid.get(group.id, [])),
            deadline_ms=int(group.deadline.timestamp() * 1000),
            member_names=[names.get(c, "") for c in seated[group.id]],
            share_path=share_path(group),
        )
        for group in groups
    ]


async def one_group(
    session: AsyncSession, client: redis.asyncio.Redis, group_id: str
) -> GroupRead | None:
    group = await session.get(GroupBuy, group_id)
    return None if group is None else (await group_reads(session, client, [group]))[0]


async def deal_groups(
    session: AsyncSession, client: redis.asyncio.Redis, deal_id: int
) -> DealGroupsRead | None:
    """A group deal's terms and its open groups, the fullest first (closest to forming)."""
    deal = await session.get(Deal, deal_id)
    if deal is None or deal.kind != GROUP_KIND:
        return None
    product = await session.get(Product, deal.product_id)
    assert product is not None
    terms = group_terms(deal.params)
    groups = list(
        await session.scalars(
            select(GroupBuy)
            .where(
                GroupBuy.deal_id == deal_id,
                GroupBuy.status == GroupStatus.OPEN,
                GroupBuy.deadline > utcnow(),
            )
            .order_by(GroupBuy.deadline)
            .limit(OPEN_GROUPS_SHOWN)
        )
    )
    reads = await group_reads(session, client, groups)
    reads.sort(key=lambda g: (g.members >= g.size, -g.members, g.deadline_ms))
    snapshot = (await deal_snapshots(client, session, [deal_id]))[deal_id]
    return DealGroupsRead(
        deal_id=deal.id,
        deal_status=snapshot.status,
        product_name=product.name,
        product_name_en=product.name_en,
        image_url=product.image_url,
        list_price_fen=product.list_price_fen,
        group_price_fen=deal.price_fen,
        group_size=terms.size,
        group_minutes=terms.minutes,
        stock_left=snapshot.stock_left,
        groups=reads,
    )


async def my_groups(
    session: AsyncSession, client: redis.asyncio.Redis, customer_id: int, limit: int = 50
) -> list[GroupRead]:
    """Groups the customer opened or paid into, newest first."""
    paid_in = select(GroupMember.group_id).where(GroupMember.customer_id == customer_id)
    query: Any = (
        select(GroupBuy)
        .where(or_(GroupBuy.leader_customer_id == customer_id, GroupBuy.id.in_(paid_in)))
        .order_by(GroupBuy.opened_at.desc())
        .limit(limit)
    )
    return await group_reads(session, client, list(await session.scalars(query)))
