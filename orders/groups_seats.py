"""The seats of group orders, copied into SQL with the orders themselves.

The join script records a seat in Redis only (`:group-orders`, order -> group). The persister,
writing a batch of a group_buy deal's orders, reads their groups from that hash and writes
`group_seats` rows in the same transaction, so SQL knows every seat of every order it has: what
rebuilds the groups after Redis lost them (orders/groups_restore.py). The join itself never
waits for SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders.groups_models import GroupSeat
from orders.groups_terms import GROUP_KIND, GroupKeys
from orders.models import Deal
from server.services import Services

SEATS = GroupSeat.__table__


class SeatCopier:
    """Finds the seats of a batch of order rows (the persister's), one Redis call per batch of
    a group_buy deal and none for other deals (a deal's kind never changes: cached)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._grouped: dict[int, bool] = {}

    async def seats_of(self, deal_id: int, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows or not await self._is_group_deal(deal_id):
            return []
        return await seats_of(self.services.redis, deal_id, rows)

    async def _is_group_deal(self, deal_id: int) -> bool:
        if deal_id not in self._grouped:
            async with self.services.sessionmaker() as session:
                kind = await session.scalar(select(Deal.kind).where(Deal.id == deal_id))
            if kind is None:
                return False
            self._grouped[deal_id] = kind == GROUP_KIND
        return self._grouped[deal_id]


async def seats_of(
    client: redis.asyncio.Redis, deal_id: int, rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The `group_seats` rows of these order rows that took a seat (as Redis has it)."""
    ids = [row["id"] for row in rows]
    groups = await client.hmget(GroupKeys(deal_id).order_groups, ids)  # type: ignore[misc]
    return [
        {
            "order_id": row["id"],
            "group_id": group.decode(),
            "customer_id": row["customer_id"],
            "taken_at": row["accepted_at"],
        }
        for row, group in zip(rows, groups, strict=True)
        if group is not None
    ]


async def record_seats(session: AsyncSession, seats: Sequence[dict[str, Any]]) -> None:
    """Insert the seats not yet there (in the orders' transaction)."""
    if seats:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(SEATS).on_conflict_do_nothing(index_elements=["order_id"])  # type: ignore[arg-type]
        await session.execute(statement, list(seats))
