"""What a page shows, computed by static/js/roomstate.js itself (run by node), and viewers
that keep such a page current from their socket, as room.js and host.js do."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from live.streams import StreamBus

DRIVER = Path(__file__).parent / "js" / "roomstate_driver.mjs"


class Pages:
    """One node process holding a RoomState per viewer name."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Pages:
        self._process = await asyncio.create_subprocess_exec(
            "node", str(DRIVER), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.close()
        await self._process.wait()

    async def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        answer: dict[str, Any] = json.loads(await self._process.stdout.readline())
        return answer

    async def apply(self, page: str, frame: dict[str, Any]) -> None:
        key = "snapshot" if frame["type"] == "snapshot" else "frame"
        await self._ask({"viewer": page, key: frame})

    async def shows(self, page: str) -> dict[str, Any]:
        """What the page shows: items, visible ids, hidden ids, on air (and per stream)."""
        return await self._ask({"viewer": page, "state": True})

    async def fresh(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """What a page that just opened on this snapshot shows."""
        await self._ask({"viewer": "_fresh", "snapshot": snapshot})
        return await self.shows("_fresh")


@dataclass
class PageViewer:
    """A socket and the page it keeps current."""

    name: str
    socket: ClientConnection
    pages: Pages
    offsets: dict[str, int] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    async def take(self, within: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            frame: dict[str, Any] = json.loads(await self.socket.recv())
        self.received.append(frame)
        await self.pages.apply(self.name, frame)
        if frame["type"] == "snapshot":
            self.offsets = {s: p[1] for s, p in frame["streams"].items()}
        elif frame.get("offset"):
            self.offsets[frame["stream"]] = frame["offset"]
        return frame

    async def open(self) -> dict[str, Any]:
        while True:
            frame = await self.take()
            if frame["type"] == "snapshot":
                return frame

    async def catch_up(self, bus: StreamBus) -> None:
        """Read until every published event of the page's streams has been applied."""
        for stream in list(self.offsets):
            target = (await bus.position(stream)).offset
            while self.offsets[stream] < target:
                await self.take()

    async def shows(self) -> dict[str, Any]:
        return await self.pages.shows(self.name)
