"""Join storms: `make bench-joins` (python -m bench.joins [--viewers N]).

All on this machine: an embedded Redis, a SQLite file, two `storecast app` nodes, one live
hub broadcast with a window of WINDOW_ITEMS products (flash sales on some) and its one room,
and this process holding every viewer socket (uvloop, websockets client, compression off).

1. Join storm: N viewers (default 5,000, each with its own viewer token) open the room,
   alternating between the two nodes, 200 handshakes at a time, as fast as they can; the
   time runs until every one has its snapshot.
2. Reconnect storm: the viewers of node 1 close their sockets (a node restarting) and come
   back at once, spread over both nodes, each opening with `&resume=1` and sending `resume`
   with the positions of its snapshot; the time runs until every one has its answer. The
   answer should be `resumed` (nothing was missed), and the bench counts any snapshot.
3. The same on a bare `websockets` server in one process: a new socket gets a snapshot of
   the very size of ours (the bytes of a real one), a resuming socket gets a `resumed` frame
   once it sent its `resume`. Same viewers, same batches, same client.

Both storms run `--rounds` times (default 5), ours then the bare server's in each round, so
that both sides meet the same moods of a shared machine; the figures are the medians.

Last line: `joins ratio=R resume_ratio=Q viewers=N rounds=M round_ratios=LO-HI
round_resume_ratios=LO-HI join_s=A bare_join_s=B resume_s=C bare_resume_s=D
snapshot_bytes=S snapshots_on_resume=K`, where R and Q are the bare server's median time over
ours (1.0: as fast as a server that does nothing but answer), the ranges are the lowest and
highest of the rounds' own ratios, and K counts the snapshots over all rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import uvloop
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode

from bench.fleet import open_client
from bench.measure import cpu_now, cpu_percent, cpu_text
from bench.processes import ROOT, ServiceProcess, app_process, free_port
from bench.stack import embedded_stack
from server import factories
from server.auth import Principal, Role
from server.services import Services

WINDOW_ITEMS = 12
BATCH = 200
"""Handshakes at a time, as bench/fleet.py opens them."""
RESUMED = b'{"type":"resumed","events":0}'


class Joiner(ClientConnection):
    """Notes the first state frame (snapshot or resumed) and drops everything else unread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.TEXT and event.fin:
            if not self.answer.done() and (
                event.data.startswith(b'{"type":"snapshot"')
                or event.data.startswith(b'{"type":"resumed"')
            ):
                self.answer.set_result(bytes(event.data))
            return
        super().process_event(event)


async def join(url: str, resume: str | None) -> tuple[Joiner, bytes]:
    connection = await open_client(url, Joiner)
    assert isinstance(connection, Joiner)
    if resume is not None:
        await connection.send(resume)
    return connection, await asyncio.wait_for(connection.answer, 120)


async def storm(urls: list[str], resume: str | None = None) -> tuple[float, list[Joiner], int]:
    """Every url joined, BATCH handshakes at a time; seconds, sockets, snapshots received."""
    started = time.monotonic()
    joined: list[tuple[Joiner, bytes]] = []
    for start in range(0, len(urls), BATCH):
        joined += await asyncio.gather(*(join(u, resume) for u in urls[start : start + BATCH]))
    took = time.monotonic() - started
    snapshots = sum(1 for _, state in joined if state.startswith(b'{"type":"snapshot"'))
    return took, [connection for connection, _ in joined], snapshots


async def close_all(connections: list[Joiner]) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(c.close() for c in connections), return_exceptions=True), 30
        )
    for connection in connections:
        connection.transport.abort()


@dataclass
class Seeded:
    room_id: int
    customers: list[int]
    store_id: int


async def seed(services: Services, viewers: int) -> Seeded:
    """A live hub broadcast with a window of products (flash sales on a third) and one room;
    `viewers` members of one store."""
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        hub = await factories.add_broadcast(session, status="live")
        room = await factories.add_room(session, hub.id)
        products = [
            await factories.add_product(
                session, sku=f"MD{n:04d}", name=f"冬季新品 {n} 号", image_url=f"/img/{n}.svg"
            )
            for n in range(WINDOW_ITEMS)
        ]
        await factories.add_window(
            session, hub.id, [(p.id, 9900 + n) for n, p in enumerate(products)]
        )
        customers = await factories.add_customers(session, viewers, [store.id], "join-")
        seeded = Seeded(room.id, [c.id for c in customers], store.id)
    for product in products[::3]:
        async with services.sessionmaker() as session:
            await factories.open_deal(session, services.redis, product.id, broadcast_id=hub.id)
    return seeded


# ---- the bare websockets server -------------------------------------------------------------


def serve_bare(port: int, snapshot_path: str) -> None:
    """The baseline, in its own process: a snapshot of the given bytes to each new socket, a
    `resumed` frame to a socket opened with resume=1 once its first frame came."""
    from websockets.asyncio.server import ServerConnection, serve

    snapshot = Path(snapshot_path).read_bytes()

    async def main() -> None:
        async def handler(connection: ServerConnection) -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                if connection.request is not None and "resume=1" in connection.request.path:
                    await connection.recv()
                    await connection.send(RESUMED, text=True)
                else:
                    await connection.send(snapshot, text=True)
                await connection.wait_closed()

        async with serve(handler, "127.0.0.1", port, compression=None, backlog=1024) as server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main())


def start_bare(port: int, snapshot: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    code = f"from bench.joins import serve_bare; serve_bare({port}, {str(snapshot)!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )


async def until_listening(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise RuntimeError("bare server exited")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("bare server did not listen within 60 s")
        await asyncio.sleep(0.1)


@dataclass
class Storms:
    join_s: float
    resume_s: float
    snapshots_on_resume: int
    cpu: str


async def both_storms(
    urls: Callable[[int, int, bool], str], viewers: int, resume: str, pids: dict[str, int]
) -> Storms:
    """The join storm on both nodes, then node 1's viewers coming back with `resume`."""
    cpu0, started = cpu_now(pids), time.monotonic()
    join_s, sockets, _ = await storm([urls(k, k, False) for k in range(viewers)])
    cpu1 = cpu_now(pids)
    cpu = cpu_percent({n: cpu1[n] - cpu0[n] for n in pids}, time.monotonic() - started)
    node_1 = list(range(0, viewers, 2))
    await close_all([sockets[k] for k in node_1])
    # Node 1's viewers come back spread over both nodes, as a balancer would send them.
    resume_s, back, snapshots = await storm([urls(k, k // 2, True) for k in node_1], resume)
    await close_all([*back, *(sockets[k] for k in range(1, viewers, 2))])
    return Storms(join_s, resume_s, snapshots, cpu_text(cpu))


async def run(viewers: int, rounds: int) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="bench-joins-"))
    nodes: list[ServiceProcess] = []
    bare: subprocess.Popen[bytes] | None = None
    try:
        async with embedded_stack(workdir) as stack:
            services = stack.services
            seeded = await seed(services, viewers)
            nodes = [app_process(f"app-{n}", stack.env, workdir).start() for n in (1, 2)]
            tokens = [
                services.signer.issue(Principal(Role.VIEWER, c, seeded.store_id))
                for c in seeded.customers
            ]

            def ours(k: int, spread: int, resume: bool) -> str:
                """Viewer k's socket, on node `spread` % 2."""
                node = nodes[spread % 2]
                url = f"{node.ws_url}/ws/rooms/{seeded.room_id}?token={tokens[k]}"
                return url + "&resume=1" if resume else url

            probe, snapshot = await join(ours(0, 0, False), None)
            await close_all([probe])
            positions = json.loads(snapshot)["streams"]
            resume = json.dumps({"type": "resume", "streams": positions})
            print(
                f"joins: {viewers} viewers, one room, a {len(snapshot)}-byte snapshot; "
                f"{os.cpu_count()} cores; {rounds} rounds, ours then bare in each",
                flush=True,
            )
            snapshot_file = workdir / "snapshot.json"
            snapshot_file.write_bytes(snapshot)
            port = free_port()
            log = (workdir / "bare.log").open("ab")
            bare = start_bare(port, snapshot_file, log)
            await until_listening(bare, port)

            def bare_url(k: int, spread: int, resume: bool) -> str:
                url = f"ws://127.0.0.1:{port}/ws/rooms/{seeded.room_id}"
                return url + "?resume=1" if resume else url

            pids = {n.name: n.process.pid for n in nodes if n.process is not None}
            if stack.redis_server.process is not None:
                pids["redis"] = stack.redis_server.process.pid
            pids |= {"clients": os.getpid(), "machine": 0}
            bare_pids = {"bare": bare.pid, "clients": os.getpid(), "machine": 0}
            mine: list[Storms] = []
            base: list[Storms] = []
            # Alternating rounds: this machine's speed moves by tens of percent within
            # minutes, so both sides meet the same stretches of it; medians are compared.
            for n in range(1, rounds + 1):
                mine.append(await both_storms(ours, viewers, resume, pids))
                base.append(await both_storms(bare_url, viewers, resume, bare_pids))
                print(
                    f"round {n}: storecast {viewers} joined in {mine[-1].join_s:.1f} s, "
                    f"{viewers // 2} came back with resume in {mine[-1].resume_s:.1f} s "
                    f"({mine[-1].snapshots_on_resume} got a snapshot), join cpu (of one "
                    f"core): {mine[-1].cpu}; bare websockets {base[-1].join_s:.1f} s and "
                    f"{base[-1].resume_s:.1f} s, join cpu: {base[-1].cpu}",
                    flush=True,
                )
            join_s = statistics.median(m.join_s for m in mine)
            bare_join_s = statistics.median(b.join_s for b in base)
            resume_s = statistics.median(m.resume_s for m in mine)
            bare_resume_s = statistics.median(b.resume_s for b in base)
            snapshots = sum(m.snapshots_on_resume for m in mine)
            joins = sorted(b.join_s / m.join_s for m, b in zip(mine, base, strict=True))
            resumes = sorted(b.resume_s / m.resume_s for m, b in zip(mine, base, strict=True))
            return (
                f"joins ratio={bare_join_s / join_s:.2f} "
                f"resume_ratio={bare_resume_s / resume_s:.2f} viewers={viewers} "
                f"rounds={rounds} round_ratios={joins[0]:.2f}-{joins[-1]:.2f} "
                f"round_resume_ratios={resumes[0]:.2f}-{resumes[-1]:.2f} "
                f"join_s={join_s:.2f} bare_join_s={bare_join_s:.2f} "
                f"resume_s={resume_s:.2f} bare_resume_s={bare_resume_s:.2f} "
                f"snapshot_bytes={len(snapshot)} snapshots_on_resume={snapshots}"
            )
    finally:
        for node in nodes:
            node.stop()
        if bare is not None:
            bare.terminate()
            bare.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(uvloop.run(run(args.viewers, args.rounds)))


if __name__ == "__main__":
    main()
