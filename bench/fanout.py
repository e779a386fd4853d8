"""Room fanout under load: `make bench-fanout`
(python -m bench.fanout [--viewers N] [--seconds S] [--payload-bytes B] [--window W]).

What runs, all on this machine: an embedded Redis, a SQLite file, two `storecast app` nodes,
and this process holding every viewer socket (uvloop, websockets client, compression off).
The database has one live hub broadcast with its room and three live store broadcasts
relaying it (`relays_id`), each with a room and a store, and one customer per viewer. Viewer
k opens room k % 4 (the hub room, then the three store rooms) on node (k // 4) % 2, with its
own viewer token, and waits for its snapshot.

Every update is a `chat` event on the HUB stream, published once with
`StreamBus.publish(hub, Chat(text=...))`: the store rooms get it through their relay of the
hub stream, so each publish is one frame to every viewer. The text is padded so the frame on
the wire is `--payload-bytes` long and starts with the send time (`time.time_ns()`).

1. Throughput. The publisher keeps at most `--window` updates (default 32) in flight: it
   publishes update k (without waiting for update k - 1's publish to return) only once every
   open viewer has received update k - W. That is a closed loop: the rate is whatever the
   slowest part of the chain (Redis, the nodes, the client process) sustains, and no viewer
   can ever be more than W frames behind, so the gateway's send bound cannot be hit because
   of the bench (any 4008 close it still reports is the server's doing). W = 32 keeps
   32 x V frames in flight, far more than one round of the loop needs, so the window does
   not throttle a healthy system. delivered_per_s = frames received by all clients / time.
2. Latency. 10 updates/s for 10 s; each viewer decodes {stream, offset, text} of each frame
   and records receive time - send time. Within the hub stream a viewer must see every
   published offset, consecutively: `lost` counts published offsets a viewer did not get,
   `gaps` counts frames whose offset was not the previous one + 1.
3. Baseline on the same machine in the same run: a bare `websockets` server in one separate
   process (`serve` + `broadcast`, compression off) that broadcasts every message of its
   /publish socket to everyone else; this process publishes to it the same frames (same
   bytes, same offsets) and measures it with its own V clients, the same window and phases.

Both systems are up, with their viewers connected, for the whole run, and the throughput
phase alternates between them in SLICES slices (ours, bare, bare, ours, ...: S / SLICES
seconds each, after 0.5 s of warm-up each), because this machine's speed drifts between runs
a minute apart by more than the difference being measured. The latency phases follow, ours
first. The system not being measured is idle (its sockets carry nothing).

Clients (`bench/fleet.py`) count frames in the websockets protocol callback (a `ClientConnection` subclass
whose `process_event` takes text frames directly, with no receive queue and no reader task
per socket) and only decode frames in the latency phase.

Each phase's line also gives the CPU each process used (from /proc, in % of one core),
"other" (the rest of the machine: other programs, interrupts; a run with more than a few %
there was disturbed) and the CPU time per delivered frame, servers (apps + Redis, or the
bare server) and clients apart.

Last line: `fanout ratio=R delivered_per_s=N p50_ms=A p99_ms=B viewers=V lost=L
bare_p99_ms=C p99_ratio=Q`, where R is our delivered/s over the bare server's, N, A, B, L
are ours, C the bare server's p99 at 10 updates/s and Q = B / C. `make bench-fanout` runs
it at 2,000 viewers, then at 5,000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import uvloop
import websockets
from websockets.asyncio.client import ClientConnection

from bench.fleet import Fleet, connect_all, disconnect_all
from bench.measure import cpu_now, cpu_percent, cpu_text, percentile
from bench.processes import ROOT, ServiceProcess, app_process, free_port
from bench.stack import embedded_stack
from live.protocol import Chat
from live.streams import StreamBus, stream_name
from server import factories
from server.auth import Principal, Role
from server.services import Services

WARMUP_SECONDS = 0.5
"""Publishing before each throughput slice starts counting (the window fills in ~0.1 s)."""
SLICES = 6
"""Throughput is measured in this many alternating slices per system."""
LATENCY_RATE = 10
"""Updates per second in the latency phase."""
LATENCY_SECONDS = 10


# ---- publishing ---------------------------------------------------------------------------


def padded_text(stream: str, offset: int, size: int) -> str:
    """Send time first, then padding so that the whole frame is `size` bytes."""
    stamp = str(time.time_ns())
    head = f'{{"stream":"{stream}","offset":{offset},"type":"chat","text":"{stamp} '
    return f"{stamp} " + "x" * max(0, size - len(head) - 2)  # 2: the closing "}


class Publisher(Protocol):
    """Publishes one update and returns its offset."""

    async def publish(self) -> int: ...


class StorecastPublisher:
    def __init__(self, bus: StreamBus, broadcast_id: int, size: int, first_offset: int) -> None:
        self.bus, self.broadcast_id, self.size = bus, broadcast_id, size
        self.stream = stream_name(broadcast_id)
        self.next_offset = first_offset

    async def publish(self) -> int:
        text = padded_text(self.stream, self.next_offset, self.size)
        self.next_offset += 1  # this process is the stream's only publisher
        return await self.bus.publish(self.broadcast_id, Chat(text=text))


class BarePublisher:
    def __init__(self, connection: ClientConnection, stream: str, size: int) -> None:
        self.connection, self.stream, self.size = connection, stream, size
        self.next_offset = 1

    async def publish(self) -> int:
        offset = self.next_offset
        self.next_offset += 1
        text = padded_text(self.stream, offset, self.size)
        frame = f'{{"stream":"{self.stream}","offset":{offset},"type":"chat","text":"{text}"}}'
        await self.connection.send(frame.encode(), text=True)
        return offset


# ---- the phases, the same for both systems ----------------------------------------------


@dataclass
class Result:
    delivered_per_s: float = 0.0
    publishes_per_s: float = 0.0
    slices: list[float] = field(default_factory=list)
    """delivered/s of each throughput slice"""
    cpu: dict[str, float] = field(default_factory=dict)
    drained: bool = True
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    lost: int = 0
    gaps: int = 0
    closes: Counter[int] = field(default_factory=Counter)
    latency_cpu: dict[str, float] = field(default_factory=dict)
    latency_frames_per_s: float = 0.0


@dataclass
class System:
    """One system under test, its viewers connected, and what was measured of it."""

    label: str
    fleet: Fleet
    publisher: Publisher
    pids: dict[str, int]
    """name -> pid of the processes whose CPU is reported; "machine" (0) is the whole box"""
    result: Result = field(default_factory=Result)
    frames: int = 0
    published: int = 0
    elapsed: float = 0.0
    cpu_used: dict[str, float] = field(default_factory=dict)


async def throughput_slice(system: System, seconds: float, window: int) -> None:
    """Warm up, then publish as fast as the window allows for `seconds`, counting what every
    viewer received; then let the last updates drain. Adds to the system's totals."""
    fleet, publisher = system.fleet, system.publisher
    fleet.start_phase(parse=False)
    measure_from = time.monotonic() + WARMUP_SECONDS
    end = measure_from + seconds
    marked = False
    frames0 = published0 = 0
    started = 0.0
    cpu0: dict[str, float] = {}
    in_flight: set[asyncio.Future[int]] = set()
    k = 0
    try:
        while True:
            now = time.monotonic()
            if not marked and now >= measure_from:
                marked, started, frames0, published0 = True, now, fleet.total, k
                cpu0 = cpu_now(system.pids)
            if now >= end:
                break
            if k - fleet.complete >= window:
                await fleet.until_complete(k - window + 1, within=end - now)
                continue
            k += 1
            fleet.acks.append(0)
            # Not awaited: a publish's round trips must not cap the rate when few viewers make
            # each update cheap; the window alone paces the publisher.
            task = asyncio.ensure_future(publisher.publish())
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            await asyncio.sleep(0)
        elapsed = time.monotonic() - started
        cpu1 = cpu_now(system.pids)
        frames = fleet.total - frames0
        system.frames += frames
        system.published += k - published0
        system.elapsed += elapsed
        for name, value in cpu1.items():
            system.cpu_used[name] = system.cpu_used.get(name, 0.0) + value - cpu0[name]
        system.result.slices.append(frames / elapsed)
        await asyncio.gather(*in_flight)
    finally:
        for pending in in_flight:  # interrupted: nothing may publish while the cleanup runs
            pending.cancel()
    system.result.drained = await fleet.until_complete(k, within=30) and system.result.drained


def throughput_result(system: System) -> None:
    result = system.result
    result.delivered_per_s = system.frames / system.elapsed
    result.publishes_per_s = system.published / system.elapsed
    result.cpu = cpu_percent(system.cpu_used, system.elapsed)
    result.closes = Counter(system.fleet.closes)


async def latency(system: System) -> None:
    fleet, publisher, result = system.fleet, system.publisher, system.result
    fleet.start_phase(parse=True)
    updates = LATENCY_RATE * LATENCY_SECONDS
    published: list[int] = []
    cpu0, frames0 = cpu_now(system.pids), fleet.total
    started = time.monotonic()
    for n in range(updates):
        await asyncio.sleep(max(0.0, started + n / LATENCY_RATE - time.monotonic()))
        fleet.acks.append(0)
        published.append(await publisher.publish())
    result.drained = await fleet.until_complete(updates, within=10) and result.drained
    elapsed = time.monotonic() - started
    cpu1 = cpu_now(system.pids)
    result.latency_cpu = cpu_percent({n: cpu1[n] - cpu0[n] for n in cpu1}, elapsed)
    result.latency_frames_per_s = (fleet.total - frames0) / elapsed
    expected = set(published)
    result.lost = sum(len(expected - set(v.offsets)) for v in fleet.viewers)
    result.gaps = sum(v.gaps for v in fleet.viewers)
    ms = [ns / 1e6 for ns in fleet.latencies_ns]
    result.p50_ms = statistics.median(ms) if ms else 0.0
    result.p99_ms = percentile(ms, 0.99)
    result.max_ms = max(ms, default=0.0)
    result.closes = Counter(fleet.closes)


def say(out: list[str], *lines: str) -> None:
    out.extend(lines)
    print(*lines, sep="\n", flush=True)


def cpu_per_frame_text(cpu: dict[str, float], frames_per_s: float) -> str:
    """Percent of one core per process, then CPU time per delivered frame."""
    rate = frames_per_s or 1.0
    server = sum(v for name, v in cpu.items() if name not in ("clients", "other"))
    client = cpu.get("clients", 0.0)
    return (
        f"cpu (of one core): {cpu_text(cpu)}"
        f"; per frame {server * 1e4 / rate:.1f} us server, {client * 1e4 / rate:.1f} us client"
    )


def report(system: System, viewers: int) -> list[str]:
    result = system.result
    closes = dict(result.closes) or 0
    slices = " ".join(f"{rate / 1000:.0f}k" for rate in result.slices)
    return [
        f"{system.label} throughput: {result.delivered_per_s:.0f} frames/s delivered "
        f"({result.publishes_per_s:.1f} updates/s x {viewers} viewers; slices {slices}); "
        + cpu_per_frame_text(result.cpu, result.delivered_per_s),
        f"{system.label} latency: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"max {result.max_ms:.1f} ms over {LATENCY_RATE * LATENCY_SECONDS} updates; "
        f"lost {result.lost}, gaps {result.gaps}, closes {closes}, "
        f"drained {'yes' if result.drained else 'NO'}; at {result.latency_frames_per_s:.0f} "
        f"frames/s " + cpu_per_frame_text(result.latency_cpu, result.latency_frames_per_s),
    ]


# ---- Storecast ----------------------------------------------------------------------------


@dataclass
class Seeded:
    hub_broadcast_id: int
    rooms: list[int]
    """The hub room first, then the three store rooms."""
    room_stores: list[int | None]
    customers: list[tuple[int, int]]
    """(customer id, home store id)"""


async def seed(services: Services, viewers: int) -> Seeded:
    """A live hub broadcast relayed by three stores of one region, and `viewers` members
    spread over the three stores in turn."""
    async with services.sessionmaker() as session, session.begin():
        region = await factories.add_region(session)
        stores = [
            await factories.add_store(
                session, region_id=region.id, code=f"SH0{n}", name=f"上海{name}店"
            )
            for n, name in enumerate(("南京路", "徐家汇", "五角场"), start=1)
        ]
        hub = await factories.add_broadcast(session, status="live")
        rooms = [await factories.add_room(session, hub.id)]
        for store in stores:
            _, room = await factories.add_store_relay(session, hub, store)
            rooms.append(room)
        store_ids = [s.id for s in stores]
        customers = await factories.add_customers(session, viewers, store_ids, "fanout-")
        return Seeded(
            hub.id,
            [r.id for r in rooms],
            [r.store_id for r in rooms],
            [(c.id, store_ids[n % 3]) for n, c in enumerate(customers)],
        )


@contextlib.asynccontextmanager
async def storecast(
    workdir: Path, viewers: int, size: int, out: list[str]
) -> AsyncIterator[System]:
    """Redis, SQLite, the seed, two app nodes and their viewers; all stopped on the way out."""
    nodes: list[ServiceProcess] = []
    fleet = Fleet()
    async with embedded_stack(workdir) as stack:
        services, redis_server, env = stack.services, stack.redis_server, stack.env
        try:
            seeded = await seed(services, viewers)
            nodes = [app_process(f"app-{n}", env, workdir).start() for n in (1, 2)]
            urls = []
            for k, (customer_id, home_store) in enumerate(seeded.customers):
                room = k % 4
                token = services.signer.issue(
                    Principal(Role.VIEWER, customer_id, seeded.room_stores[room] or home_store)
                )
                node = nodes[(k // 4) % 2]
                urls.append(f"{node.ws_url}/ws/rooms/{seeded.rooms[room]}?token={token}")
            took = await connect_all(fleet, urls)
            say(
                out,
                f"storecast: {viewers} viewers joined in {took:.1f} s "
                f"(hub room + 3 relaying store rooms, 2 nodes); every snapshot received",
            )
            await asyncio.sleep(1.0)  # let the join-time counts frames go out before measuring
            bus = StreamBus(services.redis)
            position = await bus.position(stream_name(seeded.hub_broadcast_id))
            publisher = StorecastPublisher(bus, seeded.hub_broadcast_id, size, position.offset + 1)
            pids = {node.name: node.process.pid for node in nodes if node.process is not None}
            if redis_server.process is not None:
                pids["redis"] = redis_server.process.pid
            yield System(
                "storecast", fleet, publisher, {**pids, "clients": os.getpid(), "machine": 0}
            )
        finally:
            await disconnect_all(fleet)
            for node in nodes:
                node.stop()


# ---- the bare websockets server -------------------------------------------------------------


def serve_bare(port: int) -> None:
    """The baseline, run in its own process: every message on /publish goes to every other
    socket with `websockets.broadcast`; a new socket gets a one-line snapshot."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    async def main() -> None:
        viewers: set[ServerConnection] = set()

        async def handler(connection: ServerConnection) -> None:
            if connection.request is not None and connection.request.path == "/publish":
                with contextlib.suppress(websockets.ConnectionClosed):
                    while True:
                        broadcast(viewers, await connection.recv(decode=False), text=True)
                return
            viewers.add(connection)
            try:
                await connection.send(b'{"type":"snapshot"}', text=True)
                await connection.wait_closed()
            finally:
                viewers.discard(connection)

        # 200 handshakes at a time overflow the default listen queue (100) on a busy machine.
        async with serve(handler, "127.0.0.1", port, compression=None, backlog=1024) as server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main())


def start_bare(port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", f"from bench.fanout import serve_bare; serve_bare({port})"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@contextlib.asynccontextmanager
async def bare(workdir: Path, viewers: int, size: int, out: list[str]) -> AsyncIterator[System]:
    """The bare server in its own process and its viewers; all stopped on the way out."""
    port = free_port()
    log = (workdir / "bare.log").open("ab")
    server = start_bare(port, log)
    fleet = Fleet()
    publisher_socket: ClientConnection | None = None
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"bare server exited: {(workdir / 'bare.log').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("bare server did not listen within 60 s")
            await asyncio.sleep(0.1)
        url = f"ws://127.0.0.1:{port}"
        took = await connect_all(fleet, [f"{url}/ws/rooms/{k % 4 + 1}" for k in range(viewers)])
        say(out, f"bare websockets: {viewers} viewers joined in {took:.1f} s (one process)")
        publisher_socket = await websockets.connect(
            f"{url}/publish", compression=None, proxy=None, max_queue=None
        )
        publisher = BarePublisher(publisher_socket, "b1", size)
        yield System(
            "bare", fleet, publisher, {"bare": server.pid, "clients": os.getpid(), "machine": 0}
        )
    finally:
        await disconnect_all(fleet)
        if publisher_socket is not None:
            publisher_socket.transport.abort()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# ---- main ----------------------------------------------------------------------------------------


async def run(viewers: int, seconds: float, size: int, window: int) -> str:
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM cleans up like Ctrl-C: cancel, so every `finally` stops what it started.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    out: list[str] = []
    try:
        print(
            f"fanout: {viewers} viewers per system, {size}-byte frames, window {window} "
            f"updates; throughput {seconds:g} s per system in {SLICES} alternating slices, then "
            f"latency {LATENCY_SECONDS} s each; {os.cpu_count()} cores",
            flush=True,
        )
        async with contextlib.AsyncExitStack() as stack:
            ours = await stack.enter_async_context(storecast(workdir, viewers, size, out))
            base = await stack.enter_async_context(bare(workdir, viewers, size, out))
            # The load generator must not pause: its 2 x V sockets' objects leave the cyclic
            # collector's view, which then stays off while measuring (the counting path makes
            # no cycles). Unfrozen, a gen-2 pass over them took 0.2-1 s, a gen-1 10-80 ms.
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                # Alternate short slices (ours, bare, bare, ours, ...) rather than one long run
                # each: the machine's speed drifts by more than the difference being measured.
                for n in range(SLICES):
                    for system in (ours, base) if n % 2 == 0 else (base, ours):
                        await throughput_slice(system, seconds / SLICES, window)
                for system in (ours, base):
                    throughput_result(system)
                    await latency(system)
                    say(out, *report(system, viewers))
            finally:
                gc.enable()
        mine, theirs = ours.result, base.result
        ratio = mine.delivered_per_s / theirs.delivered_per_s if theirs.delivered_per_s else 0.0
        p99_ratio = mine.p99_ms / theirs.p99_ms if theirs.p99_ms else 0.0
        return (
            f"fanout ratio={ratio:.2f} delivered_per_s={mine.delivered_per_s:.0f} "
            f"p50_ms={mine.p50_ms:.1f} p99_ms={mine.p99_ms:.1f} viewers={viewers} lost={mine.lost} "
            f"bare_p99_ms={theirs.p99_ms:.1f} p99_ratio={p99_ratio:.2f}"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measured throughput time per system"
    )
    parser.add_argument("--payload-bytes", type=int, default=200, help="frame size on the wire")
    parser.add_argument(
        "--window", type=int, default=32, help="updates in flight in the throughput phase"
    )
    args = parser.parse_args()
    try:
        line = uvloop.run(run(args.viewers, args.seconds, args.payload_bytes, args.window))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("fanout: interrupted; everything it started is stopped", file=sys.stderr)
        sys.exit(130)
    print(line)


if __name__ == "__main__":
    main()
