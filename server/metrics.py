"""GET /metrics: this process's counters in Prometheus text format (prometheus-client).

The counters are the process's own (each app node is scraped on its own). Room connections
are reported for the TOP_ROOMS busiest rooms by id and the rest summed under `room="other"`,
so a chain of thousands of store rooms cannot blow up the series count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import redis.asyncio
from litestar import Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server.auth import PUBLIC
from server.backlog import BacklogProbe
from server.redis import aof_rewrite_in_progress

TOP_ROOMS = 20
"""Rooms reported by name; the others are summed: bounded label cardinality."""

FRAMES_SENT = Counter(
    "storecast_room_frames_sent", "Room frames written to viewers' sockets (one per socket)"
)
FRAMES_DROPPED = Counter(
    "storecast_room_frames_dropped",
    "Room frames not written to a socket: it was closing or too far behind",
)
SLOW_CLOSES = Counter(
    "storecast_room_slow_closes", "Viewers closed for lagging behind their room (4008, resume)"
)
JOINS = Counter("storecast_room_joins", "Sockets that got their state", ["answer"])
"""answer: snapshot | replay"""
SNAPSHOT_BUILDS = Counter(
    "storecast_room_snapshot_builds", "Room snapshots read from the database (a join storm: ~0)"
)
ORDERS = Counter("storecast_orders", "Orders answered on the room socket", ["outcome", "reason"])
"""outcome: accepted | rejected; reason: empty when accepted, else the rejection reason."""
ORDER_SECONDS = Histogram(
    "storecast_order_accept_seconds",
    "From an order.place frame read to its reply written, accepted orders",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

PERSISTER_LAG = Gauge(
    "storecast_persister_lag_seconds",
    "Age of the oldest accepted order not yet in SQL (stream-to-SQL lag), read at scrape",
)
UNPERSISTED = Gauge(
    "storecast_persister_unpersisted", "Accepted orders in the streams not yet in SQL"
)
DEAD_LETTERS = Gauge(
    "storecast_persister_dead_letters", "Order stream entries given up to the dead letters"
)
AOF_REWRITING = Gauge(
    "storecast_redis_aof_rewrite_in_progress",
    "1 while Redis rewrites its append-only file (a forked child on a core), read at scrape",
)

RoomCounts = Callable[[], dict[int, int]]


class RoomConnections(Collector):
    """Open sockets per room, read from the gateways of this process at scrape time."""

    def __init__(self) -> None:
        self.sources: list[RoomCounts] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals: dict[int, int] = {}
        for source in list(self.sources):
            for room, count in source().items():
                totals[room] = totals.get(room, 0) + count
        family = GaugeMetricFamily(
            "storecast_room_connections", "Open room sockets on this node", labels=["room"]
        )
        ranked = sorted(totals.items(), key=lambda rc: (-rc[1], rc[0]))
        for room, count in ranked[:TOP_ROOMS]:
            family.add_metric([str(room)], count)
        family.add_metric(["other"], sum(count for _, count in ranked[TOP_ROOMS:]))
        yield family
        yield GaugeMetricFamily(
            "storecast_connections", "Open room sockets on this node", value=sum(totals.values())
        )


ROOM_CONNECTIONS = RoomConnections()
REGISTRY.register(ROOM_CONNECTIONS)


def watch_rooms(source: RoomCounts) -> Callable[[], None]:
    """Report a gateway's sockets per room; returns what stops it (the gateway's stop)."""
    ROOM_CONNECTIONS.sources.append(source)
    return lambda: ROOM_CONNECTIONS.sources.remove(source)


@get("/metrics", opt=PUBLIC, tags=["ops"], include_in_schema=False)
async def metrics(backlog: BacklogProbe, redis: redis.asyncio.Redis) -> Response[bytes]:
    """Scraped by Prometheus from inside the network; the proxy does not route it. The
    persister's backlog and the AOF rewrite are Redis' (every node reports the same), read
    at each scrape."""
    # Redis unreachable: the scrape still reports the process' own counters.
    try:
        found = await backlog.read()
    except Exception:
        PERSISTER_LAG.set(float("nan"))
    else:
        PERSISTER_LAG.set(found.lag_seconds)
        UNPERSISTED.set(found.unpersisted)
        DEAD_LETTERS.set(found.dead_letters)
    try:
        AOF_REWRITING.set(await aof_rewrite_in_progress(redis))
    except Exception:
        AOF_REWRITING.set(float("nan"))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
