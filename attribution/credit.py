"""Sale credit (业绩归属): which guide and store a paid sale counts for, and why.

Decided once, when the sale is paid, inside the payment's transaction, from the facts of that
moment (the order's on-behalf guide, the customer's binding, the room), and never changed: org
changes do not move earned performance. The reason is written out then, in Chinese and
English, so it reads the same after a guide is renamed or a customer transferred. A refund
writes the reverse of exactly the refunded amount against the same guide and store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, Guide, SaleCredit, Store
from server.model_base import utcnow

RULE_ON_BEHALF = "on_behalf"
"""A guide placed the order on the customer's behalf: that guide and the guide's store."""
RULE_BOUND_GUIDE = "bound_guide"
"""Online sale of a bound customer: the guide and the guide's store (seed 002, line two)."""
RULE_ROOM_STORE = "room_store"
"""Online sale of an unbound customer: the store whose room it happened in."""
RULE_HQ_LINE = "hq_line"
"""Online sale of an unbound customer in the hub room (no store's room): HQ's own line, kept
as a credit with no store and no guide, so per-store sums stay the stores' own."""
RULE_PHYSICAL_STORE = "physical_store"
"""A purchase at the till counts for that store (seed 002, line one)."""

SOURCE_WORDS = {
    "share": ("分享链接", "share link"),
    "scan": ("二维码", "QR code"),
    "import": ("总部导入", "HQ import"),
    "transfer": ("总部转移", "transfer by HQ"),
}
"""How a binding came about, as the reason says it."""


def _source_words(source: str) -> tuple[str, str]:
    return SOURCE_WORDS.get(source, (source, source))


async def credit_sale(
    session: AsyncSession,
    *,
    order_id: str,
    customer_id: int,
    amount_fen: int,
    room_store_id: int | None,
    broadcast_id: int | None = None,
    placed_by_guide_id: int | None = None,
    in_store: bool = False,
    at: datetime | None = None,
) -> SaleCredit:
    """Write the one credit of a paid order, inside the caller's transaction. Idempotent."""
    existing = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.kind == "sale")
    )
    if existing is not None:
        return existing
    guide_id, store_id, rule, reason_zh, reason_en = await _decide(
        session, customer_id, room_store_id, placed_by_guide_id, in_store
    )
    credit = SaleCredit(
        order_id=order_id,
        kind="sale",
        customer_id=customer_id,
        guide_id=guide_id,
        store_id=store_id,
        room_store_id=room_store_id,
        broadcast_id=broadcast_id,
        rule=rule,
        reason_zh=reason_zh[:200],
        reason_en=reason_en[:200],
        amount_fen=amount_fen,
        created_at=at or utcnow(),
    )
    session.add(credit)
    return credit


async def _decide(
    session: AsyncSession,
    customer_id: int,
    room_store_id: int | None,
    placed_by_guide_id: int | None,
    in_store: bool,
) -> tuple[int | None, int | None, str, str, str]:
    """(guide, store, rule, reason in Chinese, reason in English), first rule that applies."""
    if placed_by_guide_id is not None and not in_store:
        guide = await session.get(Guide, placed_by_guide_id)
        if guide is not None:
            return (
                guide.id,
                guide.store_id,
                RULE_ON_BEHALF,
                f"导购 {guide.name} 代客下单",
                f"placed on the customer's behalf by guide {guide.name}",
            )
    if not in_store:
        found = (
            await session.execute(
                select(Binding, Guide.name)
                .join(Guide, Guide.id == Binding.guide_id)
                .where(Binding.customer_id == customer_id, Binding.ended_at.is_(None))
            )
        ).first()
        if found is not None:
            binding, name = found
            since = binding.bound_at.date().isoformat()
            zh, en = _source_words(binding.source)
            return (
                binding.guide_id,
                binding.store_id,
                RULE_BOUND_GUIDE,
                f"绑定导购 {name}（自 {since} 通过{zh}）",
                f"bound to guide {name} since {since} through {en}",
            )
    if room_store_id is None:
        return (
            None,
            None,
            RULE_HQ_LINE,
            "未绑定，在总部直播间下单：计入总部",
            "not bound, bought in the hub room: credited to HQ's own line",
        )
    store_name = await session.scalar(select(Store.name).where(Store.id == room_store_id)) or ""
    if in_store:
        return (
            None,
            room_store_id,
            RULE_PHYSICAL_STORE,
            f"门店成交：计入 {store_name}",
            f"bought at the till: credited to {store_name}",
        )
    return (
        None,
        room_store_id,
        RULE_ROOM_STORE,
        f"未绑定：计入下单直播间所属门店 {store_name}",
        f"not bound: credited to the store whose room it was bought in, {store_name}",
    )


async def reverse_credit(
    session: AsyncSession, *, order_id: str, refund_id: str, amount_fen: int
) -> SaleCredit | None:
    """Reverse `amount_fen` of an order's credit to the same guide and store, under the same
    rule. Idempotent per refund (and unique per refund in SQL)."""
    sale = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.kind == "sale")
    )
    if sale is None:
        return None
    existing = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.refund_id == refund_id)
    )
    if existing is not None:
        return existing
    reversal = SaleCredit(
        order_id=order_id,
        kind="reversal",
        customer_id=sale.customer_id,
        guide_id=sale.guide_id,
        store_id=sale.store_id,
        room_store_id=sale.room_store_id,
        broadcast_id=sale.broadcast_id,
        rule=sale.rule,
        refund_id=refund_id,
        reason_zh=f"退款冲回：{sale.reason_zh}"[:200],
        reason_en=f"refund reversed: {sale.reason_en}"[:200],
        amount_fen=-amount_fen,
    )
    session.add(reversal)
    return reversal
