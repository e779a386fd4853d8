"""Group-buys (拼团) at intake: open a group or join one by ordering, on the deal's own intake.

A group order is an ordinary order of a group_buy deal, taken by reserve.lua wrapped in
group_join.lua: the group's checks (open, in time, a free seat, the customer in no other open
group of the deal) and the deal's (window, limit, stock, idempotency) pass or fail together,
so a group never takes more members than its size however many join at once. The leader's
group gets its row in SQL at once and a job at its deadline; payments, formation, expiry and
refunds are orders/groups_settle.py's.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import msgspec
import structlog
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders import scripts
from orders.groups_models import GroupBuy, GroupStatus
from orders.groups_terms import (
    GROUP_KIND,
    GroupKeys,
    GroupTermsError,
    at_ms,
    deal_of_group,
    group_terms,
    new_group_id,
)
from orders.intake import Accepted, IntakeRequest, KindScript, OrderIntake, Rejected, place_order
from orders.models import Deal
from server.services import Services

log = structlog.get_logger()

SETTLE_JOB = "settle_group"


class GroupOrder(msgspec.Struct, frozen=True):
    group_id: str
    order: Accepted


def _one_unit(request: IntakeRequest) -> Rejected | None:
    if request.quantity != 1:
        return Rejected("invalid_quantity", "a group member orders one unit")
    return None


async def open_group(
    intake: OrderIntake, request: IntakeRequest, sharer_code: str = ""
) -> GroupOrder | Rejected:
    """The customer orders as leader of a new group of the deal. `sharer_code` is the guide
    share code the leader came through; the group's share link carries it on."""
    services = intake.services
    refused = _one_unit(request)
    if refused:
        return refused
    async with services.sessionmaker() as session:
        found = (
            await session.execute(select(Deal.kind, Deal.params).where(Deal.id == request.deal_id))
        ).one_or_none()
    if found is None:
        return Rejected("unknown_deal", f"no deal {request.deal_id}")
    if found.kind != GROUP_KIND:
        return Rejected("not_a_group_deal", "this deal sells no groups")
    try:
        terms = group_terms(found.params)
    except GroupTermsError as exc:
        return Rejected("not_a_group_deal", str(exc))
    group_id = new_group_id(request.deal_id)
    opened_ms = int(time.time() * 1000)
    deadline_ms = opened_ms + terms.minutes * 60_000
    keys = GroupKeys(request.deal_id)
    placed = await place_order(
        intake,
        request,
        KindScript(
            scripts.GROUP_JOIN,
            [keys.group(group_id), keys.member_of, keys.order_groups],
            ["group", group_id, "open", terms.size, deadline_ms, sharer_code[:32]],
        ),
    )
    if isinstance(placed, Rejected):
        return placed
    if placed.repeated:
        return await _first_answer(services, request.deal_id, placed)
    await _record_opened(
        services,
        GroupBuy(
            id=group_id,
            deal_id=request.deal_id,
            leader_customer_id=request.customer_id,
            size=terms.size,
            sharer_code=sharer_code[:32],
            status=GroupStatus.OPEN,
            opened_at=at_ms(opened_ms),
            deadline=at_ms(deadline_ms),
        ),
    )
    return GroupOrder(group_id, placed)


async def join_group(
    intake: OrderIntake, request: IntakeRequest, group_id: str
) -> GroupOrder | Rejected:
    """The customer orders as a member of an open group of the request's deal."""
    services = intake.services
    refused = _one_unit(request)
    if refused:
        return refused
    if deal_of_group(group_id) != request.deal_id:
        return Rejected(
            "foreign_group", f"group {group_id} is not a group of deal {request.deal_id}"
        )
    keys = GroupKeys(request.deal_id)
    placed = await place_order(
        intake,
        request,
        KindScript(
            scripts.GROUP_JOIN,
            [keys.group(group_id), keys.member_of, keys.order_groups],
            ["group", group_id, "join", "", "", ""],
        ),
    )
    if isinstance(placed, Rejected):
        return placed
    if placed.repeated:
        return await _first_answer(services, request.deal_id, placed)
    return GroupOrder(group_id, placed)


async def _first_answer(services: Services, deal_id: int, placed: Accepted) -> GroupOrder:
    """A retried request: the group its order was taken for the first time."""
    found = await services.redis.hget(GroupKeys(deal_id).order_groups, placed.order_id)  # type: ignore[misc]
    return GroupOrder(found.decode() if found else "", placed)


async def share_path_of(services: Services, deal_id: int, group_id: str) -> str:
    """The group's share page, carrying the share code its leader came through."""
    sharer = await services.redis.hget(GroupKeys(deal_id).group(group_id), "sharer")  # type: ignore[misc]
    suffix = f"&share={sharer.decode()}" if sharer else ""
    return f"/static/group.html?g={group_id}{suffix}"


def insert_group(session: AsyncSession, group: GroupBuy) -> Any:
    """An INSERT of the group's row that does nothing if it is there already."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {c.name: getattr(group, c.key) for c in GroupBuy.__table__.columns}
    return insert(GroupBuy).values(**values).on_conflict_do_nothing(index_elements=["id"])


async def _record_opened(services: Services, group: GroupBuy) -> None:
    """The group's row and its deadline job. If this process dies first, the leader's payment
    writes the row from Redis (orders/groups_settle.py) and the sweep stands in for the job."""
    group.closed_at = None
    async with services.sessionmaker() as session, session.begin():
        await session.execute(insert_group(session, group))
    await schedule_settlement(services, group.id, group.deadline)


async def schedule_settlement(services: Services, group_id: str, deadline: datetime) -> None:
    arq = ArqRedis(
        services.redis.connection_pool,
        job_serializer=msgspec.msgpack.encode,
        job_deserializer=msgspec.msgpack.decode,
    )
    try:
        await arq.enqueue_job(
            SETTLE_JOB, group_id, _job_id=f"group:{group_id}", _defer_until=deadline
        )
    except Exception:  # the periodic sweep settles it
        log.warning("orders.group_job_not_scheduled", group_id=group_id, exc_info=True)
