"""Group-buys with real processes: 200 viewers joining the last seat through two app nodes,
and a worker killed half-way through refunding groups that ran out of time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from bench.processes import ServiceProcess
from orders.groups_models import GroupStatus
from orders.models import OrderEvent, Refund, RefundRequest
from orders.persister import OrderPersister
from server.auth import Role
from server.services import Services
from tests.orders.conftest import World, seed_world
from tests.orders.group_world import (
    group_deal,
    group_row,
    joined,
    member_statuses,
    opened,
    pay,
    run_out_of_time,
    seats,
)

pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.fixture
async def crowd(services: Services) -> World:
    return await seed_world(services, customers=250)


async def count(services: Services, table: type, *where: object) -> int:
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def test_two_hundred_joiners_on_two_nodes_fill_the_last_seat_exactly_once(
    services: Services,
    crowd: World,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    deal = await group_deal(services, crowd, size=5)
    leader = await opened(services, crowd, deal)
    members = [leader] + [
        await joined(services, crowd, deal, leader.group_id, c) for c in (1, 2, 3)
    ]
    nodes = [start_app_process(), start_app_process()]
    tokens = [token_for(Role.VIEWER, crowd.customer_ids[c], crowd.store_id) for c in range(4, 204)]
    start = asyncio.Event()

    async def join(http: httpx.AsyncClient, n: int) -> httpx.Response:
        await start.wait()
        return await http.post(
            f"{nodes[n % 2].url}/api/group-buys/groups/{leader.group_id}/join",
            json={"idempotency_key": f"storm-{n}"},
            headers={"Authorization": f"Bearer {tokens[n]}"},
        )

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200), timeout=60) as http:
        storm = asyncio.gather(*(join(http, n) for n in range(200)))
        start.set()
        replies = await storm
    winners = [r for r in replies if r.status_code == 201]
    assert len(winners) == 1, [r.text for r in replies if r.status_code != 409][:3]
    assert {r.json()["detail"].split(":")[0] for r in replies if r.status_code != 201} == {
        "group_full"
    }
    assert await seats(services, leader.group_id) == 5
    # Every seat pays: the group forms once, with its five members.
    await OrderPersister(services).drain()
    for member in members:
        await pay(services, member)  # type: ignore[arg-type]
    winner = winners[0].json()
    from tests.orders.test_payments import pay as pay_order

    await pay_order(services, winner["order_id"], winner["amount_due_fen"])
    assert (await group_row(services, leader.group_id)).status == GroupStatus.FORMED
    assert sorted(await member_statuses(services, leader.group_id)) == ["paid"] * 5
    assert await count(services, OrderEvent, OrderEvent.kind == "group_formed") == 5


async def test_refunds_of_groups_out_of_time_finish_exactly_once_after_the_worker_is_killed(
    services: Services,
    crowd: World,
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    deal = await group_deal(services, crowd, size=5, stock=1000)
    groups = []
    for g in range(50):
        leader = await opened(services, crowd, deal, customer=4 * g)
        members = [leader] + [
            await joined(services, crowd, deal, leader.group_id, 4 * g + c) for c in (1, 2, 3)
        ]
        groups.append((leader.group_id, members))
    await OrderPersister(services).drain()
    for _, members in groups:
        for member in members:
            await pay(services, member)  # type: ignore[arg-type]
    for group_id, _ in groups:
        await run_out_of_time(services, group_id)
    worker = start_worker_process()  # its sweep runs at startup
    deadline = time.monotonic() + 60
    while (done := await count(services, Refund)) < 20:
        assert time.monotonic() < deadline, worker.log_path.read_text()[-3000:]
        await asyncio.sleep(0.005)  # another process: nothing to await but the database
    worker.kill9()
    assert done < 200, "the kill came after every refund was done"
    start_worker_process()
    deadline = time.monotonic() + 90
    while await count(services, Refund) < 200:
        assert time.monotonic() < deadline, "the second worker did not finish the refunds"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # and nothing more comes
    assert await count(services, Refund) == 200
    assert await count(services, RefundRequest) == 200
    async with services.sessionmaker() as session:
        per_order = await session.execute(
            select(Refund.order_id, func.count()).group_by(Refund.order_id)
        )
        assert {n for _, n in per_order.all()} == {1}
    for group_id, _ in groups:
        assert (await group_row(services, group_id)).status == GroupStatus.FAILED
        assert sorted(await member_statuses(services, group_id)) == ["refunded"] * 4
