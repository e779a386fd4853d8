"""The persister's backlog as the app nodes report it: how far SQL trails the order streams.

A port: orders/ measures it (orders/persister_lag.py), /healthz and /metrics report it, and
the assembly hands the one to the others (server/app.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec


class Backlog(msgspec.Struct, frozen=True):
    lag_seconds: float
    """Age of the oldest accepted order not yet in SQL (delivered or not); 0 when none."""
    unpersisted: int
    """Stream entries not yet acknowledged by the persister."""
    dead_letters: int
    """Entries given up after repeated failures: orders an operator must look at."""


NO_BACKLOG = Backlog(0.0, 0, 0)


class BacklogProbe:
    """Reads the backlog now; the default reads nothing (an app built without orders)."""

    def __init__(self, read: Callable[[], Awaitable[Backlog]] | None = None) -> None:
        self._read = read

    async def read(self) -> Backlog:
        return NO_BACKLOG if self._read is None else await self._read()
