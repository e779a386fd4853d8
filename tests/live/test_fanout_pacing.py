"""A big room's frame is written a slice at a time, in order, without holding the loop."""

from __future__ import annotations

import asyncio

import pytest

from live.fanout import SLICE, Fanout, frame_bytes


class Room:
    """Phones that count what they receive, and say when `expected` frames have arrived."""

    def __init__(self, phones: int, expected_frames: int) -> None:
        self.phones = [Phone(self) for _ in range(phones)]
        self.expected = phones * expected_frames
        self.received = 0
        self.all_arrived = asyncio.Event()

    def count(self) -> None:
        self.received += 1
        if self.received == self.expected:
            self.all_arrived.set()

    async def wait(self) -> None:
        async with asyncio.timeout(5):
            await self.all_arrived.wait()


class Phone:
    def __init__(self, room: Room) -> None:
        self.room = room
        self.frames: list[bytes] = []

    def receive(self, payload: bytes, frame: bytes) -> bool:
        assert frame == frame_bytes(payload)
        self.frames.append(payload)
        self.room.count()
        return True


class BrokenPhone(Phone):
    def receive(self, payload: bytes, frame: bytes) -> None:
        raise ConnectionResetError


async def test_a_big_room_frame_leaves_the_loop_free_between_slices() -> None:
    fanout = Fanout()
    fanout.start()
    room = Room(phones=4 * SLICE, expected_frames=1)
    try:
        fanout.send(room.phones, b'{"type":"stock"}', spread=True)
        await asyncio.sleep(0)  # the fanout task's first turn: one slice
        await asyncio.sleep(0)
        assert 0 < room.received < len(room.phones)
        await room.wait()
    finally:
        await fanout.stop()


async def test_frames_reach_every_phone_in_the_order_they_were_sent() -> None:
    payloads = [f'{{"n":{n}}}'.encode() for n in range(5)]
    fanout = Fanout()
    fanout.start()
    room = Room(phones=3 * SLICE + 7, expected_frames=len(payloads))
    try:
        for payload in payloads:
            fanout.send(room.phones, payload, spread=False)
        await room.wait()
    finally:
        await fanout.stop()
    assert all(phone.frames == payloads for phone in room.phones)


async def test_one_broken_socket_does_not_cost_the_others_the_frame() -> None:
    fanout = Fanout()
    fanout.start()
    room = Room(phones=1, expected_frames=2)
    try:
        fanout.send([BrokenPhone(room), *room.phones], b"first", spread=False)
        fanout.send(room.phones, b"second", spread=False)
        await room.wait()
    finally:
        await fanout.stop()
    assert room.phones[0].frames == [b"first", b"second"]


async def test_room_state_is_spread_out_and_room_events_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stock and counts (already coalesced) may trickle over the spread; a chat line or a
    window change goes to the whole room with no pause but the loop's own turns."""
    pauses: dict[bytes, list[float]] = {b"state": [], b"event": []}
    current: list[bytes] = []
    real_sleep = asyncio.sleep

    async def noted_sleep(delay: float) -> None:
        pauses[current[-1]].append(delay)
        await real_sleep(0)

    room = Room(phones=4 * SLICE, expected_frames=1)
    for kind, spread in ((b"state", True), (b"event", False)):
        current.append(kind)
        room.received, room.all_arrived = 0, asyncio.Event()
        fanout = Fanout()
        monkeypatch.setattr("live.fanout.asyncio.sleep", noted_sleep)
        fanout.start()
        try:
            fanout.send(room.phones, kind, spread=spread)
            await room.wait()
        finally:
            monkeypatch.undo()
            await fanout.stop()
    assert len(pauses[b"state"]) == 3 and all(p > 0 for p in pauses[b"state"])
    assert pauses[b"event"] == [0, 0, 0]
