"""The orders bench's capacity search: offer more orders a second, step by step, until the
order acceptance p99 passes its bound or the accepted rate stops following the offer.

Each step is a `Pacer` phase of its own (its own idempotency keys) at `load x direct` orders a
second, spread over every viewer; the viewers are enough that the room's per-viewer rate limit
never caps the offer (bench/orders.py sizes them). The highest step held is the capacity, as a
ratio to the direct script's rate of the same run. CPU per accepted order (the nodes, the
worker, Redis, from /proc) is measured over each step and printed beside the direct script's
CPU per call.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field

from bench.measure import cpu_now, percentile
from bench.order_client import OrderConnection, Pacer

P99_BOUND_MS = 100.0
FOLLOWING = 0.9
"""A step whose accepted rate is below this share of its offer did not keep up."""
STEP_TIMEOUT_S = 60
SERVER = ("app-1", "app-2", "worker", "redis")


@dataclass
class Step:
    load: float
    offered_per_s: float
    accepted_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_us: dict[str, float]
    """CPU microseconds per accepted order, per server process (and `nodes`, `server`)."""
    refused: dict[str, int]
    accepted_ids: set[str] = field(repr=False, default_factory=set)

    @property
    def held(self) -> bool:
        return self.p99_ms <= P99_BOUND_MS and self.accepted_per_s >= FOLLOWING * self.offered_per_s

    def line(self, direct: float) -> str:
        cpu = self.cpu_us
        return (
            f"  step load={self.load:.2f} offered={self.offered_per_s:.0f}/s "
            f"accepted={self.accepted_per_s:.0f}/s ({self.accepted_per_s / direct:.2f} of direct) "
            f"p50_ms={self.p50_ms:.1f} p99_ms={self.p99_ms:.1f} "
            f"cpu_us_per_order nodes={cpu['nodes']:.0f} worker={cpu['worker']:.0f} "
            f"redis={cpu['redis']:.0f} refused={self.refused} "
            + ("held" if self.held else "NOT held")
        )


async def one_step(
    sockets: list[OrderConnection],
    deal_id: int,
    load: float,
    direct: float,
    seconds: float,
    pids: dict[str, int],
    prefix: str,
) -> Step:
    interval = len(sockets) / (load * direct)
    cpu0 = cpu_now(pids)
    async with asyncio.timeout(seconds + STEP_TIMEOUT_S):
        sustained = await Pacer(sockets, deal_id, interval, seconds, prefix).run()
    cpu1 = cpu_now(pids)
    accepted = max(1, len(sustained.accepted_ids))
    cpu_us = {name: 1e6 * (cpu1[name] - cpu0[name]) / accepted for name in pids}
    cpu_us["nodes"] = sum(v for n, v in cpu_us.items() if n.startswith("app-"))
    cpu_us["server"] = cpu_us["nodes"] + cpu_us.get("worker", 0) + cpu_us.get("redis", 0)
    latencies = sustained.latencies_ms or [0.0]
    return Step(
        load=load,
        offered_per_s=len(sockets) / interval,
        accepted_per_s=len(sustained.accepted_ids) / sustained.seconds,
        p50_ms=statistics.median(latencies),
        p99_ms=percentile(latencies, 0.99),
        cpu_us=cpu_us,
        refused=sustained.refused,
        accepted_ids=sustained.accepted_ids,
    )


async def step_up(
    sockets: list[OrderConnection],
    deal_id: int,
    loads: list[float],
    direct: float,
    seconds: float,
    pids: dict[str, int],
) -> list[Step]:
    """Every step up to and including the first not held."""
    steps: list[Step] = []
    for n, load in enumerate(loads):
        step = await one_step(sockets, deal_id, load, direct, seconds, pids, f"c{n}-")
        print(step.line(direct), flush=True)
        steps.append(step)
        if not step.held:
            break
        await asyncio.sleep(1.0)  # the streams' and stock frames' tail of one step stays in it
    return steps
