"""One read for many callers: a join storm reads the room's state once per round trip, not
once per socket.

The rule that keeps a joiner from missing an event: a caller gets the result of a read that
BEGAN AFTER it asked. The gateway adds a socket to its room before asking for the room's
state, so any event that reached the room after that is either in the state read or delivered
to the socket by the relay (the gateway holds those until the state is sent). So callers
never share a read already under way; they share the next one, and reads of one key run one
at a time: during a storm at most one read runs and one waits, whatever the number of joiners.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedRead(Generic[K, V]):
    def __init__(self, read: Callable[[K], Awaitable[V]]) -> None:
        self._read = read
        self._running: dict[K, asyncio.Future[V]] = {}
        self._next: dict[K, asyncio.Future[V]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, key: K) -> V:
        result = self._next.get(key)
        if result is None:
            result = self._next[key] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._run(key, result))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A caller that gives up (its socket closed) must not cancel the others' read.
        return await asyncio.shield(result)

    async def _run(self, key: K, result: asyncio.Future[V]) -> None:
        running = self._running.get(key)
        if running is not None:
            await asyncio.wait([running])
        # Callers from here on wait for the next read: this one may begin before they asked.
        del self._next[key]
        self._running[key] = result
        try:
            result.set_result(await self._read(key))
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as exc:
            result.set_exception(exc)
            result.exception()  # retrieved here: every caller may have gone
        finally:
            if self._running.get(key) is result:
                del self._running[key]
