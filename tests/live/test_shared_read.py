"""A join storm reads the room once per round trip, and no joiner gets a read older than itself."""

from __future__ import annotations

import asyncio

import pytest

from live.shared_read import SharedRead


class Room:
    """A room whose state is a counter; each read returns it after the read's own delay."""

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0
        self.release = asyncio.Event()
        self.began = asyncio.Event()

    async def read(self, _: str) -> int:
        self.reads += 1
        self.began.set()
        seen = self.version  # what the read sees is fixed when it begins
        await self.release.wait()
        return seen


async def test_sockets_joining_at_once_share_one_read() -> None:
    room = Room()
    shared = SharedRead(room.read)
    joiners = [asyncio.create_task(shared("room")) for _ in range(200)]
    await asyncio.sleep(0)
    room.release.set()
    assert await asyncio.gather(*joiners) == [0] * 200
    assert room.reads == 1


async def test_a_socket_joining_during_a_read_gets_the_next_read() -> None:
    room = Room()
    shared = SharedRead(room.read)
    early = asyncio.create_task(shared("room"))
    await room.began.wait()
    room.version = 1  # an event after that read began, before the late joiners asked
    late = [asyncio.create_task(shared("room")) for _ in range(50)]
    await asyncio.sleep(0)
    assert room.reads == 1, "reads of one room run one at a time"
    room.release.set()
    assert await early == 0
    assert await asyncio.gather(*late) == [1] * 50
    assert room.reads == 2


async def test_rooms_are_read_apart() -> None:
    room = Room()
    room.release.set()
    shared = SharedRead(room.read)
    await asyncio.gather(shared("hub"), shared("store"))
    assert room.reads == 2


async def test_a_failed_read_reaches_its_callers_and_the_next_read_runs() -> None:
    calls = 0

    async def flaky(_: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("Redis went away")
        return "state"

    shared = SharedRead(flaky)
    failed = await asyncio.gather(shared("room"), shared("room"), return_exceptions=True)
    assert [type(f) for f in failed] == [ConnectionError, ConnectionError]
    assert await shared("room") == "state"


async def test_a_socket_that_closes_while_waiting_leaves_the_read_to_the_others() -> None:
    room = Room()
    shared = SharedRead(room.read)
    gone = asyncio.create_task(shared("room"))
    staying = asyncio.create_task(shared("room"))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    room.release.set()
    assert await staying == 0
