"""Customers' masked chat names, read once per process at their first chat line: admitting
a socket reads no SQL, so a join storm is not a storm of profile reads."""

from __future__ import annotations

import collections

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attribution.privacy import mask_name
from attribution.queries import customer_profile

NAMES_KEPT = 4096


class ChatNames:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._names: collections.OrderedDict[int, str] = collections.OrderedDict()

    async def of(self, customer_id: int) -> str | None:
        """The masked name (林**); None for a customer that does not exist."""
        name = self._names.get(customer_id)
        if name is None:
            async with self.sessionmaker() as session:
                profile = await customer_profile(session, customer_id)
            if profile is None:
                return None
            name = self._names[customer_id] = mask_name(profile.nickname)
            if len(self._names) > NAMES_KEPT:
                self._names.popitem(last=False)
        self._names.move_to_end(customer_id)
        return name
