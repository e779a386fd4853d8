"""The persister's backlog: /healthz says degraded past the alarm, /metrics reports the lag."""

from __future__ import annotations

import pytest
import redis.asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from orders.keys import GROUP, STREAMS_KEY, DealKeys
from orders.persister_lag import read_backlog

Client = AsyncTestClient[Litestar]
DEAL = DealKeys(7)


async def redis_now_ms(client: redis.asyncio.Redis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def accept_order_aged(client: redis.asyncio.Redis, seconds: float) -> None:
    """An order accepted `seconds` ago (by Redis' clock) that no persister has read."""
    await client.sadd(STREAMS_KEY, DEAL.deal_id)  # type: ignore[misc]
    await client.xgroup_create(DEAL.stream, GROUP, id="0", mkstream=True)
    at = await redis_now_ms(client) - int(seconds * 1000)
    await client.xadd(DEAL.stream, {"id": "o1"}, id=f"{at}-0")


async def metric(client: Client, name: str) -> float:
    response = await client.get("/metrics")
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return samples[name]


@pytest.fixture
async def redis_client(redis_url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(redis_url)


async def test_no_orders_no_lag(redis_client: redis.asyncio.Redis) -> None:
    backlog = await read_backlog(redis_client)
    assert (backlog.lag_seconds, backlog.unpersisted, backlog.dead_letters) == (0, 0, 0)


async def test_the_lag_is_the_age_of_the_oldest_order_not_yet_in_sql_delivered_or_not(
    redis_client: redis.asyncio.Redis,
) -> None:
    await accept_order_aged(redis_client, 60)
    at = await redis_now_ms(redis_client) - 5_000
    await redis_client.xadd(DEAL.stream, {"id": "o2"}, id=f"{at}-0")
    undelivered = await read_backlog(redis_client)
    assert 59 < undelivered.lag_seconds < 70
    assert undelivered.unpersisted == 2
    # The persister read the first and has not committed it: still the oldest not in SQL.
    await redis_client.xreadgroup(GROUP, "c1", {DEAL.stream: ">"}, count=1)
    pending = await read_backlog(redis_client)
    assert 59 < pending.lag_seconds < 70
    assert pending.unpersisted == 2
    # Committed and acknowledged: the lag is the second order's.
    first = (await redis_client.xrange(DEAL.stream, count=1))[0][0]
    await redis_client.xack(DEAL.stream, GROUP, first)
    assert 4 < (await read_backlog(redis_client)).lag_seconds < 15


async def test_a_stream_no_persister_has_seen_counts_from_its_first_entry(
    redis_client: redis.asyncio.Redis,
) -> None:
    await redis_client.sadd(STREAMS_KEY, DEAL.deal_id)  # type: ignore[misc]
    at = await redis_now_ms(redis_client) - 40_000
    await redis_client.xadd(DEAL.stream, {"id": "o1"}, id=f"{at}-0")
    backlog = await read_backlog(redis_client)
    assert 39 < backlog.lag_seconds < 50
    assert backlog.unpersisted == 1


@pytest.mark.database
async def test_health_turns_degraded_when_the_persister_lags_past_the_alarm(
    client: Client, redis_client: redis.asyncio.Redis
) -> None:
    fresh = (await client.get("/healthz")).json()
    assert (fresh["status"], fresh["persister"]) == ("ok", "ok")
    await accept_order_aged(redis_client, 45)  # the alarm's default is 30 s
    await redis_client.xadd(DEAL.dead, {"id": "o0", "source_entry": "1-0"})
    response = await client.get("/healthz")
    health = response.json()
    assert response.status_code == 200  # the node itself still serves
    assert (health["status"], health["persister"]) == ("degraded", "lagging")
    assert 44 < health["persister_lag_seconds"] < 60
    assert health["dead_letters"] == 1


@pytest.mark.database
async def test_health_stays_ok_under_the_alarm_and_metrics_report_the_lag(
    client: Client, redis_client: redis.asyncio.Redis
) -> None:
    await accept_order_aged(redis_client, 10)
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert 9 < await metric(client, "storecast_persister_lag_seconds") < 25
    assert await metric(client, "storecast_persister_unpersisted") == 1
    assert await metric(client, "storecast_persister_dead_letters") == 0
