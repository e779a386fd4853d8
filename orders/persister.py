"""The persister: moves accepted orders from the deals' Redis streams into SQL.

One consumer group (`persist`) over every deal's stream. A consumer reads a batch, inserts it
in one transaction (idempotent by order id: ON CONFLICT DO NOTHING), and acknowledges the
entries only after the commit; once a second it trims what every consumer is done with.
Entries a dead consumer left pending are claimed by another after CLAIM_IDLE_MS
(XAUTOCLAIM); an entry delivered MAX_DELIVERIES times goes to the deal's
dead-letter stream and is logged, so it never blocks the entries behind it.

It runs in the arq worker, started by its startup hook (orders/jobs.py `start_tasks`): the
worker already exists to run background work next to the app nodes, scaling it does not
touch the nodes serving viewers, and a kill -9 of it is recovered by the next consumer's
XAUTOCLAIM.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import redis.asyncio
import structlog
from arq.connections import ArqRedis
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders import coupons
from orders.groups_seats import SeatCopier, record_seats
from orders.keys import GROUP, STREAMS_KEY, DealKeys, deal_id_of_stream
from orders.models import Order
from orders.statuses import OrderStatus
from server.services import Services

log = structlog.get_logger()

BATCH = 500
"""Entries per read per stream: one transaction each, so a commit's fixed cost (an fsync on
SQLite) is shared by many rows."""
BLOCK_MS = 500
"""How long a read waits for new entries; also how often new deal streams are noticed."""
LINGER_S = 0.1
"""After a short read, how long to let entries gather before the next: orders reach SQL at
most this much later, in batches several times larger under load."""
CLAIM_IDLE_MS = 5_000
"""An entry pending this long has a dead or stuck consumer; another takes it. Well above a
batch's commit time (tens of ms), so a live consumer is rarely raced, and a race is harmless:
inserts are idempotent."""
MAX_DELIVERIES = 5
"""Deliveries before an entry is given up to the dead-letter stream."""
RECOVER_EVERY_S = 1.0
EXPIRE_JOB = "expire_orders"

Entry = tuple[bytes, dict[bytes, bytes]]


def _entry_order(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(2).hex()}"


class StreamOrder(msgspec.Struct, array_like=True, frozen=True):
    """The `o` field of an order's stream entry, as orders/lua/reserve.lua packs it."""

    customer: int
    deal: int
    product: int
    kind: str
    quantity: int
    price: int
    amount: int
    accepted_ms: int
    pay_by_ms: int
    broadcast: int | None
    room_store: int | None
    key: str
    policy: str
    discount: int = 0
    coupons: str = ""
    """The coupons the order spends, "id,id"."""
    guide: int | None = None
    """The guide who placed the order for the customer."""


_decode_stream_order = msgspec.msgpack.Decoder(StreamOrder).decode


def order_row(fields: dict[bytes, bytes]) -> dict[str, Any]:
    """The orders row of one stream entry. Raises KeyError or msgspec.DecodeError (a
    ValueError) for an entry that is not an order."""
    order = _decode_stream_order(fields[b"o"]) if b"o" in fields else _field_entry(fields)
    row: dict[str, Any] = {
        "id": fields[b"id"].decode(),
        "idempotency_key": order.key,
        "customer_id": order.customer,
        "deal_id": order.deal,
        "product_id": order.product,
        "broadcast_id": order.broadcast,
        "room_store_id": order.room_store,
        "quantity": order.quantity,
        "unit_price_fen": order.price,
        "discount_fen": order.discount,
        "amount_fen": order.amount,
        "placed_by_guide_id": order.guide,
        "status": OrderStatus.PENDING_PAYMENT,
        "accepted_at": datetime.fromtimestamp(order.accepted_ms / 1000, UTC),
        "pay_by": datetime.fromtimestamp(order.pay_by_ms / 1000, UTC),
    }
    if order.coupons:
        row[COUPONS] = order.coupons
    return row


def _field_entry(fields: dict[bytes, bytes]) -> StreamOrder:
    """An entry from before the packed format (a field per value): one still in a stream
    when a new worker starts must reach SQL, not the dead letters."""
    broadcast, room_store = fields[b"broadcast"], fields[b"room_store"]
    return StreamOrder(
        customer=int(fields[b"customer"]),
        deal=int(fields[b"deal"]),
        product=int(fields[b"product"]),
        kind=fields[b"kind"].decode(),
        quantity=int(fields[b"quantity"]),
        price=int(fields[b"price"]),
        amount=int(fields[b"amount"]),
        accepted_ms=int(fields[b"accepted_ms"]),
        pay_by_ms=int(fields[b"pay_by_ms"]),
        broadcast=int(broadcast) if broadcast else None,
        room_store=int(room_store) if room_store else None,
        key=fields[b"key"].decode(),
        policy=fields[b"policy"].decode(),
    )


ORDERS = Order.__table__
COUPONS = "coupon_ids"
"""A row's key, not a column: the coupons the order spends (recorded in the coupons table)."""


def _insert_statement(dialect: str) -> Any:
    """Built once per dialect so SQLAlchemy compiles it once; without RETURNING it runs as the
    driver's executemany."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(ORDERS).on_conflict_do_nothing(index_elements=["id"])  # type: ignore[arg-type]


_STATEMENTS = {dialect: _insert_statement(dialect) for dialect in ("sqlite", "postgresql")}


async def insert_orders(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the orders not yet there, and record the coupons they spend. The row is the
    order's acceptance record (its `accepted_at`); order_events has the changes after it."""
    if rows:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        uses = [(row["id"], row[COUPONS]) for row in rows if COUPONS in row]
        if uses:
            rows = [{k: v for k, v in row.items() if k != COUPONS} for row in rows]
        await session.execute(_STATEMENTS[dialect], list(rows))
        await coupons.record_use(session, uses)


class OrderPersister:
    def __init__(
        self,
        services: Services,
        arq: ArqRedis | None = None,
        *,
        consumer: str | None = None,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.services = services
        self.redis: redis.asyncio.Redis = services.redis
        self.arq = arq
        self.consumer = consumer or consumer_name()
        self.claim_idle_ms = claim_idle_ms
        self._streams: list[str] = []
        self._last_recover = 0.0
        self.seats = SeatCopier(services)

    async def run(self) -> None:
        log.info("orders.persister_started", consumer=self.consumer)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("orders.persister_step_failed")
                await asyncio.sleep(1)

    async def step(self, block: bool = True) -> int:
        """One round: notice new streams, recover stale entries, persist one read. Returns the
        number of entries handled."""
        await self._refresh_streams()
        if not self._streams:
            if block:
                await asyncio.sleep(BLOCK_MS / 1000)
            return 0
        handled = 0
        if time.monotonic() - self._last_recover >= RECOVER_EVERY_S:
            self._last_recover = time.monotonic()
            for stream in self._streams:
                handled += await self.recover(stream)
                await self.trim(stream)
        read = await self.redis.xreadgroup(
            GROUP,
            self.consumer,
            dict.fromkeys(self._streams, ">"),
            count=BATCH,
            block=BLOCK_MS if block else None,
        )
        read_count = 0
        for stream, entries in read or []:
            read_count += len(entries)
            handled += await self.persist(stream.decode(), entries)
        if block and 0 < read_count < BATCH:
            # Less than a full batch was waiting: let orders gather a moment. A batch's cost is
            # mostly per batch (a transaction, an expiry job, the round trips), and the
            # customer's answer never waits for SQL.
            await asyncio.sleep(LINGER_S)
        return handled

    async def drain(self) -> int:
        """Persist everything pending now (tests and the bench); returns the entries handled."""
        self._last_recover = 0.0
        total = 0
        while True:
            handled = await self.step(block=False)
            total += handled
            if handled == 0:
                return total

    async def _refresh_streams(self) -> None:
        members = await self.redis.smembers(STREAMS_KEY)  # type: ignore[misc]
        ids = sorted(int(i) for i in members)
        streams = [DealKeys(i).stream for i in ids]
        for stream in set(streams) - set(self._streams):
            try:
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._streams = streams

    async def persist(self, stream: str, entries: Sequence[Entry]) -> int:
        if not entries:
            return 0
        good: list[tuple[bytes, dict[str, Any]]] = []
        for entry_id, fields in entries:
            try:
                good.append((entry_id, order_row(fields)))
            except (KeyError, ValueError):
                log.error("orders.persister_bad_entry", stream=stream, entry=entry_id.decode())
        done: list[bytes] = []
        seats = await self.seats.seats_of(deal_id_of_stream(stream), [row for _, row in good])
        try:
            async with self.services.sessionmaker() as session, session.begin():
                await insert_orders(session, [row for _, row in good])
                await record_seats(session, seats)
            done = [entry_id for entry_id, _ in good]
        except Exception:
            log.warning("orders.persister_batch_failed", stream=stream, size=len(good))
            done = await self._one_by_one(stream, good, seats)
        done_set = set(done)
        await self._schedule_expiry([row for entry_id, row in good if entry_id in done_set])
        if done:
            await self.redis.xack(stream, GROUP, *done)
        return len(entries)

    async def _one_by_one(
        self,
        stream: str,
        good: list[tuple[bytes, dict[str, Any]]],
        seats: list[dict[str, Any]],
    ) -> list[bytes]:
        """A batch failed: find the entries that fail alone; they stay pending until dead."""
        done = []
        for entry_id, row in good:
            try:
                async with self.services.sessionmaker() as session, session.begin():
                    await insert_orders(session, [row])
                    await record_seats(session, [s for s in seats if s["order_id"] == row["id"]])
                done.append(entry_id)
            except Exception as exc:
                log.error(
                    "orders.persister_entry_failed",
                    stream=stream,
                    entry=entry_id.decode(),
                    order_id=row["id"],
                    error=str(exc)[:300],
                )
        return done

    async def _schedule_expiry(self, rows: list[dict[str, Any]]) -> None:
        """One arq job per persisted batch, at the batch's latest pay-by, expiring its orders.

        A batch's orders were accepted within moments of each other, so one job serves them
        all: a job per order (arq's WATCH/MULTI enqueue, several round trips each) would cost
        more than the insert at flash-sale rates. The job id derives from the order
        ids (first id and count), so a redelivered batch schedules nothing new; a batch cut
        differently after a crash schedules a second job, which expires nothing twice (the
        transition is guarded). The SQL sweep is the backstop for jobs arq loses."""
        if self.arq is None or not rows:
            return
        ids = [row["id"] for row in rows]
        await self.arq.enqueue_job(
            EXPIRE_JOB,
            ids,
            _job_id=f"expire:{ids[0]}:{len(ids)}",
            _defer_until=max(row["pay_by"] for row in rows),
        )

    async def trim(self, stream: str) -> None:
        """Drop the entries every consumer is done with: those delivered and acknowledged,
        which are all the entries before both the oldest pending one and the first not yet
        delivered. Once a second, not after each batch: Redis drops whole nodes of the
        stream at once, where an XDEL per batch costs Redis as much as reading the batch
        (docs/benchmarks.md, `INFO commandstats` under `make bench-orders`)."""
        summary = await self.redis.xpending(stream, GROUP)
        groups = await self.redis.xinfo_groups(stream)
        delivered = next(
            (g["last-delivered-id"] for g in groups if g["name"] == GROUP.encode()), None
        )
        if delivered is None or delivered == b"0-0":
            return
        ms, seq = _entry_order(delivered.decode())
        keep_from = f"{ms}-{seq + 1}"
        oldest_pending = summary.get("min")
        if summary.get("pending") and oldest_pending is not None:
            keep_from = min(keep_from, oldest_pending.decode(), key=_entry_order)
        await self.redis.xtrim(stream, minid=keep_from, approximate=False)

    async def recover(self, stream: str) -> int:
        """Dead-letter entries delivered too often, then claim the rest of the stale ones."""
        stale = await self.redis.xpending_range(
            stream, GROUP, min="-", max="+", count=BATCH, idle=self.claim_idle_ms
        )
        given_up = [p["message_id"] for p in stale if p["times_delivered"] >= MAX_DELIVERIES]
        for entry_id in given_up:
            await self._dead_letter(stream, entry_id)
        if len(given_up) == len(stale):
            return len(given_up)
        claimed = await self.redis.xautoclaim(
            stream, GROUP, self.consumer, min_idle_time=self.claim_idle_ms, count=BATCH
        )
        entries = [e for e in claimed[1] if e[1]]  # entries deleted meanwhile come back empty
        if entries:
            log.warning("orders.persister_claimed", stream=stream, count=len(entries))
        return len(given_up) + await self.persist(stream, entries)

    async def _dead_letter(self, stream: str, entry_id: bytes) -> None:
        keys = DealKeys(deal_id_of_stream(stream))
        found = await self.redis.xrange(stream, min=entry_id, max=entry_id)
        fields = dict(found[0][1]) if found else {}
        fields[b"source_entry"] = entry_id
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.dead, fields)
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()
        log.error(
            "orders.persister_dead_letter",
            stream=stream,
            entry=entry_id.decode(),
            order_id=fields.get(b"id", b"").decode(),
            deliveries=MAX_DELIVERIES,
        )
