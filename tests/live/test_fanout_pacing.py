"""A big room's frame is written a slice at a time, in order, without holding the loop."""

from __future__ import annotations

import asyncio

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
        fanout.send(room.phones, b'{"type":"stock"}')
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
            fanout.send(room.phones, payload)
        await room.wait()
    finally:
        await fanout.stop()
    assert all(phone.frames == payloads for phone in room.phones)


async def test_one_broken_socket_does_not_cost_the_others_the_frame() -> None:
    fanout = Fanout()
    fanout.start()
    room = Room(phones=1, expected_frames=2)
    try:
        fanout.send([BrokenPhone(room), *room.phones], b"first")
        fanout.send(room.phones, b"second")
        await room.wait()
    finally:
        await fanout.stop()
    assert room.phones[0].frames == [b"first", b"second"]
