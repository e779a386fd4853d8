"""Redis calls of concurrent orders, sent together: one write and one read per batch.

On these machines a round trip costs more in system calls than the call costs in Redis:
redis-py spends two to three socket calls per command (a check that the pooled connection
is clean, the write, the read). Under a flash sale hundreds of viewers order in the same
milliseconds; their calls queue here while the previous batch is in flight and go out as
one pipeline (no MULTI: each command and each script is atomic on its own, and batching
changes nothing of what it sees). An idle process sends a lone call at once, so a quiet room
pays no delay. Calls go out in the order they were made.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

MAX_BATCH = 256
"""Calls per pipeline: a flash sale's burst in a few batches, none so large that its reply
holds the event loop for long."""


class _Call:
    """One caller's commands (a few that go out together, or one script call) and its future:
    the list of the commands' replies, or the script's one reply."""

    __slots__ = ("commands", "future", "script")

    def __init__(self, commands: list[tuple[Any, ...]], script: AsyncScript | None) -> None:
        self.commands = commands
        self.script = script
        """The script an EVALSHA runs, to load it again if Redis forgot it."""
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class RedisBatcher:
    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._pending: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None
        """Borrowed from the client's pool for good: batches go one at a time, and a
        pipeline's per-batch checkout (a socket read to check the connection is clean), lock
        and retry wrapper cost more than the batch's own work. The pool closes it with the
        client."""

    def commands(self, *commands: tuple[Any, ...]) -> asyncio.Future[list[Any]]:
        """Queue commands that go out one after the other in the same batch; the future has
        their raw replies (bytes, int, list; `b"OK"` for a SET, not redis-py's True), or the
        first error among them."""
        return self._queue(_Call(list(commands), None))

    def script(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> asyncio.Future[Any]:
        """Queue a script call; the future has what `script(keys=..., args=...)` returns."""
        evalsha = ("EVALSHA", script.sha, len(keys), *keys, *args)
        return self._queue(_Call([evalsha], script))

    def _queue(self, call: _Call) -> asyncio.Future[Any]:
        self._pending.append(call)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_pending())
        return call.future

    async def _send_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._send(batch)
            except Exception as exc:  # the connection failed: every caller of the batch hears it
                for call in batch:
                    if not call.future.done():
                        call.future.set_exception(exc)

    async def _send(self, batch: list[_Call]) -> None:
        commands = [command for call in batch for command in call.commands]
        results = await self._round_trip(commands)
        unloaded: list[_Call] = []
        position = 0
        for call in batch:
            replies = results[position : position + len(call.commands)]
            position += len(call.commands)
            failed = next((r for r in replies if isinstance(r, Exception)), None)
            if isinstance(failed, NoScriptError) and call.script is not None:
                unloaded.append(call)
            elif call.future.done():  # its caller gave up waiting; the call ran all the same
                continue
            elif failed is not None:
                call.future.set_exception(failed)
            else:
                call.future.set_result(replies if call.script is None else replies[0])
        if unloaded:  # Redis restarted and forgot the scripts: load them, send those again
            for script in {call.script for call in unloaded if call.script is not None}:
                await self._client.script_load(script.script)
            await self._send(unloaded)

    async def _round_trip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send the commands in one write and read their raw replies; an error reply is
        returned in its command's place."""
        if self._connection is None:
            self._connection = await self._client.connection_pool.get_connection()
        connection = self._connection
        try:
            await connection.send_packed_command(connection.pack_commands(commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as error:
                    replies.append(error)
            return replies
        except BaseException:
            # Replies still on their way would answer the next batch: start over. The next
            # send connects again.
            await connection.disconnect(nowait=True)
            raise
