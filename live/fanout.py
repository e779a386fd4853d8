"""One room frame to many sockets: serialized once, the same bytes written to each.

`websockets.broadcast` builds and serializes the frame again for every socket; here the
server's frame (text, unmasked, no extension: the gateway turns compression off) is made
once, as the architecture asks, and each open socket gets the bytes straight into its
transport. A socket closing, or in the middle of a fragmented message (the gateway never
sends one), is skipped, as `broadcast` does. The sockets are written in slices, with a turn
of the event loop between them, so that a frame for a thousand sockets does not hold up the
orders and replies of that node for the whole pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import State

SLICE = 250
"""Sockets written per turn of the event loop: a few milliseconds of writes."""


def frame_bytes(payload: bytes) -> bytes:
    return Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


def write(connections: Sequence[ServerConnection], frame: bytes) -> None:
    for connection in connections:
        if connection.protocol.state is State.OPEN and connection.send_in_progress is None:
            connection.transport.write(frame)


async def send_to_all(connections: Sequence[ServerConnection], payload: bytes) -> None:
    """Write one text frame to every open socket of `connections`, a slice at a time."""
    frame = frame_bytes(payload)
    for start in range(0, len(connections), SLICE):
        if start:
            await asyncio.sleep(0)
        write(connections[start : start + SLICE], frame)
