"""The add-fan and repurchase rates of a guide, a store, a region or the chain over a period,
from bindings, sale credits and till sales. Each comes with its definition, shown beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from attribution.models import Binding, Guide, InstoreSale, SaleCredit, Store
from attribution.schemas import BindingReason

NEW_FAN_SOURCES = (BindingReason.SHARE.value, BindingReason.SCAN.value)
"""A new fan is a customer a guide brought in; a transfer or an HQ import moves a relationship
that already existed."""

ADD_FAN_MEANS = (
    "加粉率 = 期内新增绑定（导购分享链接或扫码，不含转移与导入）/ 期内门店成交笔数（门店收银小票）；"
    "导购按其所在门店的成交计。 Add-fan rate: new bindings in the period (a guide's share link"
    " or QR scan; transfers and imports aside) / the store's till transactions in the period;"
    " a guide is measured against their store's transactions."
)
REPURCHASE_MEANS = (
    "复购率 = 期内购买 2 次及以上的顾客数 / 期内有购买的顾客数；购买为记入该范围的线上成交"
    "（全额退款的不计）与门店收银小票（导购范围只计线上业绩）。 Repurchase rate: customers who"
    " bought twice or more in the period / customers who bought in the period; a purchase is an"
    " online sale credited to the scope (fully refunded ones aside) or a till receipt naming the"
    " customer (a guide's scope counts only their credited sales)."
)


@dataclass(frozen=True)
class Scope:
    """At most one of these narrows the figures; none is the whole chain."""

    guide_id: int | None = None
    store_id: int | None = None
    region_id: int | None = None


@dataclass(frozen=True)
class Rates:
    new_fans: int
    store_transactions: int
    buyers: int
    repeat_buyers: int


def _stores_of(scope: Scope, column: InstrumentedAttribute[Any]) -> list[ColumnElement[bool]]:
    if scope.store_id is not None:
        return [column == scope.store_id]
    if scope.region_id is not None:
        return [column.in_(select(Store.id).where(Store.region_id == scope.region_id))]
    return []


async def rates(session: AsyncSession, scope: Scope, since: datetime, until: datetime) -> Rates:
    fans = [
        Binding.source.in_(NEW_FAN_SOURCES),
        Binding.bound_at >= since,
        Binding.bound_at < until,
    ]
    till = [InstoreSale.sold_at >= since, InstoreSale.sold_at < until]
    # Online orders only: a till sale's credit row has no order, and the till table counts it.
    credits = [
        SaleCredit.order_id.is_not(None),
        SaleCredit.created_at >= since,
        SaleCredit.created_at < until,
    ]
    if scope.guide_id is not None:
        fans.append(Binding.guide_id == scope.guide_id)
        guide_store = select(Guide.store_id).where(Guide.id == scope.guide_id).scalar_subquery()
        till.append(InstoreSale.store_id == guide_store)
        credits.append(SaleCredit.guide_id == scope.guide_id)
    else:
        fans += _stores_of(scope, Binding.store_id)
        till += _stores_of(scope, InstoreSale.store_id)
        credits += _stores_of(scope, SaleCredit.store_id)
    new_fans = await session.scalar(select(func.count()).select_from(Binding).where(*fans))
    transactions = await session.scalar(select(func.count()).select_from(InstoreSale).where(*till))
    # One row per purchase: an order whose credits in the period sum above zero (a full refund
    # cancels it), and a till receipt naming its customer (outside a guide's scope).
    online = (
        select(SaleCredit.customer_id.label("customer_id"))
        .where(*credits)
        .group_by(SaleCredit.order_id, SaleCredit.customer_id)
        .having(func.sum(SaleCredit.amount_fen) > 0)
    )
    parts: list[Select[Any]] = [online]
    if scope.guide_id is None:
        parts.append(
            select(InstoreSale.customer_id.label("customer_id")).where(
                *till, InstoreSale.customer_id.is_not(None)
            )
        )
    purchases = union_all(*parts).subquery()
    per_customer = (
        select(purchases.c.customer_id, func.count().label("n"))
        .group_by(purchases.c.customer_id)
        .subquery()
    )
    buyers = await session.scalar(select(func.count()).select_from(per_customer))
    repeat = await session.scalar(
        select(func.count())
        .select_from(per_customer)
        .where(per_customer.c.n >= literal_column("2"))
    )
    return Rates(int(new_fans or 0), int(transactions or 0), int(buyers or 0), int(repeat or 0))
