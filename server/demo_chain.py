"""The demo chain's content: an HQ, two regions, three stores with hosts and guides, 300
members, twenty products of a women's-wear chain with two years of purchase history, last
night's ended broadcast whose non-buyers fill the guides' follow-up queues, and tonight's hub
broadcast relayed by every store, its window selling through deals.

Built with `server.factories`, like the tests' and benchmarks' worlds. Every random choice comes
from a seeded generator, so each load writes the same chain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.care import after_sale
from attribution.credit import credit_sale
from attribution.models import Binding, Customer, Guide, Store
from live.models import Broadcast, BroadcastStatus, ScheduleNotice, ScheduleNoticeKind, WindowItem
from live.scores_rollup import business_day, roll_up
from orders import coupons
from orders.groups import GroupOrder, open_group
from orders.groups_terms import GROUP_KIND
from orders.intake import IntakeRequest, OrderIntake
from orders.models import Deal, Order, Product
from orders.on_behalf import place_for_customer
from orders.on_behalf_schemas import OnBehalfCreate
from orders.payments import SandboxProvider, handle_notification
from orders.persister import OrderPersister
from orders.statuses import DealStatus
from server import factories
from server.auth import Principal, Role
from server.demo_clip import CLIP_URL
from server.model_base import utcnow
from server.services import Services

STORES = [  # (region, code, name, city)
    ("华东大区", "SH01", "上海南京路店", "上海"),
    ("华东大区", "HZ01", "杭州湖滨店", "杭州"),
    ("华南大区", "GZ01", "广州天河店", "广州"),
]
GUIDE_NAMES = ["王丽", "陈静", "李娜", "张敏", "刘芳", "赵雪"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "小红",
    "晓燕",
    "丽华",
    "婷婷",
    "佳怡",
    "欣怡",
    "雨涵",
    "思琪",
    "梦瑶",
    "静怡",
    "子涵",
    "诗雨",
]
PRODUCTS = [  # (name, English name, list price in yuan)
    ("双面羊绒大衣", "Double-faced cashmere coat", 1899),
    ("真丝印花衬衫", "Printed silk shirt", 599),
    ("高腰阔腿裤", "High-waist wide-leg trousers", 399),
    ("针织开衫", "Knit cardigan", 459),
    ("羽绒服 轻薄款", "Light down jacket", 899),
    ("法式碎花连衣裙", "French floral dress", 529),
    ("百褶半身裙", "Pleated midi skirt", 329),
    ("羊毛混纺西装", "Wool-blend blazer", 999),
    ("纯棉白T恤", "Cotton white tee", 129),
    ("直筒牛仔裤", "Straight-leg jeans", 359),
    ("马海毛毛衣", "Mohair sweater", 699),
    ("风衣 经典款", "Classic trench coat", 1299),
    ("小香风外套", "Tweed jacket", 1099),
    ("丝巾", "Silk scarf", 199),
    ("皮质托特包", "Leather tote bag", 799),
    ("乐福鞋", "Loafers", 569),
    ("打底高领衫", "Turtleneck base layer", 159),
    ("灯芯绒衬衫", "Corduroy shirt", 289),
    ("毛呢阔腿裤", "Wool wide-leg trousers", 459),
    ("珍珠耳环", "Pearl earrings", 239),
]
WINDOW_SIZE = 8
"""Products in tonight's window; the history sells the same ones."""
FLASH_SALES = 2
GROUP_BUY = {"group_size": 2, "group_minutes": 120}
"""The 1.1-yuan pack also sells as a group-buy of two (after the pack itself, at the window's
end), and tonight already has one group open."""
PACK_PRICE_FEN = 110
"""The first window products get a flash sale (a draft the host launches on air)."""
TILL_SALES_PER_STORE = 120
"""In-store receipts per store over two years: enough for every store's figures and segments."""


@dataclass
class Org:
    hq_staff_id: int
    stores: list[Store] = field(default_factory=list)
    host_ids: dict[int, int] = field(default_factory=dict)
    """Host staff id per store id."""
    customer_ids: list[int] = field(default_factory=list)


async def seed_chain(session: AsyncSession) -> list[int]:
    """Write the chain inside the caller's transaction; returns the deals to launch once it is
    committed (`deals_to_launch` finds them again)."""
    org = await _seed_org(session)
    list_prices = await _seed_catalogue(session)
    products = list(list_prices)
    rng = random.Random(3)
    stores = [store.id for store in org.stores]
    buyers = [(cid, rng.choice(stores)) for cid in org.customer_ids if rng.random() < 0.4]
    await _seed_purchase_history(session, products[:WINDOW_SIZE], list_prices, buyers)
    await _seed_till_sales(session, stores)
    await _seed_store_stock(session, stores, products)
    await _seed_online_sales(session, org, products[:WINDOW_SIZE], list_prices)
    window = [(pid, list_prices[pid] * 8 // 10) for pid in products[:WINDOW_SIZE]]
    to_launch = await _seed_tonight(session, org, window)
    await _seed_week(session, org)
    return to_launch


async def _seed_org(session: AsyncSession, customers: int = 300, seed: int = 7) -> Org:
    rng = random.Random(seed)
    regions: dict[str, int] = {}
    for region_name, *_ in STORES:
        if region_name not in regions:
            regions[region_name] = (await factories.add_region(session, region_name)).id
    org = Org(hq_staff_id=(await factories.add_staff(session, "hq", "总部运营 周总")).id)
    guide_names = iter(GUIDE_NAMES)
    guides: dict[int, list[int]] = {}
    for region_name, code, name, city in STORES:
        store = await factories.add_store(
            session, region_id=regions[region_name], code=code, name=name, city=city
        )
        host = await factories.add_staff(session, "host", f"{name}店长", store.id)
        guides[store.id] = [
            (
                await factories.add_guide(
                    session,
                    store.id,
                    name=next(guide_names),
                    phone=f"139{rng.randrange(10**8):08d}",
                    share_code=f"{code}-G{n + 1}",
                )
            ).id
            for n in range(2)
        ]
        org.stores.append(store)
        org.host_ids[store.id] = host.id

    now = utcnow()
    stores = [store.id for store in org.stores]
    for n in range(customers):
        # The draws in this order: the generator's sequence is the demo's content.
        store_id = rng.choice(stores)
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        nickname = rng.choice(SURNAMES) + rng.choice(GIVEN)
        created_at = now - timedelta(days=rng.randrange(30, 900))
        customer = await factories.add_customer(
            session,
            f"demo-openid-{n:04d}",
            home_store_id=store_id,
            nickname=nickname,
            phone=phone,
            created_at=created_at,
        )
        org.customer_ids.append(customer.id)
        if rng.random() < 0.7:  # most members were added by a guide; the rest are unbound
            guide_id = rng.choice(guides[store_id])
            await factories.add_binding(
                session,
                customer.id,
                guide_id,
                store_id,
                source="import",
                bound_at=created_at,
                actor=f"hq:{org.hq_staff_id}",
            )
    return org


async def _seed_catalogue(session: AsyncSession) -> dict[int, int]:
    """The products; returns the list price in fen per product id, in catalogue order."""
    list_prices: dict[int, int] = {}
    for n, (name, name_en, price) in enumerate(PRODUCTS):
        product = await factories.add_product(
            session,
            sku=f"MD{n + 1:04d}",
            name=name,
            name_en=name_en,
            list_price_fen=price * 100,
            image_url=f"/static/img/product-{n % 6 + 1}.svg",
        )
        list_prices[product.id] = product.list_price_fen
    return list_prices


async def _seed_purchase_history(
    session: AsyncSession,
    products: list[int],
    list_prices: dict[int, int],
    buyers: list[tuple[int, int]],
    seed: int = 11,
) -> None:
    """Paid orders of past store broadcasts, so segments and scores have history to work on,
    each credited as its payment was (the bound guide, else the room's store). `buyers` is
    (customer id, store id of the room)."""
    rng = random.Random(seed)
    now = utcnow()
    past_deals: dict[int, Deal] = {}
    for product_id in products:
        past_deals[product_id] = await factories.add_deal(
            session,
            product_id,
            kind="regular",
            status="ended",
            price_fen=list_prices[product_id],
            stock=10_000,
            starts_at=now - timedelta(days=800),
            ends_at=now - timedelta(days=1),
        )
    joined = dict((await session.execute(select(Customer.id, Customer.created_at))).all())
    written = 0
    for customer_id, store_id in buyers:
        for _ in range(rng.randrange(1, 5)):
            product_id = rng.choice(list(past_deals))
            at = now - timedelta(days=rng.randrange(2, 720), minutes=rng.randrange(1440))
            # Not before the customer joined (and was bound): the reason names the binding.
            # An earlier draw is folded into the customer's own months, not piled on day one.
            start = joined[customer_id] + timedelta(hours=1)
            if at < start:
                at = start + (start - at) % max(now - start - timedelta(days=1), timedelta(hours=1))
            await factories.add_paid_order(
                session,
                past_deals[product_id],
                customer_id,
                room_store_id=store_id,
                at=at,
                idempotency_key=f"history-{written}",
            )
            written += 1
    for order in await session.scalars(select(Order).where(Order.status == "paid")):
        await credit_sale(
            session,
            order_id=order.id,
            customer_id=order.customer_id,
            amount_fen=order.amount_fen,
            room_store_id=order.room_store_id,
            at=order.paid_at,
        )


ONLINE_BUYERS_PER_STORE = 16
"""Members of each store who bought in past broadcasts; bound and unbound ones alike, so each
store's credit shows both lines (its guides' and its rooms')."""


async def _seed_online_sales(
    session: AsyncSession,
    org: Org,
    products: list[int],
    list_prices: dict[int, int],
    seed: int = 13,
) -> None:
    """Paid orders of past broadcasts, in the buyer's store room or the hub room, each credited
    as a payment would be (attribution/credit.py decides guide, store and reason)."""
    rng = random.Random(seed)
    now = utcnow()
    deal = await factories.add_deal(
        session,
        products[0],
        kind="regular",
        status="ended",
        price_fen=list_prices[products[0]] * 8 // 10,
        stock=10_000,
        starts_at=now - timedelta(days=90),
        ends_at=now - timedelta(days=1),
    )
    homes = dict((await session.execute(select(Customer.id, Customer.home_store_id))).all())
    written = 0
    for store in org.stores:
        members = [c for c in org.customer_ids if homes.get(c) == store.id]
        for customer_id in rng.sample(members, min(ONLINE_BUYERS_PER_STORE, len(members))):
            at = now - timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(1440))
            room_store_id = store.id if rng.random() < 0.75 else None
            order = await factories.add_paid_order(
                session,
                deal,
                customer_id,
                room_store_id=room_store_id,
                at=at,
                idempotency_key=f"online-{written}",
            )
            written += 1
            await credit_sale(
                session,
                order_id=order.id,
                customer_id=customer_id,
                amount_fen=order.amount_fen,
                room_store_id=room_store_id,
                at=at,
            )


async def _seed_till_sales(session: AsyncSession, stores: list[int], seed: int = 13) -> None:
    """Each store's till sales of the last two years, as HQ's import writes them: most by
    members (linked by phone to one of the store's customers), the rest by walk-ins. Each is a
    credit of the store (rule `instore`) and feeds the segments (attribution/segments.py)."""
    rng = random.Random(seed)
    # From the start of today, so the day in each sale's credit reason is the same whenever
    # today the demo is loaded (tests/foundation/test_worlds.py compares two loads).
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    members = (
        await session.execute(select(Customer.id, Customer.home_store_id).order_by(Customer.id))
    ).all()
    for store_id, store_code in zip(stores, [code for _, code, *_ in STORES], strict=True):
        own = [customer_id for customer_id, home in members if home == store_id]
        for n in range(TILL_SALES_PER_STORE):
            await factories.add_instore_sale(
                session,
                store_id,
                receipt_id=f"{store_code}-T{n:05d}",
                amount_fen=rng.choice(PRODUCTS)[2] * 100 * rng.randrange(1, 3),
                sold_at=today
                - timedelta(days=rng.randrange(1, 720))
                + timedelta(minutes=rng.randrange(1440)),
                customer_id=rng.choice(own) if rng.random() < 0.6 else None,
            )


async def deals_to_launch(session: AsyncSession) -> list[int]:
    """Tonight's hub deals that sell from the start (all but the flash sales, which the host
    launches on air), while none of that broadcast's deals was ever launched; else none."""
    hub = await session.scalar(
        select(Broadcast.id)
        .where(Broadcast.kind == "hub", Broadcast.status != BroadcastStatus.ENDED)
        .order_by(Broadcast.scheduled_start_at, Broadcast.id)
        .limit(1)
    )
    deals = list(
        await session.scalars(select(Deal).where(Deal.broadcast_id == hub).order_by(Deal.id))
    )
    if not deals or any(deal.status != DealStatus.DRAFT for deal in deals):
        return []
    return [deal.id for deal in deals if deal.kind != "flash_sale"]


async def _seed_tonight(
    session: AsyncSession, org: Org, window: list[tuple[int, int]]
) -> list[int]:
    """The hub broadcast two hours from now, each store relaying it, and the hub's window;
    `window` is (product id, live price in fen) in display order. Returns the deals to launch."""
    start = (utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    poster = "/static/img/poster.svg"
    hub = await factories.add_broadcast(
        session, host_id=org.hq_staff_id, starts_at=start, poster_url=poster, play_url=CLIP_URL
    )
    await factories.add_room(session, hub.id)
    items = await factories.add_window(session, hub.id, window)
    for store in org.stores:
        await factories.add_store_relay(session, hub, store, host_id=org.host_ids[store.id])
    to_launch: list[int] = []
    for n, item in enumerate(items):
        flash = n < FLASH_SALES
        deal = await factories.add_deal(
            session,
            item.product_id,
            kind="flash_sale" if flash else "regular",
            broadcast_id=hub.id,
            price_fen=item.price_fen * 6 // 10 if flash else item.price_fen,
            stock=50 if flash else 500,
            per_customer_limit=2 if flash else 0,
        )
        item.deal_id = deal.id
        if not flash:
            to_launch.append(deal.id)
    to_launch.append(await _seed_coupon_pack(session, hub.id, len(items)))
    to_launch.append(await _seed_coupon_pack(session, hub.id, len(items) + 1, group_buy=True))
    await session.flush()
    return to_launch


async def _seed_week(session: AsyncSession, org: Org) -> None:
    """The coming week on HQ's calendar: each store's own evening broadcasts (19:00 Beijing
    time) every other day, a hub broadcast on the fourth day relayed by every store, and
    yesterday's slot of the first store, which never went live (missed)."""
    today = utcnow().replace(hour=11, minute=0, second=0, microsecond=0)  # 19:00 in Beijing
    hub_day = 3
    for day in range(1, 7):
        if day == hub_day:
            hub = await factories.add_broadcast(
                session,
                title="周末特卖 · 总部直播",
                starts_at=today + timedelta(days=day, hours=1),
                host_id=org.hq_staff_id,
            )
            await factories.add_room(session, hub.id)
            for store in org.stores:
                await factories.add_store_relay(session, hub, store, host_id=org.host_ids[store.id])
            continue
        for n, store in enumerate(org.stores):
            if (day + n) % 2:
                continue
            own = await factories.add_broadcast(
                session,
                kind="store",
                title=f"{store.name} · 店长专场",
                starts_at=today + timedelta(days=day),
                store_id=store.id,
                host_id=org.host_ids[store.id],
            )
            await factories.add_room(session, own.id, store.id)
    first = org.stores[0]
    missed = await factories.add_broadcast(
        session,
        kind="store",
        title=f"{first.name} · 店长专场",
        status=BroadcastStatus.MISSED,
        starts_at=today - timedelta(days=1),
        store_id=first.id,
        host_id=org.host_ids[first.id],
    )
    await factories.add_room(session, missed.id, first.id)
    session.add(
        ScheduleNotice(broadcast_id=missed.id, kind=ScheduleNoticeKind.MISSED, recipient_id=0)
    )
    await session.flush()


async def seed_last_night(session: AsyncSession, seed: int = 17) -> int:
    """Last night's hub broadcast, relayed by every store and ended: sixty members watched, a
    few bought (credited, their care begun) and a few left an order unpaid. Returns its id: the
    follow-ups job turns its non-buyers into every guide's queue once this is committed."""
    rng = random.Random(seed)
    end = utcnow() - timedelta(hours=20)
    start = end - timedelta(hours=2)
    stores = list(await session.scalars(select(Store).order_by(Store.id)))
    hub = await factories.add_broadcast(
        session, title="昨晚上新 · 总部直播", status="ended", starts_at=start
    )
    hub.ended_at = end
    rooms: dict[int | None, int] = {None: (await factories.add_room(session, hub.id)).id}
    for store in stores:
        relay, room = await factories.add_store_relay(session, hub, store)
        relay.ended_at, rooms[store.id] = end, room.id
    products = list(await session.scalars(select(Product).order_by(Product.id).limit(4)))
    deals = [
        await factories.add_deal(
            session,
            p.id,
            kind="regular",
            status="ended",
            broadcast_id=hub.id,
            price_fen=p.list_price_fen * 8 // 10,
            stock=500,
        )
        for p in products
    ]
    # The window the hub presented: each item on air for half an hour, in turn, so every
    # follow-up card says which items its customer tapped and saw on air (with images).
    window = await factories.add_window(
        session, hub.id, [(d.product_id, d.price_fen) for d in deals]
    )
    for n, item in enumerate(window):
        await factories.add_on_air(session, hub.id, item.id, start + timedelta(minutes=30 * n))
    tapping = random.Random(seed + 1)  # apart, so the other draws stay as they were
    members = list(
        await session.execute(select(Customer.id, Customer.home_store_id).order_by(Customer.id))
    )
    for n, (customer_id, home) in enumerate(rng.sample(members, 60)):
        room_store = home if rng.random() < 0.8 else None
        joined = start + timedelta(minutes=rng.randrange(60))
        watch_seconds = rng.randrange(60, 3600)
        likes, chats, taps = rng.randrange(30), rng.randrange(4), rng.randrange(5)
        tapped: dict[int, int] = {}
        for _ in range(taps):
            item_id = tapping.choice(window).id
            tapped[item_id] = tapped.get(item_id, 0) + 1
        await factories.add_viewer_session(
            session,
            rooms[room_store],
            customer_id,
            joined_at=joined,
            watch_seconds=watch_seconds,
            likes=likes,
            chats=chats,
            taps=taps,
            tapped_items=tapped,
        )
        deal = rng.choice(deals)
        if n % 6 == 0:  # ten buyers, credited as the payment path would
            order = await factories.add_paid_order(
                session,
                deal,
                customer_id,
                room_store_id=room_store,
                at=joined,
                idempotency_key=f"last-night-{n}",
            )
            credit = await credit_sale(
                session,
                order_id=order.id,
                customer_id=customer_id,
                amount_fen=order.amount_fen,
                room_store_id=room_store,
                at=joined,
            )
            await after_sale(
                session,
                order_id=order.id,
                customer_id=customer_id,
                guide_id=credit.guide_id,
                store_id=credit.store_id,
                paid_at=joined,
                ordered=[products[deals.index(deal)].name],
            )
        elif n % 6 == 1 and n < 30:  # a few left their order unpaid
            await factories.add_unpaid_order(
                session,
                deal,
                customer_id,
                room_store_id=room_store,
                at=joined,
                idempotency_key=f"last-night-{n}",
                status="expired",
            )
    return hub.id


async def open_demo_group(services: Services) -> None:
    """Tonight's group-buy of the 1.1-yuan pack with one group open: a customer who came
    through a guide's share opened it and paid, and waits for a second member (the coupons
    come when it fills)."""
    async with services.sessionmaker() as session:
        deal_id = await session.scalar(select(Deal.id).where(Deal.kind == GROUP_KIND))
        leader = await session.scalar(
            select(Customer).where(Customer.home_store_id.is_not(None)).order_by(Customer.id)
        )
        if deal_id is None or leader is None:
            return
        share = await session.scalar(
            select(Guide.share_code).where(Guide.store_id == leader.home_store_id)
        )
    request = IntakeRequest(
        customer_id=leader.id,
        deal_id=deal_id,
        quantity=1,
        idempotency_key="demo-group",
        room_store_id=leader.home_store_id,
    )
    placed = await open_group(OrderIntake(services), request, share or "")
    if not isinstance(placed, GroupOrder):
        return
    await OrderPersister(services).drain()
    sandbox = SandboxProvider(services.settings)
    headers, body = sandbox.notification(placed.order.order_id, placed.order.amount_fen)
    await handle_notification(services, sandbox, headers, body)


async def _seed_coupon_pack(
    session: AsyncSession, hub_id: int, position: int, *, group_buy: bool = False
) -> int:
    """The case studies' hook at the end of the window: 1.1 yuan for 1,111 yuan of stackable
    coupons (orders/coupons.py DEMO_PACK_PARAMS), one per member. With `group_buy`, the
    chains' favourite variant: the pack as a group-buy of two, whose members get the coupons
    when their group fills."""
    product = await factories.add_product(
        session,
        sku="PACK1111G" if group_buy else "PACK1111",
        name="1111元优惠券包·拼团" if group_buy else "1111元优惠券包",
        name_en="1,111-yuan coupon pack" + (", group-buy" if group_buy else ""),
        list_price_fen=PACK_PRICE_FEN,
        image_url="/static/img/coupon-pack.svg",
    )
    item = WindowItem(
        broadcast_id=hub_id, product_id=product.id, position=position, price_fen=PACK_PRICE_FEN
    )
    session.add(item)
    deal = await factories.add_deal(
        session,
        product.id,
        kind=GROUP_KIND if group_buy else coupons.KIND,
        broadcast_id=hub_id,
        price_fen=PACK_PRICE_FEN,
        stock=1000,
        per_customer_limit=1,
        params={**GROUP_BUY, **coupons.DEMO_PACK_PARAMS} if group_buy else coupons.DEMO_PACK_PARAMS,
    )
    item.deal_id = deal.id
    return deal.id


async def place_waiting_on_behalf(services: Services, deal_ids: list[int]) -> str | None:
    """An order a guide built for a member who asked in chat, held a day for them to confirm
    and pay (orders/on_behalf.py): the first store's first guide, a member bound to them."""
    async with services.sessionmaker() as session:
        found = (
            await session.execute(
                select(Binding.guide_id, Binding.customer_id, Binding.store_id)
                .where(Binding.ended_at.is_(None))
                .order_by(Binding.store_id, Binding.guide_id, Binding.customer_id)
                .limit(1)
            )
        ).first()
        deal_id = await session.scalar(
            select(Deal.id).where(Deal.id.in_(deal_ids), Deal.kind == "regular").order_by(Deal.id)
        )
        if found is None or deal_id is None:
            return None
        guide_id, customer_id, store_id = found
        placed = await place_for_customer(
            OrderIntake(services),
            session,
            Principal(Role.GUIDE, guide_id, store_id),
            OnBehalfCreate(
                idempotency_key="demo-on-behalf",
                customer_id=customer_id,
                deal_id=deal_id,
                hold_minutes=24 * 60,
            ),
        )
    return placed.order_id


async def _seed_store_stock(session: AsyncSession, stores: list[int], products: list[int]) -> None:
    """Every store stocks every product, 20-60 units: what its host may put on a store deal
    (the console's catalogue picker shows it). Fixed, not drawn, so no other draw moves."""
    for s, store_id in enumerate(stores):
        await factories.add_store_stock(
            session, store_id, [(p, 20 + 10 * ((s + n) % 5)) for n, p in enumerate(products)]
        )


# The past three weeks of store broadcasts, their viewers and sales, and the nightly roll-ups
# of them, so HQ's ranking and trend charts have a history from the first look. The stores
# differ on purpose: the first broadcasts often and sells most (its later phase), the second
# less (middle), the third began twelve days ago (early).
HISTORY_DAYS = 21
ROLLED_UP_DAYS = 14
"""Days of roll-up the demo starts with (the trend charts' history)."""


@dataclass(frozen=True)
class Habit:
    first_days_ago: int
    every_days: int
    minutes: int
    orders: tuple[int, int]
    """Paid orders per broadcast, at least and at most."""


HABITS = [
    Habit(first_days_ago=100, every_days=2, minutes=90, orders=(3, 6)),
    Habit(first_days_ago=45, every_days=3, minutes=60, orders=(2, 4)),
    Habit(first_days_ago=12, every_days=4, minutes=45, orders=(1, 3)),
]


async def seed_store_history(session: AsyncSession, seed: int = 21) -> None:
    """Inside the caller's transaction: each store's past broadcasts by its habit (20:00 in
    Beijing), members watching them and buying, credited as payments would be."""
    rng = random.Random(seed)
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    stores = list(await session.scalars(select(Store).order_by(Store.id)))
    product = await session.scalar(select(Product).order_by(Product.id).limit(1))
    assert product is not None, "the catalogue comes first"
    deal = await factories.add_deal(
        session,
        product.id,
        kind="regular",
        status="ended",
        price_fen=product.list_price_fen * 8 // 10,
        stock=10_000,
        starts_at=today - timedelta(days=HISTORY_DAYS + 1),
        ends_at=today - timedelta(days=1),
    )
    written = 0
    aired: list[Aired] = []
    for store, habit in zip(stores, HABITS, strict=False):
        members = list(
            await session.scalars(
                select(Customer.id).where(Customer.home_store_id == store.id).order_by(Customer.id)
            )
        )
        days = [habit.first_days_ago] + [
            d
            for d in range(min(HISTORY_DAYS, habit.first_days_ago), 1, -1)
            if d % habit.every_days == 0
        ]
        for days_ago in days:
            start = today - timedelta(days=days_ago)
            _, room = await factories.add_aired_broadcast(
                session,
                store.id,
                started_at=start,
                minutes=habit.minutes,
                title=f"{store.name} · 店长专场",
            )
            watchers = rng.sample(members, min(len(members), rng.randrange(6, 13)))
            for customer_id in watchers:
                await factories.add_viewer_session(
                    session,
                    room.id,
                    customer_id,
                    joined_at=start + timedelta(minutes=rng.randrange(habit.minutes)),
                    watch_seconds=rng.randrange(120, habit.minutes * 60),
                )
            buyers: set[int] = set()
            aired.append(Aired(store.id, start, watchers, buyers))
            for _ in range(rng.randint(*habit.orders)):
                customer_id = rng.choice(members)
                buyers.add(customer_id)
                at = start + timedelta(minutes=rng.randrange(habit.minutes))
                order = await factories.add_paid_order(
                    session,
                    deal,
                    customer_id,
                    room_store_id=store.id,
                    at=at,
                    idempotency_key=f"history-{written}",
                )
                written += 1
                await credit_sale(
                    session,
                    order_id=order.id,
                    customer_id=customer_id,
                    amount_fen=order.amount_fen,
                    room_store_id=store.id,
                    broadcast_id=room.broadcast_id,
                    at=at,
                )
    await _seed_followup_history(session, aired, random.Random(seed + 1))


@dataclass
class Aired:
    """One of a store's past broadcasts: who watched it and who bought in it."""

    store_id: int
    started_at: datetime
    watchers: list[int]
    buyers: set[int]


FOLLOWED_UP_DAYS = 14
"""How far back the demo's guides worked their follow-ups (the scores' execution rate)."""
DONE_SHARE = 0.9
"""Of a past broadcast's follow-ups, the share its guides did; the rest lapsed."""
SHARE_BINDS = 0.8
"""Of the unbound members watching a past broadcast, the share a guide's link brought in."""


async def _seed_followup_history(
    session: AsyncSession, aired: list[Aired], rng: random.Random
) -> None:
    """The guides' past work: each recent broadcast's non-buyers followed up by their guide
    the next day (most done, some lapsed), and unbound watchers some guide's share brought
    in during it (new fans). Its own generator: the rest of the demo stays as it was."""
    guides: dict[int, list[int]] = {}
    for guide, store_id in await session.execute(select(Guide.id, Guide.store_id)):
        guides.setdefault(store_id, []).append(guide)
    bound = {
        customer_id: guide_id
        for customer_id, guide_id in await session.execute(
            select(Binding.customer_id, Binding.guide_id).where(Binding.ended_at.is_(None))
        )
    }
    since = utcnow() - timedelta(days=FOLLOWED_UP_DAYS)
    for broadcast in sorted(aired, key=lambda a: a.started_at):
        if broadcast.started_at < since:
            continue
        for customer_id in broadcast.watchers:
            if customer_id not in bound and rng.random() < SHARE_BINDS:
                sharer = rng.choice(guides[broadcast.store_id])
                at = broadcast.started_at + timedelta(minutes=rng.randrange(5, 60))
                await factories.add_binding(
                    session,
                    customer_id,
                    sharer,
                    broadcast.store_id,
                    source="share",
                    bound_at=at,
                    actor=f"guide:{sharer}",
                )
                bound[customer_id] = sharer
            if customer_id in broadcast.buyers:
                continue
            guide_id = bound.get(customer_id)
            done = rng.random() < DONE_SHARE
            task = await factories.add_task(
                session,
                customer_id,
                broadcast.store_id,
                guide_id=guide_id,
                due_at=broadcast.started_at + timedelta(days=1),
                status="done" if done else "expired",
            )
            if done:
                task.outcome = rng.choice(["reached", "reached", "no_answer", "booked_visit"])
                task.closed_by_guide_id = guide_id or rng.choice(guides[broadcast.store_id])


async def roll_up_history(services: Services) -> None:
    """The nightly roll-ups of the last ROLLED_UP_DAYS days, as the worker would have run them."""
    today = business_day(utcnow())
    async with services.sessionmaker() as session:
        for back in range(ROLLED_UP_DAYS, 0, -1):
            await roll_up(session, today - timedelta(days=back))
