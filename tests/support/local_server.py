"""A small ASGI app served over real TCP on 127.0.0.1, for clients whose base URL is a setting.

It runs on a thread and loop of its own: Litestar's test client handles a request by
blocking the test's loop until the app answers, so a server on that loop could never
answer the app's own calls to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from litestar import Litestar


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL. The socket listens before the
    server starts, so a first request queues in its backlog instead of racing the start."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
