"""Coupon packs: a paid pack issues its coupons; an order spends them inside the intake's
script by the rules (owner, validity, minimum, scope, stacking), each once; expiry and refunds
give them back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from live.publish import LiveRooms
from orders.coupons import DEMO_PACK_PARAMS, mirror_key
from orders.coupons_models import Coupon
from orders.expiry import sweep_expired
from orders.intake import Accepted, IntakeRequest, Rejected, place_order
from orders.keys import DealKeys
from orders.persister import OrderPersister
from orders.refunds import RefundError, refund_order
from orders.restore import rebuild_deal, restore_answers
from server import factories
from server.auth import Role
from server.model_base import utcnow
from server.services import Services
from tests.orders.conftest import Order_, World, intake_of, make_deal, stock_left
from tests.orders.test_payments import order_status, pay

pytestmark = pytest.mark.database

YUAN = 100


async def pack_deal(services: Services, world: World, **params: object) -> int:
    """The demo's 1.1-yuan pack unless `params` change it."""
    return await make_deal(
        services,
        world,
        kind="coupon_pack",
        price_fen=110,
        stock=100,
        params={**DEMO_PACK_PARAMS, **params},
    )


async def buy_pack(
    services: Services, order: Order_, persister: OrderPersister, deal: int, customer: int
) -> list[int]:
    """The customer orders and pays the pack; its coupon ids in pack order (111, 300, 300,
    400 yuan off for the demo's)."""
    placed = await order(deal, customer=customer)
    assert isinstance(placed, Accepted), placed
    await persister.drain()
    await pay(services, placed.order_id, placed.amount_fen)
    async with services.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Coupon.id)
                .where(Coupon.pack_order_id == placed.order_id)
                .order_by(Coupon.position)
            )
        )


async def coupon_users(services: Services, ids: list[int]) -> list[str | None]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(Coupon.id, Coupon.used_order_id).where(Coupon.id.in_(ids)).order_by(Coupon.id)
        )
        return [used for _, used in rows.all()]


async def test_a_paid_pack_issues_its_four_coupons_once(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await pack_deal(services, world)
    ids = await buy_pack(services, order, persister, deal, 0)
    async with services.sessionmaker() as session:
        coupons = list(await session.scalars(select(Coupon).where(Coupon.id.in_(ids))))
    terms = sorted((c.amount_off_fen, c.min_spend_fen, c.stackable) for c in coupons)
    assert terms == [
        (11100, 0, True),
        (30000, 100000, True),
        (30000, 100000, True),
        (40000, 130000, True),
    ]
    assert all(c.customer_id == world.customer_ids[0] for c in coupons)


# The 1.1-yuan pack's coupons: A = 111 off, no threshold; B1, B2 = 300 off 1,000; C = 400 off
# 1,300; all stackable. Every minimum is met by the order's full price. Worked by hand.
PACK_CASES = [
    # (order price in yuan, coupons chosen, yuan to pay, or the refusal)
    (299, "A", 188, None),
    (299, "A B1", None, "needs a spend of 100000 fen"),
    (1000, "A B1 B2", 289, None),
    (1000, "A B1 B2 C", None, "needs a spend of 130000 fen"),
    (1300, "A B1 B2 C", 189, None),
    (2300, "A B1 B2 C", 1189, None),
    (2300, "C", 1900, None),
    (100, "A", 1 / YUAN, None),  # never below one fen
]


async def test_the_pack_lowers_orders_of_299_1000_1300_and_2300_yuan_by_its_rules(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deals = {
        price: await make_deal(services, world, price_fen=price * YUAN, stock=50)
        for price in sorted({case[0] for case in PACK_CASES})
    }
    for customer, (price, chosen, due_yuan, refusal) in enumerate(PACK_CASES):
        a, b1, b2, c = await buy_pack(services, order, persister, pack, customer)
        named = {"A": a, "B1": b1, "B2": b2, "C": c}
        coupon_ids = tuple(named[label] for label in chosen.split())
        placed = await order(deals[price], customer=customer, coupon_ids=coupon_ids)
        if refusal is None:
            assert isinstance(placed, Accepted), (price, chosen, placed)
            assert placed.amount_fen == round(due_yuan * YUAN), (price, chosen)
        else:
            assert isinstance(placed, Rejected), (price, chosen, placed)
            assert (placed.reason, refusal in placed.detail) == ("invalid_coupon", True)
    await persister.drain()
    async with services.sessionmaker() as session:
        spent = await session.scalar(
            select(Coupon.id).where(Coupon.used_order_id.is_not(None)).limit(1)
        )
    assert spent is not None  # the persister recorded the uses


async def refused_changing_nothing(
    services: Services,
    world: World,
    order: Order_,
    deal: int,
    customer: int,
    coupon_ids: tuple[int, ...],
    why: str,
) -> None:
    """The order is refused for `why`; the stock and every coupon named stay as they were."""
    owner_mirrors = [mirror_key(c) for c in world.customer_ids[:3]]

    async def states() -> list[list[bytes | None]]:
        return [
            await services.redis.hmget(key, [str(i) for i in coupon_ids])  # type: ignore[misc]
            for key in owner_mirrors
        ]

    before_stock, before = await stock_left(services, deal), await states()
    placed = await order(deal, customer=customer, coupon_ids=coupon_ids)
    assert isinstance(placed, Rejected) and placed.reason == "invalid_coupon", placed
    assert why in placed.detail, placed.detail
    assert await stock_left(services, deal) == before_stock
    for was, now in zip(before, await states(), strict=True):
        # A coupon the intake first mirrored now is there unused; none changed hands.
        assert [w if w is not None else n for w, n in zip(was, now, strict=True)] == now
        assert all(
            n is None or w is not None or n.endswith(b"|") for w, n in zip(was, now, strict=True)
        )


async def test_someone_elses_used_expired_below_minimum_and_unstackable_coupons_are_refused(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    solo = await pack_deal(services, world, stackable=False, coupons="11100/0x2,30000/100000x2")
    deal = await make_deal(services, world, price_fen=500 * YUAN, stock=20)
    a, b1, _, _ = await buy_pack(services, order, persister, pack, 0)
    x, y, _, _ = await buy_pack(services, order, persister, solo, 1)
    await refused_changing_nothing(services, world, order, deal, 2, (a,), "is not yours")
    await refused_changing_nothing(services, world, order, deal, 0, (b1,), "needs a spend")
    await refused_changing_nothing(services, world, order, deal, 1, (x, y), "does not stack")
    await refused_changing_nothing(services, world, order, deal, 0, (a, a), "chosen twice")
    first = await order(deal, customer=0, coupon_ids=(a,))
    assert isinstance(first, Accepted) and first.amount_fen == (500 - 111) * YUAN
    await refused_changing_nothing(services, world, order, deal, 0, (a,), "is used")
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        await refused_changing_nothing(services, world, order, deal, 1, (x,), "not valid now")
    assert await coupon_users(services, [x, y]) == [None, None]


async def test_a_pack_claimed_twice_is_refused_and_concurrent_claims_take_one(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    answers = await asyncio.gather(*(order(pack, customer=0) for _ in range(20)))
    accepted = [a for a in answers if isinstance(a, Accepted)]
    assert len(accepted) == 1
    assert {a.reason for a in answers if isinstance(a, Rejected)} == {"pack_claimed"}
    same = await asyncio.gather(*(order(pack, customer=1, key="claim-1") for _ in range(10)))
    assert all(isinstance(a, Accepted) for a in same)
    assert len({a.order_id for a in same if isinstance(a, Accepted)}) == 1
    await persister.drain()
    await pay(services, accepted[0].order_id, 110)
    again = await order(pack, customer=0)
    assert isinstance(again, Rejected) and again.reason == "pack_claimed"
    assert await stock_left(services, pack) == 98
    async with services.sessionmaker() as session:
        issued = list(await session.scalars(select(Coupon.id)))
    assert len(issued) == 4


async def test_a_refund_returns_the_coupons_and_they_spend_again(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=1300 * YUAN, stock=5)
    ids = await buy_pack(services, order, persister, pack, 0)
    placed = await order(deal, coupon_ids=tuple(ids))
    assert isinstance(placed, Accepted) and placed.amount_fen == 189 * YUAN
    await persister.drain()
    assert await coupon_users(services, ids) == [placed.order_id] * 4
    await pay(services, placed.order_id, placed.amount_fen)
    done, _ = await refund_order(services, placed.order_id)
    assert done.amount_fen == 189 * YUAN
    assert await coupon_users(services, ids) == [None] * 4
    again = await order(deal, coupon_ids=tuple(ids))
    assert isinstance(again, Accepted) and again.amount_fen == 189 * YUAN


async def test_an_order_expired_unpaid_returns_its_coupons(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=5)
    (a, *_) = await buy_pack(services, order, persister, pack, 0)
    placed = await order(deal, coupon_ids=(a,))
    assert isinstance(placed, Accepted)
    await persister.drain()
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        assert await sweep_expired(services, rooms=LiveRooms(services.redis)) == 1
        assert await order_status(services, placed.order_id) == "expired"
        assert await coupon_users(services, [a]) == [None]
        again = await order(deal, coupon_ids=(a,))
    assert isinstance(again, Accepted) and again.amount_fen == 188 * YUAN


async def test_a_pack_deal_needs_coupons_in_its_params(services: Services, world: World) -> None:
    from orders.deals import BadDeal

    with pytest.raises(BadDeal, match=r"params\.coupons"):
        async with services.sessionmaker() as session:
            await factories.open_deal(
                session, services.redis, world.product_id, kind="coupon_pack", params={}
            )


async def test_coupons_are_refused_on_the_plain_intake_path_when_not_owned(
    services: Services, world: World
) -> None:
    deal = await make_deal(services, world)
    request = IntakeRequest(
        customer_id=world.customer_ids[0],
        deal_id=deal,
        quantity=1,
        idempotency_key="k",
        coupon_ids=(999,),
        room_store_id=world.store_id,
    )
    placed = await place_order(intake_of(services), request)
    assert isinstance(placed, Rejected) and placed.reason == "invalid_coupon"


async def test_a_stores_pack_budget_is_spent_by_claims_and_refilled_by_expiry(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world, store_cap=2)
    first, second = await order(pack, customer=0), await order(pack, customer=1)
    assert isinstance(first, Accepted) and isinstance(second, Accepted)
    refused = await order(pack, customer=2)
    assert isinstance(refused, Rejected) and refused.reason == "sold_out"
    assert "store" in refused.detail
    await persister.drain()
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        assert await sweep_expired(services, rooms=LiveRooms(services.redis)) == 2
        again = await order(pack, customer=2)
    assert isinstance(again, Accepted)


async def test_a_refunded_pack_ends_its_unspent_coupons(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=5)
    a, b1, *_ = await buy_pack(services, order, persister, pack, 0)
    async with services.sessionmaker() as session:
        pack_order = await session.scalar(select(Coupon.pack_order_id).where(Coupon.id == a))
    assert pack_order is not None
    below = await order(deal, coupon_ids=(a, b1))  # refused, but the mirror has both now
    assert isinstance(below, Rejected)
    await refund_order(services, pack_order)
    async with services.sessionmaker() as session:
        ends = list(await session.scalars(select(Coupon.valid_until).where(Coupon.id.in_([a, b1]))))
    assert all(end <= utcnow() for end in ends)
    placed = await order(deal, coupon_ids=(a,))
    assert isinstance(placed, Rejected) and "not valid now" in placed.detail


async def test_a_first_paid_order_cancelled_for_want_of_stock_returns_its_coupons(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(
        services, world, price_fen=299 * YUAN, stock=1, stock_policy="first_paid"
    )
    (a, *_) = await buy_pack(services, order, persister, pack, 0)
    mine = await order(deal, customer=0, coupon_ids=(a,))
    theirs = await order(deal, customer=1)
    assert isinstance(mine, Accepted) and isinstance(theirs, Accepted)
    await persister.drain()
    await pay(services, theirs.order_id, theirs.amount_fen)
    await pay(services, mine.order_id, mine.amount_fen)
    assert await order_status(services, mine.order_id) == "cancelled"
    assert await coupon_users(services, [a]) == [None]
    value = await services.redis.hget(mirror_key(world.customer_ids[0]), str(a))  # type: ignore[misc]
    assert value is not None and value.endswith(b"|")


async def test_my_coupons_say_what_each_saves_and_the_quote_prices_a_choice(
    services: Services,
    world: World,
    order: Order_,
    persister: OrderPersister,
    client: Any,
    token_for: Callable[..., str],
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=1000 * YUAN, stock=5)
    a, b1, b2, c = await buy_pack(services, order, persister, pack, 0)
    me = {
        "Authorization": f"Bearer {token_for(Role.VIEWER, world.customer_ids[0], world.store_id)}"
    }
    mine = (await client.get("/api/coupons/mine", params={"deal_id": deal}, headers=me)).json()
    saves = {row["id"]: (row["saves_fen"], row["short_by_fen"]) for row in mine}
    assert saves == {a: (11100, 0), b1: (30000, 0), b2: (30000, 0), c: (0, 30000)}
    quote = await client.post(
        "/api/coupons/quote", json={"deal_id": deal, "coupon_ids": [a, b1, b2]}, headers=me
    )
    assert quote.json() == {
        "gross_fen": 100000,
        "discount_fen": 71100,
        "due_fen": 28900,
        "refusal": "",
    }
    too_much = await client.post(
        "/api/coupons/quote", json={"deal_id": deal, "coupon_ids": [c]}, headers=me
    )
    assert "needs a spend" in too_much.json()["refusal"]
    other_store = {"Authorization": f"Bearer {token_for(Role.GUIDE, 1, world.store_id + 1000)}"}
    path = f"/api/customers/{world.customer_ids[0]}/coupons"
    assert (await client.get(path, headers=other_store)).status_code == 404
    host = {"Authorization": f"Bearer {token_for(Role.HOST, 1, world.store_id)}"}
    assert len((await client.get(path, headers=host)).json()) == 4


async def test_a_rebuilt_redis_keeps_each_stores_pack_budget_spent(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world, store_cap=2)
    assert all([isinstance(await order(pack, customer=c), Accepted) for c in (0, 1)])
    await persister.drain()
    await services.redis.delete(DealKeys(pack).state)  # Redis lost the deal
    await rebuild_deal(services, pack)
    await services.redis.hset(DealKeys(pack).state, "gate", "open")  # type: ignore[misc]
    refused = await order(pack, customer=2)
    assert isinstance(refused, Rejected) and refused.reason == "sold_out"


async def test_after_a_rebuild_a_coupon_orders_retry_gets_its_first_answer(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=5)
    (a, *_) = await buy_pack(services, order, persister, pack, 0)
    first = await order(deal, key="with-a", coupon_ids=(a,))
    assert isinstance(first, Accepted)
    await persister.drain()
    await services.redis.delete(DealKeys(deal).idempotency(world.customer_ids[0], "with-a"))
    await restore_answers(services, deal)
    again = await order(deal, key="with-a", coupon_ids=(a,))
    assert isinstance(again, Accepted) and again.repeated and again.order_id == first.order_id


async def test_a_pack_whose_coupon_is_spent_cannot_be_refunded(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=5)
    (a, *_) = await buy_pack(services, order, persister, pack, 0)
    assert isinstance(await order(deal, coupon_ids=(a,)), Accepted)
    await persister.drain()
    async with services.sessionmaker() as session:
        pack_order = await session.scalar(select(Coupon.pack_order_id).where(Coupon.id == a))
    assert pack_order is not None
    with pytest.raises(RefundError, match="spent"):
        await refund_order(services, pack_order)
    assert await order_status(services, pack_order) == "paid"
