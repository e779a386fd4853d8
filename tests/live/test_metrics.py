"""GET /metrics speaks Prometheus text and counts what the room socket did."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.processes import ServiceProcess, free_port
from tests.live.conftest import Chain, next_frame


async def scrape(chain: Chain) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await chain.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.demo
async def test_metrics_parse_and_count_an_accepted_order_and_the_rooms_sockets(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    assert (await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)).is_success
    accepted = ("storecast_orders_total", (("outcome", "accepted"), ("reason", "")))
    latency = ("storecast_order_accept_seconds_count", ())
    before = await scrape(chain)
    async with chain.viewer(room, customer_id=3) as socket:
        snapshot = await next_frame(socket, "snapshot")
        deal = next(
            d["deal_id"]
            for d in snapshot["deals"].values()
            if d["status"] == "live" and d.get("broadcast_id") == hub
        )
        order = {"type": "order.place", "idempotency_key": "m1", "deal_id": deal, "quantity": 1}
        await socket.send(json.dumps(order))
        while (reply := json.loads(await socket.recv()))["type"] != "order.accepted":
            assert not reply["type"].startswith("order."), reply
        during = await scrape(chain)
    assert during[accepted] - before.get(accepted, 0) == 1
    assert during[latency] - before.get(latency, 0) == 1
    assert during[("storecast_room_connections", (("room", str(room)),))] == 1
    assert during[("storecast_connections", ())] >= 1
    assert ("storecast_room_connections", (("room", "other"),)) in during
    assert during[("storecast_room_joins_total", (("answer", "snapshot"),))] >= 1
    assert during[("storecast_redis_aof_rewrite_in_progress", ())] == 0


@pytest.mark.slow
async def test_the_worker_serves_metrics_on_its_port(
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    port = free_port()
    worker = start_worker_process(STORECAST_WORKER_METRICS_PORT=str(port))
    async with httpx.AsyncClient() as http:
        for _ in range(600):  # a second or two; much longer on a machine busy with tests
            try:
                response = await http.get(f"http://127.0.0.1:{port}/metrics")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        else:
            exited = worker.process is not None and worker.process.poll() is not None
            log = worker.log_path.read_text()[-3000:]
            pytest.fail(f"the worker never served /metrics (exited: {exited}); its log:\n{log}")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert "process_resident_memory_bytes" in names
