"""HTTP endpoints of in-store sales (attribution/instore.py): HQ's import of the till exports,
and each store's two lines over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.instore import import_till_sales, parse_rows, store_sales
from attribution.schemas import InstoreImportReport, StoreSales
from server.auth import Principal, Role, allow
from server.errors import Invalid
from server.model_base import utcnow

MAX_IMPORT_BYTES = 64 * 1024 * 1024
"""A store's till export for a month runs to a few hundred thousand receipts (~60 bytes each)."""
DEFAULT_PERIOD = timedelta(days=30)


class BadPeriod(Invalid):
    """A period's bounds that are naive or that UTC cannot hold."""


def _period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    if (since and since.tzinfo is None) or (until and until.tzinfo is None):
        raise BadPeriod("since and until need their UTC offset (2026-11-01T00:00:00+08:00)")
    try:
        until = (until or utcnow()).astimezone(UTC)
        since = since.astimezone(UTC) if since else until - DEFAULT_PERIOD
    except OverflowError as exc:
        raise BadPeriod("since and until must fall within years 1 to 9999 in UTC") from exc
    return since, until


class InstoreSaleController(Controller):
    path = "/api/instore-sales"
    tags = ("in-store sales",)

    @post(
        "/import",
        opt=allow(Role.HQ),
        status_code=200,
        request_max_body_size=MAX_IMPORT_BYTES,
    )
    async def import_sales(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
    ) -> InstoreImportReport:
        """Import the stores' till sales: a CSV with a header line (receipt_id, store_code,
        amount_fen, sold_at, phone) or a JSON array of objects with those fields. Receipts
        already imported are skipped; each bad row is reported (row, field, message) and the
        good ones still go in."""
        rows = parse_rows(await request.body(), request.headers.get("content-type", ""))
        return await import_till_sales(db, rows)

    @get("/totals", opt=allow(Role.HQ, Role.HOST))
    async def totals(
        self,
        db: AsyncSession,
        caller: Principal,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[StoreSales]:
        """Each store's till sales, online credited sales and private-domain share over
        [since, until) (default: the last 30 days); a host gets their own store's."""
        since, until = _period(since, until)
        store_id = None if caller.role is Role.HQ else caller.store_id
        return await store_sales(db, since=since, until=until, store_id=store_id)
