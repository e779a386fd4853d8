"""The group-join storm of `make bench-orders`: joiners racing for the seats of many groups at
once, through the group intake (orders/groups.py, group_join.lua around reserve.lua) from this
process, as the direct phase drives the bare reserve script.

`GROUPS` groups of `SIZE` are opened by real customers; then every joiner (a customer id of its
own, at once) tries random groups it has not seen full until one takes it or all are full.
Printed: joins accepted per second and as a share of the direct script's rate, every answer's
p99, and members over size summed over the groups (must be 0).
"""

from __future__ import annotations

import asyncio
import random
import time

from bench.measure import percentile
from orders.groups import GroupOrder, join_group, open_group
from orders.groups_terms import GroupKeys
from orders.intake import IntakeRequest, OrderIntake
from orders.keys import STREAMS_KEY
from server import factories
from server.services import Services

SIZE = 5
FAKE_CUSTOMERS = 50_000_000
"""Joiner ids start here: the join path never reads the customers table (only an opening
writes a row naming its leader), and these orders are never persisted."""


async def group_storm(
    services: Services, product_id: int, leaders: list[int], joiners: int, direct: float
) -> str:
    async with services.sessionmaker() as session:
        deal = await factories.open_deal(
            session,
            services.redis,
            product_id,
            kind="group_buy",
            stock=10**9,
            params={"group_size": SIZE, "group_minutes": 60},
        )
    await services.redis.srem(STREAMS_KEY, deal)  # not for the worker: bench orders
    groups: list[str] = []
    intake = OrderIntake(services)
    for n, leader in enumerate(leaders):
        placed = await open_group(intake, IntakeRequest(leader, deal, 1, f"storm-open-{n}"), "")
        assert isinstance(placed, GroupOrder), placed
        groups.append(placed.group_id)
    full: set[str] = set()
    waits: list[float] = []
    accepted = 0
    rng = random.Random(18)

    async def joiner(n: int) -> None:
        nonlocal accepted
        while len(full) < len(groups):
            group_id = rng.choice([g for g in groups if g not in full])
            request = IntakeRequest(FAKE_CUSTOMERS + n, deal, 1, f"storm-{n}-{group_id}")
            sent = time.perf_counter()
            reply = await join_group(intake, request, group_id)
            waits.append((time.perf_counter() - sent) * 1000)
            if isinstance(reply, GroupOrder):
                accepted += 1
                return
            if reply.reason != "group_full":
                raise AssertionError(reply)
            full.add(group_id)

    started = time.monotonic()
    await asyncio.gather(*(joiner(n) for n in range(joiners)))
    seconds = time.monotonic() - started
    keys = GroupKeys(deal)
    over = 0
    async with services.redis.pipeline(transaction=False) as pipe:
        for group_id in groups:
            pipe.hgetall(keys.group(group_id))
        for state in await pipe.execute():
            seats = sum(k.startswith(b"m:") for k in state)
            over += max(0, seats - SIZE) + max(0, int(state[b"count"]) - SIZE)
    assert accepted == min(joiners, len(groups) * (SIZE - 1)), accepted
    async for key in services.redis.scan_iter(match=f"{{deal:{deal}}}:*", count=1000):
        await services.redis.unlink(key)
    rate = accepted / seconds
    return (
        f"group-join storm: {joiners} joiners on {len(groups)} groups of {SIZE}: {accepted} "
        f"joined in {seconds:.2f} s = {rate:.0f}/s ({rate / direct:.2f} of the direct script), "
        f"{len(waits)} answers p99_ms={percentile(waits, 0.99):.1f}, members_over_size={over}"
    )
