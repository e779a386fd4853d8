"""The in-store sales import at a chain's scale: `python -m bench.instore_import`.

A SQLite file (or --database-url) migrated fresh, 3 stores and 20,000 members with phones,
then a CSV till export of 100,000 receipts (half with a member's phone, one in fifty with a
phone nobody has, one in a hundred bad) imported as the endpoint does it: `parse_rows` then
`import_till_sales`. Then the same file again, which must add nothing. Prints the wall time of
each run and rows per second; the figure goes in docs/benchmarks.md with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attribution.instore import import_till_sales, parse_rows
from server import factories
from server.db import engine_for_url, make_sessionmaker
from server.migrate import upgrade

STORES = ("SH01", "HZ01", "GZ01")


def till_export(rows: int, phones: list[str], seed: int = 5) -> bytes:
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    lines = ["receipt_id,store_code,amount_fen,sold_at,phone"]
    for n in range(rows):
        store = STORES[n % len(STORES)]
        at = (start + timedelta(seconds=rng.randrange(60 * 86400))).isoformat()
        draw = rng.random()
        phone = (
            rng.choice(phones) if draw < 0.5 else f"1990000{n % 10000:04d}" if draw < 0.52 else ""
        )
        amount = "abc" if n % 100 == 99 else str(rng.randrange(1000, 300000))
        lines.append(f"{store}-{n:07d},{store},{amount},{at},{phone}")
    return ("\n".join(lines) + "\n").encode()


async def seed(url: str, members: int) -> list[str]:
    engine = engine_for_url(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        region = await factories.add_region(session)
        stores = [
            (await factories.add_store(session, region_id=region.id, code=code, name=code)).id
            for code in STORES
        ]
        customers = await factories.add_customers(session, members, stores, "bench-")
        phones = []
        for n, customer in enumerate(customers):
            customer.phone = f"138{n:08d}"
            phones.append(customer.phone)
    await engine.dispose()
    return phones


async def timed_import(url: str, body: bytes) -> tuple[float, str]:
    engine = engine_for_url(url)
    started = time.perf_counter()
    async with make_sessionmaker(engine)() as session:
        report = await import_till_sales(session, parse_rows(body, "text/csv"))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    summary = (
        f"imported={report.imported} already_imported={report.already_imported} "
        f"linked={report.linked} errors={report.errors_total}"
    )
    return elapsed, summary


async def run(url: str, rows: int, members: int) -> None:
    phones = await seed(url, members)
    body = till_export(rows, phones)
    for label in ("first", "again"):
        elapsed, summary = await timed_import(url, body)
        print(
            f"instore_import run={label} rows={rows} seconds={elapsed:.1f} "
            f"rows_per_s={rows / elapsed:.0f} {summary}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--database-url", help="a fresh, empty database (default: a SQLite file)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        with ThreadPoolExecutor(max_workers=1) as pool:  # alembic runs its own event loop
            pool.submit(upgrade, url).result()
        asyncio.run(run(url, options.rows, options.members))


if __name__ == "__main__":
    main()
