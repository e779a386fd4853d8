"""Unpaid orders expire at their pay-by time and give their units back, a batch at a time.

Two triggers, one effect: the arq job the persister schedules for each batch it writes
(orders/persister.py), and a periodic SQL sweep, the backstop for jobs arq lost (it runs a job
at least once, and can lose jobs with Redis). Both call `expire_batch`: one guarded UPDATE for
the whole batch (`WHERE status = 'pending_payment'`), so running it twice has the effect of
once; then the units go back through the release script, which runs once per hold. A rerun
releases the holds of every expired order of its batch, so a worker killed between the commit
and the releases leaves nothing held once arq runs the job again.

The stock the batch gave back goes to the rooms through the orders' notices when the process
runs them (orders/notices.py: one frame per deal every ~450 ms across all processes), else as
one frame per deal per batch: never a frame per order.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import select, update

from orders import coupons, scripts
from orders.coupons_models import Coupon
from orders.groups_settle import release_seat
from orders.groups_terms import GROUP_KIND
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent
from orders.notices import OrderNotices
from orders.rooms_port import RoomNews, Rooms, stock_left
from orders.statuses import OrderStatus
from server.model_base import utcnow
from server.services import Services

SWEEP_BATCH = 500
"""Orders per sweep step and at most per transaction: one UPDATE and one release pipeline."""


class Expired(msgspec.Struct, frozen=True):
    order_id: str
    news: list[RoomNews]
    """The units given back, for the rooms."""


class ExpiredBatch(msgspec.Struct, frozen=True):
    expired: list[str]
    """The orders this call expired (not those a previous run or the payment path closed)."""
    released: int
    """Holds given back by this call: its own expiries and those a killed run left held."""
    stock: dict[int, tuple[int | None, int]]
    """Deal id -> (its broadcast, the stock left after the last release)."""

    def news(self) -> list[RoomNews]:
        return [
            item
            for deal_id, (broadcast_id, left) in self.stock.items()
            for item in stock_left(broadcast_id, deal_id, left)
        ]


class _Row(msgspec.Struct, array_like=True, frozen=True):
    order_id: str
    deal_id: int
    broadcast_id: int | None
    kind: str
    customer_id: int
    room_store_id: int | None
    quantity: int


async def _expire_in_sql(
    services: Services, order_ids: Sequence[str]
) -> tuple[list[str], dict[str, tuple[int, list[int]]], list[_Row]]:
    """One transaction: expire the batch's due unpaid orders, free the coupons they spent.
    Returns the orders expired, the coupons freed per order, and every expired order of the
    batch (to release their holds, idempotently)."""
    now = utcnow()
    freed: dict[str, tuple[int, list[int]]] = {}
    async with services.sessionmaker() as session, session.begin():
        expired = list(
            await session.scalars(
                update(Order)
                .where(
                    Order.id.in_(order_ids),
                    Order.status == OrderStatus.PENDING_PAYMENT,
                    Order.pay_by <= now,
                )
                .values(status=OrderStatus.EXPIRED, closed_at=now)
                .returning(Order.id)
            )
        )
        if expired:
            session.add_all(OrderEvent(order_id=i, kind="expired", at=now) for i in expired)
            spent = await session.scalars(
                select(Coupon.used_order_id).where(Coupon.used_order_id.in_(expired)).distinct()
            )
            for order_id in list(spent):
                if order_id is not None:
                    freed[order_id] = await coupons.give_back(session, order_id)
        rows = (
            await session.execute(
                select(
                    Order.id,
                    Order.deal_id,
                    Deal.broadcast_id,
                    Deal.kind,
                    Order.customer_id,
                    Order.room_store_id,
                    Order.quantity,
                )
                .join(Deal, Deal.id == Order.deal_id)
                .where(Order.id.in_(order_ids), Order.status == OrderStatus.EXPIRED)
            )
        ).all()
    return expired, freed, [_Row(*row) for row in rows]


async def expire_batch(
    services: Services, order_ids: Sequence[str], *, notices: OrderNotices | None = None
) -> ExpiredBatch:
    """Expire the orders of `order_ids` that are unpaid past their pay-by, and give back the
    units of every expired order of the batch still holding some. Orders paid meanwhile are
    left alone. With `notices`, the deals whose stock changed are marked there (coalesced
    across processes); the caller publishes `news()` otherwise."""
    expired: list[str] = []
    released = 0
    stock: dict[int, tuple[int | None, int]] = {}
    for start in range(0, len(order_ids), SWEEP_BATCH):
        chunk = order_ids[start : start + SWEEP_BATCH]
        done, freed, rows = await _expire_in_sql(services, chunk)
        expired += done
        released += await _release(services, rows, freed, stock)
    if notices is not None:
        for deal_id in stock:
            notices.stock_changed(deal_id)
    return ExpiredBatch(expired, released, stock)


async def _release(
    services: Services,
    rows: list[_Row],
    freed: dict[str, tuple[int, list[int]]],
    stock: dict[int, tuple[int | None, int]],
) -> int:
    """The Redis side, after the commit: every hold back in one pipeline, then what only the
    orders whose hold this call released own (a group seat, a pack's store claim)."""
    client = services.redis
    # The coupons first: only this run knows which it freed (SQL no longer ties them to the
    # order), while a rerun still finds the holds.
    for order_id, (customer_id, coupon_ids) in freed.items():
        await coupons.mirror_give_back(client, customer_id, order_id, coupon_ids)
    async with client.pipeline(transaction=False) as pipe:
        for row in rows:
            keys = DealKeys(row.deal_id)
            await scripts.RELEASE(
                keys=[keys.state, keys.buyers, keys.holds], args=[row.order_id], client=pipe
            )
        lefts = await pipe.execute()
    released = 0
    for row, left in zip(rows, lefts, strict=True):
        if left is None:  # released before: by a previous run, or the reconciliation
            continue
        released += 1
        stock[row.deal_id] = (row.broadcast_id, int(left))
        if row.kind == GROUP_KIND:
            await release_seat(client, row.deal_id, row.order_id, row.customer_id)
        if row.kind == coupons.KIND:
            await coupons.release_store_claim(client, row.deal_id, row.room_store_id, row.quantity)
    return released


async def expire_order(services: Services, order_id: str) -> Expired | None:
    """Expire one unpaid order past its pay-by time; None unless this call expired it."""
    batch = await expire_batch(services, [order_id])
    if order_id not in batch.expired:
        return None
    return Expired(order_id, batch.news())


async def sweep_expired(
    services: Services, *, rooms: Rooms, notices: OrderNotices | None = None
) -> int:
    """Expire every unpaid order past its pay-by time, SWEEP_BATCH at a time; returns how many.
    Each step's stock goes to the rooms after its commit."""
    expired = 0
    while True:
        async with services.sessionmaker() as session:
            due = list(
                await session.scalars(
                    select(Order.id)
                    .where(
                        Order.status == OrderStatus.PENDING_PAYMENT,
                        Order.pay_by <= utcnow(),
                    )
                    .order_by(Order.pay_by)
                    .limit(SWEEP_BATCH)
                )
            )
        batch = await expire_batch(services, due, notices=notices)
        expired += len(batch.expired)
        if notices is None:
            await rooms.publish(batch.news())
        if len(due) < SWEEP_BATCH:
            return expired
