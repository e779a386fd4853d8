"""The deal scripts, read from orders/lua/ once per process.

Each is a redis-py Script: it sends EVALSHA and falls back to EVAL (which loads it) after a
restart of Redis, so no caller handles NOSCRIPT. They are registered on a client that never
connects and are always called with `client=` the process's real one, so one set of
scripts serves every client (the app's, the worker's, a test's).
"""

from __future__ import annotations

from pathlib import Path

import redis.asyncio
from redis.commands.core import AsyncScript

LUA_DIR = Path(__file__).parent / "lua"
_loader = redis.asyncio.Redis()  # only hashes the scripts; never opens a connection


def _script(name: str, *prelude: str) -> AsyncScript:
    text = "".join((LUA_DIR / f"{part}.lua").read_text() for part in (*prelude, name))
    return _loader.register_script(text)


def _with_reserve(name: str) -> AsyncScript:
    """A script that runs reserve.lua (with the coupon rules it calls) as its local function
    `reserve()` (the `--@reserve.lua` line), so a kind's own checks and writes share one atomic
    step with the deal's."""
    text = (LUA_DIR / f"{name}.lua").read_text()
    reserve = "".join((LUA_DIR / f"{part}.lua").read_text() for part in ("coupon", "reserve"))
    return _loader.register_script(text.replace("--@reserve.lua", reserve))


RESERVE = _script("reserve", "coupon")
GROUP_JOIN = _with_reserve("group_join")
GROUP_LEAVE = _script("group_leave")
RELEASE = _script("release")
TAKE = _script("take")
UNTAKE = _script("untake")
SETTLE = _script("settle")
RESTOCK = _script("restock")
LOAD = _script("load")
ADD_STOCK = _script("add_stock")
RECONCILE = _script("reconcile")
COUPON_RETURN = _script("coupon_return")
COUPON_VOID = _script("coupon_void")
COUPON_RESPEND = _script("coupon_respend")
