"""Fixtures of the orders tests: a store with customers, a product, a launched deal, and the
persister driven in-process (the real-process tests start `storecast worker` instead)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.processes import free_port, service_env
from live.publish import LiveRooms
from orders.intake import Accepted, IntakeRequest, OrderIntake, Rejected, place_order
from orders.models import Order
from orders.persister import OrderPersister
from orders.runtime import OrdersRuntime
from server import factories
from server.services import Services, open_services
from server.settings import Settings, load_settings

_runtimes: list[OrdersRuntime] = []


def runtime_of(services: Services) -> OrdersRuntime:
    """The test's orders runtime over these services, built once per test as the app's
    lifespan builds it once per process (notices not started)."""
    for runtime in _runtimes:
        if runtime.services is services:
            return runtime
    runtime = OrdersRuntime.build(services, LiveRooms(services.redis))
    _runtimes.append(runtime)
    return runtime


def intake_of(services: Services) -> OrderIntake:
    return runtime_of(services).intake


@pytest.fixture(autouse=True)
def _forget_runtimes() -> Iterator[None]:
    yield
    _runtimes.clear()


@dataclass
class World:
    store_id: int
    customer_ids: list[int]
    product_id: int


async def seed_world(services: Services, customers: int = 20) -> World:
    """One store in a region of its own, `customers` members of it, one product."""
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        people = await factories.add_customers(session, customers, [store.id], "openid-")
        product = await factories.add_product(session)
        return World(store.id, [c.id for c in people], product.id)


async def make_deal(
    services: Services, world: World, *, launch: bool = True, **terms: object
) -> int:
    """A flash sale of the world's product (10 units at 99 yuan unless `terms` say otherwise)."""
    async with services.sessionmaker() as session:
        return await factories.open_deal(
            session, services.redis, world.product_id, launch=launch, **terms
        )


def short_pay_settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    env = service_env(database_url, redis_url, tmp_path / "var")
    env["STORECAST_HTTP_WS_PORT"] = str(free_port())
    env["STORECAST_ORDERS_PAY_WITHIN_SECONDS"] = "0"
    return load_settings(env)


@pytest.fixture
async def world(services: Services) -> World:
    return await seed_world(services)


@pytest.fixture
async def expiring(database_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose orders are due at once (pay within 0 s), sharing the test's DB and Redis."""
    services = await open_services(short_pay_settings(database_url, redis_url, tmp_path))
    yield services
    await services.close()


@pytest.fixture
def persister(services: Services) -> OrderPersister:
    return OrderPersister(services, consumer="test-consumer")


async def written_order(
    services: Services, world: World, deal_id: int, quantity: int = 1, customer: int = 0
) -> Accepted:
    """An order accepted and already in SQL, as a payment notice finds it."""
    request = IntakeRequest(
        customer_id=world.customer_ids[customer],
        deal_id=deal_id,
        quantity=quantity,
        idempotency_key="k",
        room_store_id=world.store_id,
    )
    placed = await place_order(intake_of(services), request)
    assert isinstance(placed, Accepted), placed
    await OrderPersister(services).drain()
    return placed


Order_ = Callable[..., Awaitable[Accepted | Rejected]]


@pytest.fixture
def order(services: Services, world: World) -> Order_:
    """order(deal_id, customer_index=0, quantity=1, key=None, via=services)."""
    keys = iter(range(10**9))

    async def place(
        deal_id: int,
        customer: int = 0,
        quantity: int = 1,
        key: str | None = None,
        via: Services | None = None,
        **extra: object,
    ) -> Accepted | Rejected:
        request = IntakeRequest(
            customer_id=world.customer_ids[customer],
            deal_id=deal_id,
            quantity=quantity,
            idempotency_key=key or f"k-{next(keys)}",
            room_store_id=world.store_id,
            **extra,  # type: ignore[arg-type]
        )
        return await place_order(intake_of(via or services), request)

    return place


async def count_orders(services: Services, **where: object) -> int:
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(Order)
        for column, value in where.items():
            query = query.where(getattr(Order, column) == value)
        return int(await session.scalar(query) or 0)


async def stock_left(services: Services, deal_id: int) -> int:
    from orders.keys import DealKeys

    return int(await services.redis.hget(DealKeys(deal_id).state, "stock") or -1)
