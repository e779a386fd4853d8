"""A Redis that restarted without its last second: nothing sells until the deal is rebuilt
from SQL, and then its stock, holds, customers' counts and idempotency answers are SQL's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from orders.intake import Accepted, IntakeRequest, Rejected, place_order
from orders.persister import OrderPersister
from orders.restore import restore_if_restarted
from server.services import Services, open_services
from server.settings import load_settings
from tests.orders.conftest import World, make_deal, seed_world
from tests.orders.crashing_redis import CrashingRedis
from tests.orders.redis_vs_sql import expected_from_sql, redis_state
from tests.orders.test_payments import pay
from tests.support.processes import free_port, service_env

pytestmark = pytest.mark.database


@pytest.fixture
def crashing(tmp_path: Path) -> AsyncIterator[CrashingRedis]:
    redis = CrashingRedis(tmp_path / "redis")
    yield redis  # type: ignore[misc]
    redis.stop()


@pytest.fixture
async def on_crashing(
    database_url: str, crashing: CrashingRedis, tmp_path: Path
) -> AsyncIterator[Services]:
    env = service_env(database_url, crashing.url, tmp_path / "var")
    env["STORECAST_HTTP_WS_PORT"] = str(free_port())
    services = await open_services(load_settings(env))
    yield services
    await services.close()


async def first_answer(services: Services, world: World, deal: int) -> None:
    """The first command on each connection the crash broke fails once; then it reconnects."""
    for _ in range(2):
        try:
            await services.redis.ping()
            await place_order(services, ask(world, deal, 5, "wake"))
        except RedisConnectionError:
            continue


def ask(world: World, deal: int, customer: int, key: str, quantity: int = 1) -> IntakeRequest:
    return IntakeRequest(world.customer_ids[customer], deal, quantity, key)


async def test_a_restarted_redis_sells_nothing_until_rebuilt_then_matches_sql(
    on_crashing: Services, crashing: CrashingRedis
) -> None:
    services = on_crashing
    world = await seed_world(services, customers=6)
    deal = await make_deal(services, world, stock=10, per_customer_limit=2)
    persister = OrderPersister(services)
    first = await place_order(services, ask(world, deal, 0, "a", 2))
    paid = await place_order(services, ask(world, deal, 1, "b"))
    assert isinstance(first, Accepted) and isinstance(paid, Accepted)
    await persister.drain()
    assert (await pay(services, paid.order_id, paid.amount_fen)).outcome == "applied"
    crashing.sample()
    # The second before the crash: these reach SQL, but Redis will lose them.
    lost = await place_order(services, ask(world, deal, 2, "c", 2))
    assert isinstance(lost, Accepted)
    await persister.drain()
    assert crashing.crash(lose_last_s=0) > 0
    crashing.restart()
    await first_answer(services, world, deal)

    refused = await place_order(services, ask(world, deal, 3, "d"))
    assert refused == Rejected("retry", "the stock is being restored; send the order again")
    assert await restore_if_restarted(services)
    assert not await restore_if_restarted(services)

    assert await redis_state(services, deal) == await expected_from_sql(services, deal)
    again = await place_order(services, ask(world, deal, 2, "c", 2))
    assert isinstance(again, Accepted) and (again.order_id, again.repeated) == (lost.order_id, True)
    over = await place_order(services, ask(world, deal, 2, "e"))
    assert isinstance(over, Rejected) and over.reason == "limit_reached"
    assert isinstance(await place_order(services, ask(world, deal, 3, "d")), Accepted)
