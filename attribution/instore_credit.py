"""Till sales and returns as sale credit (the store's first line, seed 002).

A purchase at a store's till counts for that store, and for no guide: the guide's line is the
online one (the bound customer's purchases in any room), and a till export does not say who
served at the counter, so crediting the bound guide would pay them for a sale they may not
have made and count it twice in the store's private-domain share. Each imported till row gets
exactly one credit row (unique on `instore_sale_id`), written in the transaction that inserts
the row, so a receipt imported twice is credited once. A return reverses exactly the credit of
the sale it names, under the same store and rule, never more than the sale came to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import InstoreSale, SaleCredit, Store

RULE_INSTORE = "instore"
"""A till sale (or its return): the store where it happened, no guide."""


def sale_reason(store: str, receipt: str, sold_at: datetime) -> tuple[str, str]:
    day = sold_at.date().isoformat()
    return (
        f"门店收银 {store} 小票 {receipt}, {day}"[:200],
        f"till sale at {store}, receipt {receipt}, {day}"[:200],
    )


def return_reason(store: str, receipt: str, original: str, sold_at: datetime) -> tuple[str, str]:
    day = sold_at.date().isoformat()
    return (
        f"门店退货 {store} 小票 {receipt} 退 {original}, {day}"[:200],
        f"till return at {store}, receipt {receipt} of {original}, {day}"[:200],
    )


async def store_names(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(Store.id, Store.name))).all())


def sale_credit_row(
    names: dict[int, str],
    *,
    instore_sale_id: int,
    receipt_id: str,
    store_id: int,
    customer_id: int | None,
    amount_fen: int,
    sold_at: datetime,
) -> dict[str, Any]:
    """The credit row of one till sale, as parameters of a bulk insert into sale_credits."""
    zh, en = sale_reason(names.get(store_id, ""), receipt_id, sold_at)
    return {
        "order_id": None,
        "kind": "sale",
        "customer_id": customer_id,
        "guide_id": None,
        "store_id": store_id,
        "room_store_id": None,
        "broadcast_id": None,
        "rule": RULE_INSTORE,
        "refund_id": None,
        "reason_zh": zh,
        "reason_en": en,
        "amount_fen": amount_fen,
        "created_at": sold_at,
        "instore_sale_id": instore_sale_id,
    }


async def credit_till_sales(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write the credit rows built by `sale_credit_row`, in the caller's transaction."""
    if rows:
        await session.execute(insert(cast(Table, SaleCredit.__table__)), list(rows))


async def credit_till_sale(session: AsyncSession, sale: InstoreSale) -> SaleCredit:
    """The credit of one till sale already flushed (the demo's and the tests' worlds)."""
    names = await store_names(session)
    row = sale_credit_row(
        names,
        instore_sale_id=sale.id,
        receipt_id=sale.receipt_id,
        store_id=sale.store_id,
        customer_id=sale.customer_id,
        amount_fen=sale.amount_fen,
        sold_at=sale.sold_at,
    )
    credit = SaleCredit(**row)
    session.add(credit)
    await session.flush()
    return credit


class ReturnRefused(Exception):
    """A till return that cannot be applied; its message goes into the row's error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def returnable_fen(session: AsyncSession, original: InstoreSale) -> int:
    """What is left to give back on a till sale: its amount less its returns so far."""
    returned = await session.scalar(
        select(func.coalesce(func.sum(InstoreSale.amount_fen), 0)).where(
            InstoreSale.return_of_id == original.id
        )
    )
    return original.amount_fen + int(returned or 0)


async def apply_return(
    session: AsyncSession,
    *,
    receipt_id: str,
    return_of: str,
    amount_fen: int,
    sold_at: datetime,
    imported_at: datetime,
) -> bool:
    """Record a till return of `amount_fen` (> 0) against the sale with receipt `return_of`
    and reverse that much of its credit. False when the return's receipt is already imported;
    ReturnRefused when the original is unknown, is itself a return, or has less left."""
    # The original is locked first: on PostgreSQL two imports of the same return queue here
    # and the second then sees the first's row. SQLite ignores FOR UPDATE; there a second
    # import running at the same moment fails on the unique receipt rather than double-count.
    original = await session.scalar(
        select(InstoreSale).where(InstoreSale.receipt_id == return_of).with_for_update()
    )
    if await session.scalar(select(InstoreSale.id).where(InstoreSale.receipt_id == receipt_id)):
        return False
    if original is None:
        raise ReturnRefused("return_of", f"no till sale has receipt {return_of}")
    if original.return_of_id is not None:
        raise ReturnRefused("return_of", f"receipt {return_of} is itself a return")
    left = await returnable_fen(session, original)
    if amount_fen > left:
        raise ReturnRefused(
            "amount_fen", f"returns {amount_fen} fen of {return_of}, which has {left} fen left"
        )
    sale_credit = await session.scalar(
        select(SaleCredit).where(SaleCredit.instore_sale_id == original.id)
    )
    returned = InstoreSale(
        receipt_id=receipt_id,
        store_id=original.store_id,
        customer_id=original.customer_id,
        amount_fen=-amount_fen,
        sold_at=sold_at,
        imported_at=imported_at,
        return_of_id=original.id,
    )
    session.add(returned)
    await session.flush()
    names = await store_names(session)
    zh, en = return_reason(names.get(original.store_id, ""), receipt_id, return_of, sold_at)
    session.add(
        SaleCredit(
            order_id=None,
            kind="reversal",
            customer_id=original.customer_id,
            guide_id=sale_credit.guide_id if sale_credit else None,
            store_id=sale_credit.store_id if sale_credit else original.store_id,
            room_store_id=None,
            rule=sale_credit.rule if sale_credit else RULE_INSTORE,
            refund_id=receipt_id,
            reason_zh=zh,
            reason_en=en,
            amount_fen=-amount_fen,
            created_at=sold_at,
            instore_sale_id=returned.id,
        )
    )
    return True
