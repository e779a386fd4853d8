"""Payment notices through real app processes: the hub-room sale of an unbound customer, and
50 pairs of notices racing on two nodes, once with one transaction id per pair and once with
two. Afterwards each deal's Redis state is what SQL says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from attribution.credit import RULE_HQ_LINE
from attribution.models import SaleCredit
from bench.processes import ServiceProcess
from orders.intake import Accepted, IntakeRequest, place_order
from orders.models import Order, Payment, RefundRequest
from server.auth import Role
from server.services import Services
from tests.orders.conftest import intake_of, make_deal, runtime_of, seed_world
from tests.orders.redis_vs_sql import expected_from_sql, redis_state
from tests.orders.test_realtime import hub_and_store_rooms

pytestmark = [pytest.mark.database, pytest.mark.slow]

PAIRS = 50


async def until_in_sql(services: Services, order_ids: set[str], within: float = 45.0) -> None:
    """The worker process writes them; wait for it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with services.sessionmaker() as session:
            found = set(await session.scalars(select(Order.id).where(Order.id.in_(order_ids))))
        if found == order_ids:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker did not write the orders")


async def notify(
    http: httpx.AsyncClient,
    services: Services,
    node: ServiceProcess,
    order: str,
    amount: int,
    txn: str,
) -> httpx.Response:
    headers, body = runtime_of(services).sandbox.notification(order, amount, txn)
    return await http.post(f"{node.url}/api/payments/notify", content=body, headers=headers)


async def test_an_unbound_customer_pays_for_a_hub_room_order_and_hq_is_credited(
    services: Services,
    start_app_process: Callable[..., ServiceProcess],
    start_worker_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    world = await seed_world(services, customers=1)
    hub_room, _ = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub_room.broadcast_id)
    node = start_app_process()
    start_worker_process()
    token = token_for(Role.VIEWER, world.customer_ids[0], None)
    async with httpx.AsyncClient(timeout=30) as http:
        placed = await http.post(
            f"{node.url}/api/orders",
            json={
                "idempotency_key": "hub-1",
                "deal_id": deal,
                "quantity": 1,
                "room_id": hub_room.room_id,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        body = placed.json()
        assert body["type"] == "order.accepted", body
        await until_in_sql(services, {body["order_id"]})
        paid = await notify(
            http, services, node, body["order_id"], body["amount_due_fen"], "wx-hub"
        )
    assert (paid.status_code, paid.json()["code"]) == (200, "SUCCESS")
    async with services.sessionmaker() as session:
        credit = (
            await session.execute(
                select(SaleCredit.guide_id, SaleCredit.store_id, SaleCredit.rule).where(
                    SaleCredit.order_id == body["order_id"]
                )
            )
        ).one()
    assert tuple(credit) == (None, None, RULE_HQ_LINE)


async def test_fifty_pairs_of_notices_racing_on_two_nodes_record_one_outcome_each(
    services: Services,
    start_app_process: Callable[..., ServiceProcess],
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    world = await seed_world(services, customers=2 * PAIRS)
    one_txn = await make_deal(
        services, world, stock=80, per_customer_limit=1, stock_policy="first_paid"
    )
    two_txns = await make_deal(services, world, stock=80, per_customer_limit=1)
    nodes = [start_app_process(), start_app_process()]
    start_worker_process()
    placed: list[tuple[int, Accepted]] = []
    for n, customer in enumerate(world.customer_ids):
        deal = one_txn if n < PAIRS else two_txns
        reply = await place_order(intake_of(services), IntakeRequest(customer, deal, 1, f"k{n}"))
        assert isinstance(reply, Accepted), reply
        placed.append((n, reply))
    await until_in_sql(services, {order.order_id for _, order in placed})

    async def pair(http: httpx.AsyncClient, n: int, order: Accepted) -> list[httpx.Response]:
        txns = (f"wx-{n}", f"wx-{n}") if n < PAIRS else (f"wx-{n}-a", f"wx-{n}-b")
        return list(
            await asyncio.gather(
                *(
                    notify(http, services, node, order.order_id, order.amount_fen, txn)
                    for node, txn in zip(nodes, txns, strict=True)
                )
            )
        )

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=40)) as http:
        replies = await asyncio.gather(*(pair(http, n, order) for n, order in placed))
    codes = {(r.status_code, r.json()["code"]) for pair_replies in replies for r in pair_replies}
    assert codes == {(200, "SUCCESS")}
    async with services.sessionmaker() as session:
        payments = await session.scalar(select(func.count()).select_from(Payment))
        refunds = await session.scalar(select(func.count()).select_from(RefundRequest))
        paid = await session.scalar(select(func.count()).where(Order.status == "paid"))
    assert (payments, refunds, paid) == (3 * PAIRS, PAIRS, 2 * PAIRS)
    for deal in (one_txn, two_txns):
        assert await redis_state(services, deal) == await expected_from_sql(services, deal)
