"""Worlds are built one way: the benchmarks share nothing with the tests but code in the
packages and in bench/, the domains never reach for the assembly's factories, and the demo
chain built with them is the same chain on every fresh database."""

from __future__ import annotations

import ast
import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import redis.asyncio
from sqlalchemy import select

from bench.processes import ROOT, service_env
from server.demo import load_demo_data
from server.migrate import upgrade
from server.model_base import Base
from server.services import services_scope
from server.settings import Settings, load_settings

ORDER_ID = re.compile(r"[0-9a-f]{24}")
"""Order ids are random (made at intake); two loads of the demo differ only in them."""


def imported_modules(package: str) -> dict[str, set[str]]:
    """The modules each file of `package` imports, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_benchmarks_import_nothing_from_the_tests() -> None:
    offending = {
        path: sorted(n for n in names if n == "tests" or n.startswith("tests."))
        for path, names in imported_modules("bench").items()
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_no_domain_imports_the_world_factories_or_the_demo() -> None:
    assembly_only = ("server.factories", "server.demo", "server.demo_chain")
    offending = {
        path: sorted(n for n in names if n.startswith(assembly_only))
        for package in ("attribution", "live", "orders")
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offending.items() if names} == {}


async def chain_content(settings: Settings) -> list[tuple[str, list[str]]]:
    """Every row of every table after loading the demo, without its times (they follow the
    clock) and with order ids blanked, in a stable order."""
    await load_demo_data(settings)
    content = []
    async with services_scope(settings) as services, services.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            content.append((table.name, sorted(repr(_timeless(row)) for row in rows)))
    return content


RANDOM_IDS = re.compile(r"[0-9a-f]{20}|\d+-[0-9a-f]{12}|sbx[0-9a-f]{24}")
"""What the real intake makes (the demo's group leader orders through it): a time-based order
id, a group id, the sandbox's transaction id."""


def _blank(value: object) -> object:
    if isinstance(value, str) and (ORDER_ID.fullmatch(value) or RANDOM_IDS.fullmatch(value)):
        return "<id>"
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    return value


def _timeless(row: Any) -> list[object]:
    return [_blank(v) for v in row if not isinstance(v, datetime)]


async def test_the_demo_chain_is_the_same_on_every_fresh_database(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    first = await chain_content(settings)
    async with redis.asyncio.Redis.from_url(redis_url) as client:
        await client.flushall()  # the second load launches the same deal ids afresh
    second_url = f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    await asyncio.to_thread(upgrade, second_url)
    second = await chain_content(load_settings(service_env(second_url, redis_url, tmp_path)))
    assert dict(first)["customers"] and dict(first)["orders"]
    assert first == second
