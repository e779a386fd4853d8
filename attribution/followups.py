"""Follow-up tasks from a broadcast's end: every viewer who did not pay reaches a guide.

A customer gets one task per broadcast (hub room and relaying store rooms together, unique by
broadcast and customer, so a second run writes nothing): in their bound guide's queue, or in
their store's pool when unbound. Buyers get none; a customer whose order is still unpaid gets
an `ordered_unpaid` task. Customers contacted within the brand's quiet window are deferred to
its end rather than dropped, so the touch is not lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_cadence import last_purchases, marketing_due
from attribution.followups_schemas import (
    CONTACTED,
    BuyerRecord,
    Rules,
    TaskKind,
    TaskStatus,
    ViewerActivity,
)
from attribution.models import Binding, Customer, CustomerSegment, FollowupRules, FollowupTask

CORE_TIER = "core"


class Standing(NamedTuple):
    """A customer's tier and RFM class as of the last segment refresh."""

    tier: str
    rfm_class: str


async def customer_standings(session: AsyncSession, customer_ids: list[int]) -> dict[int, Standing]:
    """Tier and RFM class of each customer; one never segmented (no purchase yet) has none."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(CustomerSegment.customer_id, CustomerSegment.tier, CustomerSegment.rfm_class).where(
            CustomerSegment.customer_id.in_(customer_ids)
        )
    )
    return {customer_id: Standing(tier, rfm) for customer_id, tier, rfm in rows.all()}


async def customer_tiers(session: AsyncSession, customer_ids: list[int]) -> dict[int, str]:
    """The tier of each segmented customer (core, high_potential, ordinary)."""
    standings = await customer_standings(session, customer_ids)
    return {customer_id: standing.tier for customer_id, standing in standings.items()}


TIER_BOOST = {CORE_TIER: 30, "high_potential": 15}
"""Score added per tier (seed 004's 631 tiers): core customers come first among equally
engaged ones, then the high-potential ones."""
SEGMENT_BOOST = 10
"""Score added for an "important" RFM class (high spend): worth the call before a low spender
who did as much in the room."""


def engagement_score(activity: ViewerActivity, kind: TaskKind, standing: Standing | None) -> int:
    """How likely a touch is to convert, from what the customer did: an unpaid order first,
    then taps (interest in an item), chat lines, minutes watched, likes; then who they are
    (tier, segment)."""
    score = activity.watch_seconds // 60 + 5 * activity.taps + 3 * activity.chats
    score += activity.likes // 5
    if kind is TaskKind.ORDERED_UNPAID:
        score += 50
    if standing is None:
        return score
    score += TIER_BOOST.get(standing.tier, 0)
    if standing.rfm_class.startswith("important_"):
        score += SEGMENT_BOOST
    return score


async def current_rules(session: AsyncSession) -> Rules:
    row = await session.get(FollowupRules, 1)
    if row is None:
        return Rules()
    return Rules(
        row.quiet_days,
        row.core_quiet_days,
        row.expire_days,
        row.convert_days,
        row.retouch_days,
        row.cadence,
    )


async def set_rules(session: AsyncSession, rules: Rules) -> Rules:
    """HQ's edit of the brand's settings, inside the caller's transaction."""
    row = await session.get(FollowupRules, 1, with_for_update=True)
    if row is None:
        row = FollowupRules(id=1)
        session.add(row)
    row.quiet_days, row.core_quiet_days = rules.quiet_days, rules.core_quiet_days
    row.expire_days, row.convert_days = rules.expire_days, rules.convert_days
    row.retouch_days, row.cadence = rules.retouch_days, rules.cadence
    return rules


async def last_contacts(session: AsyncSession, customer_ids: list[int]) -> dict[int, datetime]:
    """When each customer was last reached by any guide (done tasks with a contact outcome)."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(FollowupTask.customer_id, func.max(FollowupTask.closed_at))
        .where(
            FollowupTask.customer_id.in_(customer_ids),
            FollowupTask.status == TaskStatus.DONE,
            FollowupTask.outcome.in_([o.value for o in CONTACTED]),
        )
        .group_by(FollowupTask.customer_id)
    )
    return {customer_id: at for customer_id, at in rows.all() if at is not None}


@dataclass
class TasksMade:
    created: int = 0
    deferred: int = 0
    """Created, but not due before the customer's quiet window ends."""
    buyers: int = 0
    already: int = 0
    """Customers who had this broadcast's task already (a second run)."""


async def create_broadcast_tasks(
    session: AsyncSession,
    *,
    broadcast_id: int,
    viewers: list[ViewerActivity],
    buyers: list[BuyerRecord],
    now: datetime,
) -> TasksMade:
    """Write the broadcast's tasks inside the caller's transaction. `viewers` is one record per
    customer (the hub and store rooms summed); `buyers` every customer who ordered in it."""
    made = TasksMade()
    paid = {b.customer_id for b in buyers if b.paid}
    unpaid = {b.customer_id: b.unpaid_products for b in buyers if not b.paid}
    activity = {v.customer_id: v for v in viewers}
    for customer_id in unpaid:  # ordered without a recorded stay: still theirs to follow
        activity.setdefault(customer_id, ViewerActivity(customer_id, None))
    made.buyers = len(paid & activity.keys())
    wanted = [cid for cid in activity if cid not in paid]
    if not wanted:
        return made
    existing = set(
        await session.scalars(
            select(FollowupTask.customer_id).where(
                FollowupTask.broadcast_id == broadcast_id,
                FollowupTask.customer_id.in_(wanted),
            )
        )
    )
    made.already = len(existing)
    wanted = [cid for cid in wanted if cid not in existing]
    if not wanted:
        return made
    rules = await current_rules(session)
    bindings = {
        b.customer_id: b
        for b in await session.scalars(
            select(Binding).where(Binding.customer_id.in_(wanted), Binding.ended_at.is_(None))
        )
    }
    found = await session.execute(
        select(Customer.id, Customer.home_store_id).where(Customer.id.in_(wanted))
    )
    homes = {customer_id: home for customer_id, home in found.all()}
    standings = await customer_standings(session, wanted)
    contacted = await last_contacts(session, wanted)
    bought = await last_purchases(session, wanted) if rules.cadence else {}
    for customer_id in wanted:
        seen = activity[customer_id]
        kind = TaskKind.ORDERED_UNPAID if customer_id in unpaid else TaskKind.WATCHED
        binding = bindings.get(customer_id)
        standing = standings.get(customer_id)
        core = standing is not None and standing.tier == CORE_TIER
        quiet = rules.core_quiet_days if core else rules.quiet_days
        due = now
        last = contacted.get(customer_id)
        if last is not None and last + timedelta(days=quiet) > now:
            due = last + timedelta(days=quiet)
        if rules.cadence and kind is TaskKind.WATCHED:
            due = marketing_due(bought.get(customer_id), due)
        if due > now:
            made.deferred += 1
        session.add(
            FollowupTask(
                kind=kind.value,
                customer_id=customer_id,
                guide_id=binding.guide_id if binding else None,
                store_id=(
                    binding.store_id if binding else homes.get(customer_id) or seen.room_store_id
                ),
                broadcast_id=broadcast_id,
                watch_seconds=seen.watch_seconds,
                likes=seen.likes,
                chats=seen.chats,
                taps=seen.taps,
                ordered=list(unpaid.get(customer_id, [])),
                items=msgspec.to_builtins(seen.items),
                score=engagement_score(seen, kind, standing),
                created_at=now,
                due_at=due,
                expires_at=due + timedelta(days=rules.expire_days),
            )
        )
        made.created += 1
    await session.flush()
    return made
