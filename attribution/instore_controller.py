"""HTTP endpoint of the in-store sales import (attribution/instore.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.instore import import_till_sales, parse_rows
from attribution.schemas import InstoreImportReport
from server.auth import Role, allow

MAX_IMPORT_BYTES = 64 * 1024 * 1024
"""A store's till export for a month runs to a few hundred thousand receipts (~60 bytes each)."""


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
