"""Room streams: every room event gets an offset in its broadcast's stream, a bounded
history in Redis, and one publish.

Each broadcast has one stream ("b{id}"). A store room relaying the hub reads the hub's
stream and its own, so a hub change is published once, whatever the number of stores.
A stream's epoch changes whenever its history is lost (Redis flushed or restored from an
older file): the epoch key lives beside the history and goes with it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import msgspec
import redis.asyncio
from redis.asyncio.client import Pipeline

from live.keys import channel, stream_keys, stream_name
from live.protocol import RoomEvent, StreamPosition, encoder

HISTORY_LENGTH = 1000
"""Events kept per stream for resume; a viewer away longer gets a fresh snapshot."""

_PUBLISH_LUA = (Path(__file__).parent / "lua" / "publish.lua").read_text()


class StreamBus:
    """Publishes room events and reads stream positions and history. One per process."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._redis = client
        self._publish = client.register_script(_PUBLISH_LUA)

    @property
    def redis(self) -> redis.asyncio.Redis:
        return self._redis

    async def publish(self, broadcast_id: int, event: RoomEvent) -> int:
        """Append to the stream's history and publish; returns the event's offset."""
        stream = stream_name(broadcast_id)
        seq, history, _ = stream_keys(stream)
        await self.epoch(stream)
        body = encoder.encode(event)
        offset = await self._publish(
            keys=[seq, history], args=[stream, body, HISTORY_LENGTH, channel(stream)]
        )
        return int(offset)

    async def publish_ephemeral(self, broadcast_id: int, event: RoomEvent) -> None:
        """Publish state that travels as absolute values (counts): no offset, no history."""
        await self._redis.publish(channel(stream_name(broadcast_id)), encoder.encode(event))

    async def epoch(self, stream: str) -> str:
        _, _, epoch_key = stream_keys(stream)
        await self._redis.set(epoch_key, secrets.token_hex(6), nx=True)
        value = await self._redis.get(epoch_key)
        return value.decode() if isinstance(value, bytes) else str(value)

    async def position(self, stream: str) -> StreamPosition:
        seq, _, _ = stream_keys(stream)
        epoch = await self.epoch(stream)
        offset = await self._redis.get(seq)
        return StreamPosition(epoch, int(offset or 0))

    async def positions(self, streams: list[str]) -> dict[str, StreamPosition]:
        """Several streams' positions in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            queue_positions(pipe, streams)
            return positions_from(await pipe.execute(), streams)

    async def since(self, stream: str, seen: StreamPosition) -> list[bytes] | None:
        """Every event after `seen`, in order; None when they cannot all be given (the
        epoch changed or the history no longer reaches back), which calls for a snapshot."""
        return await self.since_known(stream, seen, await self.position(stream))

    async def since_known(
        self, stream: str, seen: StreamPosition, current: StreamPosition
    ) -> list[bytes] | None:
        """As `since`, with the stream's position already read (after the caller asked)."""
        if seen.epoch != current.epoch or seen.offset > current.offset:
            return None
        if seen.offset == current.offset:
            return []
        _, history, _ = stream_keys(stream)
        entries = await self._redis.xrange(history, min=f"{seen.offset + 1}-0", max="+")
        if not entries or int(entries[0][0].split(b"-")[0]) != seen.offset + 1:
            return None
        return [fields[b"p"] for _, fields in entries]


def queue_positions(pipe: Pipeline, streams: list[str]) -> None:
    """Queue the reads of the streams' positions on a caller's pipeline: POSITION_REPLIES
    replies per stream, read back by positions_from."""
    for stream in streams:
        seq, _, epoch_key = stream_keys(stream)
        pipe.set(epoch_key, secrets.token_hex(6), nx=True)
        pipe.get(epoch_key)
        pipe.get(seq)


POSITION_REPLIES = 3


def positions_from(replies: list[Any], streams: list[str]) -> dict[str, StreamPosition]:
    found = {}
    for n, stream in enumerate(streams):
        epoch = replies[POSITION_REPLIES * n + 1]
        offset = replies[POSITION_REPLIES * n + 2]
        epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        found[stream] = StreamPosition(epoch, int(offset or 0))
    return found


def decode_offset(payload: bytes) -> tuple[str, int]:
    """The stream and offset of a published payload (0 for ephemeral state)."""
    header = msgspec.json.decode(payload, type=_Header)
    return header.stream, header.offset


class _Header(msgspec.Struct):
    stream: str = ""
    offset: int = 0
