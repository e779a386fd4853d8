"""Rows of every domain with plausible defaults: the one way the tests, the benchmarks and the
demo build a world (stores, staff, guides, customers, products, broadcasts, rooms, windows,
deals, past orders).

It lives in the assembly because it writes every domain's tables; domain packages never import
it. Each `add_*` adds its rows and flushes, so their ids are set; the caller owns the
transaction. `open_deal` is the exception: a deal that sells goes through `orders.deals`, as
HQ's would, so Redis holds its state and the rooms hear of it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.instore_credit import credit_till_sale
from attribution.models import (
    Binding,
    BindingHistory,
    Customer,
    FollowupTask,
    Guide,
    InstoreSale,
    Region,
    SaleCredit,
    Staff,
    Store,
)
from live.models import Broadcast, OnAirChange, Room, ViewerSession, WindowItem
from live.publish import LiveRooms
from orders.deals import create_deal, launch_deal
from orders.deals_models import StoreStock
from orders.models import Deal, Order, OrderEvent, Product
from orders.schemas import DealCreate
from server.model_base import Base, utcnow

Row = TypeVar("Row", bound=Base)

BROADCAST_HOURS = 2
"""How long a broadcast is scheduled for unless told otherwise."""
PAY_WITHIN = timedelta(minutes=15)
"""The payment window of a past order (the service's default)."""


async def _added(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row


async def add_region(session: AsyncSession, name: str = "华东") -> Region:
    return await _added(session, Region(name=name))


async def add_store(
    session: AsyncSession,
    *,
    region_id: int | None = None,
    code: str = "SH01",
    name: str = "上海南京路店",
    city: str = "上海",
) -> Store:
    """A store; in a region of its own unless `region_id` is given."""
    if region_id is None:
        region_id = (await add_region(session)).id
    return await _added(session, Store(region_id=region_id, code=code, name=name, city=city))


async def add_staff(
    session: AsyncSession, role: str, name: str, store_id: int | None = None
) -> Staff:
    """HQ staff (`role="hq"`, no store) or a store's host (`role="host"`)."""
    return await _added(session, Staff(role=role, name=name, store_id=store_id))


async def add_guide(
    session: AsyncSession,
    store_id: int,
    *,
    name: str = "陈导购",
    phone: str = "13900000001",
    share_code: str = "g-chen",
    active: bool = True,
) -> Guide:
    return await _added(
        session,
        Guide(store_id=store_id, name=name, phone=phone, share_code=share_code, active=active),
    )


async def add_customer(
    session: AsyncSession,
    openid: str,
    *,
    home_store_id: int | None,
    nickname: str = "",
    phone: str | None = None,
    created_at: datetime | None = None,
) -> Customer:
    customer = Customer(openid=openid, nickname=nickname, phone=phone, home_store_id=home_store_id)
    if created_at is not None:
        customer.created_at = created_at
    return await _added(session, customer)


async def add_customers(
    session: AsyncSession, count: int, home_store_ids: Sequence[int], openid_prefix: str
) -> list[Customer]:
    """`count` members named 林0, 林1, ..., spread over `home_store_ids` in turn; one flush,
    so a benchmark's thousands cost one round of inserts."""
    customers = [
        Customer(
            openid=f"{openid_prefix}{n}",
            nickname=f"林{n}",
            home_store_id=home_store_ids[n % len(home_store_ids)],
        )
        for n in range(count)
    ]
    session.add_all(customers)
    await session.flush()
    return customers


async def add_binding(
    session: AsyncSession,
    customer_id: int,
    guide_id: int,
    store_id: int,
    *,
    source: str = "share",
    bound_at: datetime | None = None,
    actor: str = "hq:0",
) -> Binding:
    """An open binding and its history row (`actor` made it)."""
    at = bound_at or utcnow()
    session.add(
        BindingHistory(
            customer_id=customer_id,
            to_guide_id=guide_id,
            to_store_id=store_id,
            reason=source,
            actor=actor,
            at=at,
        )
    )
    return await _added(
        session,
        Binding(
            customer_id=customer_id,
            guide_id=guide_id,
            store_id=store_id,
            source=source,
            bound_at=at,
        ),
    )


async def add_product(
    session: AsyncSession,
    *,
    sku: str = "MD0001",
    name: str = "双面羊绒大衣",
    list_price_fen: int = 189900,
    name_en: str = "",
    image_url: str = "",
) -> Product:
    return await _added(
        session,
        Product(
            sku=sku,
            name=name,
            name_en=name_en,
            list_price_fen=list_price_fen,
            image_url=image_url,
        ),
    )


async def add_broadcast(
    session: AsyncSession,
    *,
    kind: str = "hub",
    title: str = "冬季新品首发 · 总部直播",
    status: str = "scheduled",
    starts_at: datetime | None = None,
    store_id: int | None = None,
    host_id: int | None = None,
    relays_id: int | None = None,
    poster_url: str = "",
    play_url: str = "",
) -> Broadcast:
    """A broadcast of `BROADCAST_HOURS` from `starts_at` (now by default); a live one started
    then."""
    start = starts_at or utcnow()
    return await _added(
        session,
        Broadcast(
            kind=kind,
            title=title,
            status=status,
            store_id=store_id,
            host_id=host_id,
            relays_id=relays_id,
            scheduled_start_at=start,
            scheduled_end_at=start + timedelta(hours=BROADCAST_HOURS),
            started_at=start if status == "live" else None,
            poster_url=poster_url,
            play_url=play_url,
        ),
    )


async def add_room(session: AsyncSession, broadcast_id: int, store_id: int | None = None) -> Room:
    return await _added(session, Room(broadcast_id=broadcast_id, store_id=store_id))


async def add_store_relay(
    session: AsyncSession, hub: Broadcast, store: Store, *, host_id: int | None = None
) -> tuple[Broadcast, Room]:
    """The store's own broadcast relaying the hub, on the hub's schedule, and its room."""
    relay = await add_broadcast(
        session,
        kind="store",
        title=f"{store.name} · 冬季新品店播",
        status=hub.status,
        starts_at=hub.scheduled_start_at,
        store_id=store.id,
        host_id=host_id,
        relays_id=hub.id,
        poster_url=hub.poster_url,
        play_url=hub.play_url,
    )
    return relay, await add_room(session, relay.id, store.id)


async def add_window(
    session: AsyncSession, broadcast_id: int, items: Sequence[tuple[int, int]]
) -> list[WindowItem]:
    """The broadcast's product window: `items` is (product id, live price in fen) in display
    order."""
    rows = [
        WindowItem(broadcast_id=broadcast_id, product_id=product_id, position=n, price_fen=price)
        for n, (product_id, price) in enumerate(items)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def add_deal(
    session: AsyncSession,
    product_id: int,
    *,
    kind: str = "flash_sale",
    price_fen: int = 9900,
    stock: int = 10,
    status: str = "draft",
    broadcast_id: int | None = None,
    per_customer_limit: int = 0,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    params: dict[str, Any] | None = None,
) -> Deal:
    """A deal row as it stands, bypassing the rules: a draft for a host to launch, or a
    deal of the past. Redis knows nothing of it; `open_deal` makes one that sells."""
    return await _added(
        session,
        Deal(
            kind=kind,
            product_id=product_id,
            broadcast_id=broadcast_id,
            price_fen=price_fen,
            stock=stock,
            per_customer_limit=per_customer_limit,
            status=status,
            starts_at=starts_at,
            ends_at=ends_at,
            params=dict(params or {}),
        ),
    )


async def open_deal(
    session: AsyncSession,
    redis: redis.asyncio.Redis,
    product_id: int,
    *,
    launch: bool = True,
    **terms: Any,
) -> int:
    """A deal HQ planned through `orders.deals` (a flash sale of 10 units at 99 yuan unless
    `terms` say otherwise), launched unless `launch` is false. Commits: call it outside a
    transaction."""
    fields: dict[str, Any] = {"kind": "flash_sale", "price_fen": 9900, "stock": 10}
    fields.update(terms, product_id=product_id)
    rooms = LiveRooms(redis)
    deal = await create_deal(session, DealCreate(**fields), rooms=rooms)
    if launch:
        _, news = await launch_deal(session, redis, deal.id)
        await rooms.publish(news)
    return deal.id


async def add_paid_order(
    session: AsyncSession,
    deal: Deal,
    customer_id: int,
    *,
    room_store_id: int | None,
    at: datetime,
    idempotency_key: str,
) -> Order:
    """One unit bought and paid at `at`, with its `paid` event: a sale of the past. Its sale
    credit is the caller's (attribution writes it)."""
    order = await _added(
        session,
        Order(
            id=secrets.token_hex(12),
            idempotency_key=idempotency_key,
            customer_id=customer_id,
            deal_id=deal.id,
            product_id=deal.product_id,
            room_store_id=room_store_id,
            quantity=1,
            unit_price_fen=deal.price_fen,
            amount_fen=deal.price_fen,
            status="paid",
            accepted_at=at,
            pay_by=at + PAY_WITHIN,
            paid_at=at,
        ),
    )
    await _added(session, OrderEvent(order_id=order.id, kind="paid", at=at, data={"history": True}))
    return order


async def add_instore_sale(
    session: AsyncSession,
    store_id: int,
    *,
    receipt_id: str,
    amount_fen: int,
    sold_at: datetime,
    customer_id: int | None = None,
) -> InstoreSale:
    """A till sale as the import writes it (attribution/instore.py), with its credit row."""
    sale = await _added(
        session,
        InstoreSale(
            receipt_id=receipt_id,
            store_id=store_id,
            customer_id=customer_id,
            amount_fen=amount_fen,
            sold_at=sold_at,
        ),
    )
    await credit_till_sale(session, sale)
    return sale


async def add_unpaid_order(
    session: AsyncSession,
    deal: Deal,
    customer_id: int,
    *,
    room_store_id: int | None,
    at: datetime,
    idempotency_key: str,
    status: str = "pending_payment",
) -> Order:
    """One unit ordered at `at` and not paid (still pending, or expired/cancelled)."""
    return await _added(
        session,
        Order(
            id=secrets.token_hex(12),
            idempotency_key=idempotency_key,
            customer_id=customer_id,
            deal_id=deal.id,
            product_id=deal.product_id,
            broadcast_id=deal.broadcast_id,
            room_store_id=room_store_id,
            quantity=1,
            unit_price_fen=deal.price_fen,
            amount_fen=deal.price_fen,
            status=status,
            accepted_at=at,
            pay_by=at + PAY_WITHIN,
        ),
    )


async def add_viewer_session(
    session: AsyncSession,
    room_id: int,
    customer_id: int,
    *,
    joined_at: datetime,
    watch_seconds: int = 600,
    likes: int = 0,
    chats: int = 0,
    taps: int = 0,
    tapped_items: dict[int, int] | None = None,
) -> ViewerSession:
    """One finished stay in a room, as the worker flushes it from Redis; `tapped_items` is
    taps per window item id."""
    return await _added(
        session,
        ViewerSession(
            room_id=room_id,
            customer_id=customer_id,
            joined_at=joined_at,
            left_at=joined_at + timedelta(seconds=watch_seconds),
            watch_seconds=watch_seconds,
            likes=likes,
            chats=chats,
            taps=taps,
            tapped_items={str(item): n for item, n in (tapped_items or {}).items()},
        ),
    )


async def add_on_air(
    session: AsyncSession, broadcast_id: int, item_id: int | None, at: datetime
) -> OnAirChange:
    """The broadcast's host put `item_id` on air (None: took it off) at `at`."""
    return await _added(session, OnAirChange(broadcast_id=broadcast_id, item_id=item_id, at=at))


async def add_store_stock(
    session: AsyncSession, store_id: int, items: Sequence[tuple[int, int]]
) -> None:
    """The store's shelves: `items` is (product id, units); what its host may put on deals."""
    session.add_all(StoreStock(store_id=store_id, product_id=p, units=n) for p, n in items)
    await session.flush()


# Facts of the past for HQ's KPIs and scores (live/kpis.py): broadcasts that aired, credit
# rows and follow-up tasks written as their own modules would have written them.


async def add_aired_broadcast(
    session: AsyncSession,
    store_id: int,
    *,
    started_at: datetime,
    minutes: int,
    title: str = "门店专场",
) -> tuple[Broadcast, Room]:
    """A store broadcast that went live at `started_at` and ended `minutes` later, and its room."""
    broadcast = await _added(
        session,
        Broadcast(
            kind="store",
            title=title,
            status="ended",
            store_id=store_id,
            scheduled_start_at=started_at,
            scheduled_end_at=started_at + timedelta(minutes=minutes),
            started_at=started_at,
            ended_at=started_at + timedelta(minutes=minutes),
        ),
    )
    return broadcast, await add_room(session, broadcast.id, store_id)


async def add_sale_credit(
    session: AsyncSession,
    order_id: str,
    customer_id: int,
    amount_fen: int,
    *,
    at: datetime,
    store_id: int | None,
    guide_id: int | None = None,
    broadcast_id: int | None = None,
    refund_id: str | None = None,
) -> SaleCredit:
    """A sale's credit (a negative `amount_fen` with `refund_id`: its reversal) to this store
    and guide, bought in `broadcast_id`'s room when given."""
    return await _added(
        session,
        SaleCredit(
            order_id=order_id,
            kind="reversal" if refund_id else "sale",
            customer_id=customer_id,
            guide_id=guide_id,
            store_id=store_id,
            room_store_id=store_id if broadcast_id else None,
            broadcast_id=broadcast_id,
            rule="bound_guide" if guide_id else "room_store" if broadcast_id else "physical_store",
            refund_id=refund_id,
            amount_fen=amount_fen,
            created_at=at,
        ),
    )


async def add_task(
    session: AsyncSession,
    customer_id: int,
    store_id: int,
    *,
    guide_id: int | None,
    due_at: datetime,
    status: str = "open",
    kind: str = "watched",
) -> FollowupTask:
    """A follow-up task issued when it fell due, in a guide's queue (or the store's pool)."""
    return await _added(
        session,
        FollowupTask(
            kind=kind,
            customer_id=customer_id,
            guide_id=guide_id,
            store_id=store_id,
            status=status,
            created_at=due_at,
            due_at=due_at,
            expires_at=due_at + timedelta(days=3),
            closed_at=due_at + timedelta(hours=1) if status == "done" else None,
        ),
    )
