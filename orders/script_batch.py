"""Script calls of concurrent orders, sent to Redis together: one write and one read per batch.

On these machines a round trip costs more in system calls than the script costs in Redis:
redis-py spends two to three socket calls per command (a check that the pooled connection
is clean, the write, the read). Under a flash sale hundreds of viewers order in the same
milliseconds; their calls queue here while the previous batch is in flight and go out as
one pipeline (no MULTI: each script is atomic on its own, and batching changes nothing of
what it sees). An idle process sends a lone call at once, so a quiet room pays no delay.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

MAX_BATCH = 256
"""Calls per pipeline: a flash sale's burst in a few batches, none so large that its reply
holds the event loop for long."""

_Call = tuple[AsyncScript, list[object], list[object], asyncio.Future[object]]


class ScriptBatcher:
    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._pending: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(self, script: AsyncScript, keys: list[object], args: list[object]) -> Any:
        """The script's reply, as `script(keys=..., args=...)` would return it."""
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending.append((script, keys, args, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_pending())
        return await future

    async def _send_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._send(batch)
            except Exception as exc:  # the connection failed: every caller of the batch hears it
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)

    async def _send(self, batch: list[_Call]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, len(keys), *keys, *args)  # type: ignore[arg-type]
            results = await pipe.execute(raise_on_error=False)
        unloaded: list[_Call] = []
        for call, result in zip(batch, results, strict=True):
            future = call[3]
            if isinstance(result, NoScriptError):
                unloaded.append(call)
            elif future.done():  # its caller gave up waiting; the script ran all the same
                continue
            elif isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        if unloaded:  # Redis restarted and forgot the scripts: load them, send those again
            for script in {call[0] for call in unloaded}:
                await self._client.script_load(script.script)
            await self._send(unloaded)
