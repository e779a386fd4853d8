"""Recall campaigns (seed 000's three steps): HQ picks a segment and an invitation; each
customer in it outside do-not-disturb, core customers protected, becomes a task in their
guide's queue (unbound: their home store's pool) with the link and script. Those who did not
pay get one second touch after `retouch_days` (`followups_outcomes.retouch_due`). Progress by
region, store and guide: touched, paid, reactivation rate.

The segment is computed here from the sale credits (last purchase between min_days and
max_days ago); `sleeping_customers` is where i16b's segments plug in."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups import CORE_TIER, current_rules, customer_tiers, last_contacts
from attribution.followups_schemas import (
    CampaignNew,
    CampaignProgress,
    CampaignRead,
    ProgressRow,
    TaskKind,
    TaskStatus,
)
from attribution.models import Binding, Customer, FollowupTask, RecallCampaign, SaleCredit, Store
from server.errors import Conflict, Invalid, NotFound

REACTIVATION_MEANS = (
    "唤醒率 = 已触达（任务已完成）的顾客中，触达后 7 天内付款的人数 / 已触达人数。"
    " Reactivation rate: touched customers (task done) who paid within 7 days after"
    " / touched customers."
)


class EmptySegment(Conflict):
    pass


class BadSegment(Invalid):
    pass


class UnknownCampaign(NotFound):
    pass


async def sleeping_customers(
    session: AsyncSession, min_days: int, max_days: int, now: datetime
) -> list[int]:
    """Customers whose last purchase (sale credit) was between min_days and max_days ago."""
    last = func.max(SaleCredit.created_at)
    rows = await session.scalars(
        select(SaleCredit.customer_id)
        .where(SaleCredit.kind == "sale")
        .group_by(SaleCredit.customer_id)
        .having(last <= now - timedelta(days=min_days), last >= now - timedelta(days=max_days))
    )
    return sorted(customer for customer in rows if customer is not None)  # walk-ins' till sales


async def start_campaign(session: AsyncSession, new: CampaignNew, now: datetime) -> CampaignRead:
    """Write the campaign and its tasks, inside the caller's transaction."""
    if new.min_days >= new.max_days:
        raise BadSegment("min_days must be less than max_days")
    segment = await sleeping_customers(session, new.min_days, new.max_days, now)
    rules = await current_rules(session)
    contacted = await last_contacts(session, segment)
    tiers = await customer_tiers(session, segment)
    quiet = timedelta(days=rules.quiet_days)
    chosen = [
        cid
        for cid in segment
        if tiers.get(cid) != CORE_TIER and not (cid in contacted and contacted[cid] + quiet > now)
    ]
    if not chosen:
        raise EmptySegment("no customer of this segment may be touched now")
    campaign = RecallCampaign(
        name=new.name,
        segment=new.segment,
        min_days=new.min_days,
        max_days=new.max_days,
        invitation_url=new.invitation_url,
        script_zh=new.script_zh,
        script_en=new.script_en,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    bindings = {
        b.customer_id: b
        for b in await session.scalars(
            select(Binding).where(Binding.customer_id.in_(chosen), Binding.ended_at.is_(None))
        )
    }
    homes = {
        cid: home
        for cid, home in (
            await session.execute(
                select(Customer.id, Customer.home_store_id).where(Customer.id.in_(chosen))
            )
        ).all()
    }
    for cid in chosen:
        binding = bindings.get(cid)
        session.add(
            FollowupTask(
                kind=TaskKind.RECALL.value,
                customer_id=cid,
                guide_id=binding.guide_id if binding else None,
                store_id=binding.store_id if binding else homes.get(cid),
                campaign_id=campaign.id,
                created_at=now,
                due_at=now,
                expires_at=now + timedelta(days=rules.expire_days),
            )
        )
    await session.flush()
    return CampaignRead(
        campaign.id,
        campaign.name,
        campaign.segment,
        campaign.min_days,
        campaign.max_days,
        campaign.invitation_url,
        len(chosen),
        len(segment) - len(chosen),
    )


async def campaign_scripts(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(zh, en) per campaign: its script with the invitation link."""
    if not ids:
        return {}
    rows = await session.scalars(select(RecallCampaign).where(RecallCampaign.id.in_(ids)))
    return {
        c.id: (f"{c.script_zh}\n{c.invitation_url}", f"{c.script_en}\n{c.invitation_url}")
        for c in rows
    }


def _row(region: int | None, store: int | None, guide: int | None, n: list[int]) -> ProgressRow:
    issued, touched, paid = n
    rate = round(paid / touched, 4) if touched else 0.0
    return ProgressRow(region, store, guide, issued, touched, paid, rate)


async def campaign_progress(session: AsyncSession, campaign_id: int) -> CampaignProgress:
    if await session.get(RecallCampaign, campaign_id) is None:
        raise UnknownCampaign("no such campaign")
    rows = await session.execute(
        select(Store.region_id, FollowupTask.store_id, FollowupTask.guide_id, FollowupTask)
        .outerjoin(Store, Store.id == FollowupTask.store_id)
        .where(FollowupTask.campaign_id == campaign_id)
    )
    groups: dict[tuple[int | None, int | None, int | None], list[int]] = {}
    total = [0, 0, 0]
    for region, store, guide, task in rows.all():
        counts = groups.setdefault((region, store, guide), [0, 0, 0])
        done = task.status == TaskStatus.DONE
        paid = done and task.converted_order_id is not None
        for n, add in enumerate((1, int(done), int(paid))):
            counts[n] += add
            total[n] += add
    return CampaignProgress(
        campaign_id=campaign_id,
        total=_row(None, None, None, total),
        rows=[_row(*key, counts) for key, counts in sorted(groups.items(), key=str)],
        reactivation_rate_means=REACTIVATION_MEANS,
    )
