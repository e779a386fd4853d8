"""Sales credit of each rule, asserted on the credit row after a real payment notice: bound ->
the bound guide and the guide's store whatever the room; unbound in a store room -> that
store; unbound in the hub room -> HQ's own line (no store, no guide)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attribution.credit import RULE_BOUND_GUIDE, RULE_HQ_LINE, RULE_ROOM_STORE
from attribution.models import Binding, Guide, SaleCredit, Store
from live.rooms import RoomContext
from orders.intake import take_order
from orders.persister import OrderPersister
from orders.schemas import OrderAccepted, OrderPlace
from server.auth import Principal, Role
from server.services import Services
from tests.orders.conftest import World, make_deal, runtime_of
from tests.orders.test_payments import pay
from tests.orders.test_realtime import hub_and_store_rooms

pytestmark = pytest.mark.database


async def other_store_guide(services: Services, world: World) -> tuple[int, int]:
    """A guide of a second store (not the room's), so the bound rule is told apart."""
    async with services.sessionmaker() as session, session.begin():
        home = await session.get(Store, world.store_id)
        assert home is not None
        store = Store(region_id=home.region_id, code="HZ01", name="杭州湖滨店", city="杭州")
        session.add(store)
        await session.flush()
        guide = Guide(store_id=store.id, name="陈导购", phone="13900000001", share_code="g-chen")
        session.add(guide)
        await session.flush()
        return guide.id, store.id


async def bind(services: Services, customer_id: int, guide_id: int, store_id: int) -> None:
    async with services.sessionmaker() as session, session.begin():
        session.add(
            Binding(customer_id=customer_id, guide_id=guide_id, store_id=store_id, source="share")
        )


async def buy_and_pay(
    services: Services, persister: OrderPersister, customer_id: int, room: RoomContext, deal: int
) -> tuple[int | None, int | None, str]:
    viewer = Principal(Role.VIEWER, customer_id, None)
    reply = await take_order(
        runtime_of(services), viewer, room, OrderPlace(f"k{customer_id}", deal, 1)
    )
    assert isinstance(reply, OrderAccepted), reply
    await persister.drain()
    result = await pay(services, reply.order_id, reply.amount_due_fen)
    assert result.outcome == "applied", result
    async with services.sessionmaker() as session:
        credit = await session.scalar(
            select(SaleCredit).where(SaleCredit.order_id == reply.order_id)
        )
    assert credit is not None
    return credit.guide_id, credit.store_id, credit.rule


async def test_an_unbound_customer_paying_in_the_hub_room_credits_hqs_own_line(
    services: Services, world: World, persister: OrderPersister
) -> None:
    hub_room, _ = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub_room.broadcast_id)
    credit = await buy_and_pay(services, persister, world.customer_ids[0], hub_room, deal)
    assert credit == (None, None, RULE_HQ_LINE)


async def test_an_unbound_customer_paying_in_a_store_room_credits_that_store(
    services: Services, world: World, persister: OrderPersister
) -> None:
    hub_room, store_room = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub_room.broadcast_id)
    credit = await buy_and_pay(services, persister, world.customer_ids[0], store_room, deal)
    assert credit == (None, world.store_id, RULE_ROOM_STORE)


async def test_a_bound_customer_credits_the_bound_guide_and_their_store_in_any_room(
    services: Services, world: World, persister: OrderPersister
) -> None:
    hub_room, store_room = await hub_and_store_rooms(services, world)
    guide_id, guide_store = await other_store_guide(services, world)
    in_hub, in_store = world.customer_ids[0], world.customer_ids[1]
    await bind(services, in_hub, guide_id, guide_store)
    await bind(services, in_store, guide_id, guide_store)
    deal = await make_deal(services, world, broadcast_id=hub_room.broadcast_id)
    assert await buy_and_pay(services, persister, in_hub, hub_room, deal) == (
        guide_id,
        guide_store,
        RULE_BOUND_GUIDE,
    )
    assert await buy_and_pay(services, persister, in_store, store_room, deal) == (
        guide_id,
        guide_store,
        RULE_BOUND_GUIDE,
    )
