"""One explicit transaction on a session, whether or not the caller already read through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on error. A session that autobegan (a read before us) has
    its open transaction taken over and committed, so the caller sees one visible commit."""
    if not session.in_transaction():
        async with session.begin():
            yield session
        return
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
