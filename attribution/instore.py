"""In-store sales (the store's first line): HQ imports the stores' till exports.

Each sale counts for the store it happened in, never for a guide (attribution/instore_credit.py
says why), is a credit row of rule `instore` with its reason, and names the customer whose
phone the till recorded when one matches. A return (`return_of` a receipt) reverses that much
of its sale's credit. The till's receipt id makes the import idempotent: a
file imported twice, or a run cut short and started again, adds each receipt once. Rows that do
not parse are reported one by one (row, field, message); the good rows of the file still go in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.credit import RULE_PHYSICAL_STORE
from attribution.instore_credit import (
    RULE_INSTORE,
    ReturnRefused,
    apply_return,
    credit_till_sales,
    sale_credit_row,
    store_names,
)
from attribution.models import Customer, InstoreSale, SaleCredit, Store
from attribution.schemas import InstoreImportReport, RowError, StoreSales, TillSale
from server.errors import Invalid
from server.model_base import utcnow

TILL_RULES = (RULE_INSTORE, RULE_PHYSICAL_STORE)
"""The credit rules of the store's first line: an imported till sale, and an order credited as
bought at the till (`credit_sale(in_store=True)`)."""
BATCH_ROWS = 5_000
"""Rows written per transaction: a cut-short import keeps what it wrote (re-running it skips
those receipts), and SQLite's writer lock is never held for a whole 100,000-row file."""
MAX_REPORTED_ERRORS = 1_000
"""A file of bad rows is reported by its first errors and a count, not by an answer as large."""
PHONE_LOOKUP_CHUNK = 500
"""Phones per `IN (...)` lookup: well under every backend's bound-parameter limit."""
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
JSON_TYPES = ("application/json",)


class UnreadableImport(Invalid):
    """The body as a whole is not a till export this endpoint reads."""


def parse_rows(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The records of a CSV (header line first) or JSON (an array of objects) till export."""
    media = content_type.split(";")[0].strip().lower()
    if media in JSON_TYPES:
        try:
            rows = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise UnreadableImport(f"the JSON does not parse: {exc}") from exc
        if not isinstance(rows, list):
            raise UnreadableImport("a JSON import is an array of sale objects")
        return rows
    if media in CSV_TYPES:
        try:
            text = body.decode("utf-8-sig")  # spreadsheets save UTF-8 with a byte-order mark
        except UnicodeDecodeError as exc:
            raise UnreadableImport("a CSV import is UTF-8 text") from exc
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise UnreadableImport("the CSV has no header line")
        # Empty cells are absent fields, so an optional column left blank takes its default.
        return [
            {key.strip(): value.strip() for key, value in row.items() if key and value}
            for row in reader
        ]
    raise UnreadableImport(f"send text/csv or application/json, not {media or 'nothing'}")


Valid = tuple[int, TillSale, int]
"""A row that parsed: (its 1-based row number, the sale, its store id)."""

_AT_FIELD = re.compile(r" - at `\$\.(\w+)`")
_MISSING = re.compile(r"missing required field `(\w+)`")


def _row_error(row: int, exc: msgspec.ValidationError) -> RowError:
    text = str(exc)
    field = _AT_FIELD.search(text) or _MISSING.search(text)
    return RowError(row, field.group(1) if field else None, _AT_FIELD.sub("", text))


def normalise_phone(phone: str) -> str:
    """Digits only, without China's +86, as customers' phones are stored (13812345678)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def validate(rows: Sequence[Any], store_ids: dict[str, int]) -> tuple[list[Valid], list[RowError]]:
    """The rows that parse, each with its row number and store id, and an error per row that
    does not. CSV cells are text, so numbers and times are read from strings (strict=False)."""
    good: list[Valid] = []
    errors: list[RowError] = []
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            errors.append(RowError(number, None, "a sale is an object of named fields"))
            continue
        try:
            sale = msgspec.convert(raw, TillSale, strict=False)
        except msgspec.ValidationError as exc:
            errors.append(_row_error(number, exc))
            continue
        try:
            sale.sold_at = sale.sold_at.astimezone(UTC)
        except OverflowError:
            errors.append(RowError(number, "sold_at", "not a time UTC can hold"))
            continue
        if sale.amount_fen == 0:
            errors.append(RowError(number, "amount_fen", "a sale or return of nothing"))
            continue
        if sale.amount_fen < 0 and sale.return_of is None:
            errors.append(RowError(number, "return_of", "a return names the receipt it returns"))
            continue
        store_id = store_ids.get(sale.store_code)
        if store_id is None:
            errors.append(RowError(number, "store_code", f"no store has code {sale.store_code}"))
            continue
        good.append((number, sale, store_id))
    return good, errors


def _insert_ignoring_known_receipts(dialect: str) -> Insert:
    table = cast(Table, InstoreSale.__table__)
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return statement.on_conflict_do_nothing(index_elements=["receipt_id"]).returning(
        table.c.id,
        table.c.receipt_id,
        table.c.store_id,
        table.c.customer_id,
        table.c.amount_fen,
        table.c.sold_at,
    )


async def customers_by_phone(session: AsyncSession, phones: set[str]) -> dict[str, int]:
    """The customer each phone names; where members share a phone, the oldest account."""
    found: dict[str, int] = {}
    ordered = sorted(phones)
    for start in range(0, len(ordered), PHONE_LOOKUP_CHUNK):
        chunk = ordered[start : start + PHONE_LOOKUP_CHUNK]
        rows = await session.execute(
            select(Customer.phone, func.min(Customer.id))
            .where(Customer.phone.in_(chunk))
            .group_by(Customer.phone)
        )
        found.update({phone: customer_id for phone, customer_id in rows if phone})
    return found


def _batches(items: list[Valid]) -> Iterator[list[Valid]]:
    for start in range(0, len(items), BATCH_ROWS):
        yield items[start : start + BATCH_ROWS]


async def import_till_sales(session: AsyncSession, rows: Sequence[Any]) -> InstoreImportReport:
    """Write the good rows of a till export, a transaction per batch, each with its credit row;
    report the bad ones. Sales go in first, so a return may name a sale of the same file."""
    async with session.begin():
        store_ids = dict((await session.execute(select(Store.code, Store.id))).all())
        names = await store_names(session)
    valid, errors = validate(rows, store_ids)
    sales = [each for each in valid if each[1].return_of is None]
    dialect = session.get_bind().dialect.name
    statement = _insert_ignoring_known_receipts(dialect)
    imported = linked = 0
    for batch in _batches(sales):
        async with session.begin():
            phones = {normalise_phone(sale.phone) for _, sale, _ in batch if sale.phone}
            customer_of = await customers_by_phone(session, phones)
            now = utcnow()
            params = [
                {
                    "receipt_id": sale.receipt_id,
                    "store_id": store_id,
                    "customer_id": customer_of.get(normalise_phone(sale.phone))
                    if sale.phone
                    else None,
                    "amount_fen": sale.amount_fen,
                    "sold_at": sale.sold_at,
                    "imported_at": now,
                }
                for _, sale, store_id in batch
            ]
            written = (await session.execute(statement, params)).all()
            await credit_till_sales(
                session,
                [
                    sale_credit_row(
                        names,
                        instore_sale_id=row.id,
                        receipt_id=row.receipt_id,
                        store_id=row.store_id,
                        customer_id=row.customer_id,
                        amount_fen=row.amount_fen,
                        sold_at=row.sold_at,
                    )
                    for row in written
                ],
            )
        imported += len(written)
        linked += sum(1 for row in written if row.customer_id is not None)
    returns = [each for each in valid if each[1].return_of is not None]
    returned, refused = await _import_returns(session, returns, errors)
    errors.sort(key=lambda error: error.row)
    return InstoreImportReport(
        rows=len(rows),
        imported=imported + returned,
        already_imported=len(valid) - imported - returned - refused,
        linked=linked,
        errors_total=len(errors),
        errors=errors[:MAX_REPORTED_ERRORS],
        returns=returned,
    )


async def _import_returns(
    session: AsyncSession, returns: list[Valid], errors: list[RowError]
) -> tuple[int, int]:
    """Apply each till return in its own transaction (a file holds few; each reads what its
    sale has left); a refused one becomes its row's error. (returned, refused)."""
    returned = refused = 0
    now = utcnow()
    for number, sale, _ in returns:
        try:
            async with session.begin():
                done = await apply_return(
                    session,
                    receipt_id=sale.receipt_id,
                    return_of=sale.return_of or "",
                    amount_fen=abs(sale.amount_fen),
                    sold_at=sale.sold_at,
                    imported_at=now,
                )
        except ReturnRefused as exc:
            errors.append(RowError(number, exc.field, str(exc)))
            refused += 1
            continue
        returned += int(done)
    return returned, refused


async def store_sales(
    session: AsyncSession, *, since: datetime, until: datetime, store_id: int | None = None
) -> list[StoreSales]:
    """Each store's (or one store's) two lines over [since, until), both read from its credit
    rows (net of refunds and till returns) by when they count: the till line (rule `instore`)
    and the online line (every other rule)."""
    stores = select(Store.id).order_by(Store.id)
    till_line = SaleCredit.rule.in_(TILL_RULES)
    lines = (
        select(SaleCredit.store_id, till_line.label("till"), func.sum(SaleCredit.amount_fen))
        .where(SaleCredit.created_at >= since, SaleCredit.created_at < until)
        .group_by(SaleCredit.store_id, till_line)
    )
    if store_id is not None:
        stores = stores.where(Store.id == store_id)
        lines = lines.where(SaleCredit.store_id == store_id)
    till_fen: dict[int, int] = {}
    online_fen: dict[int, int] = {}
    for each, till, total in (await session.execute(lines)).all():
        if each is not None:  # HQ's own line is no store's
            (till_fen if till else online_fen)[each] = int(total or 0)
    totals = []
    for each in await session.scalars(stores):
        in_store, credited = till_fen.get(each, 0), online_fen.get(each, 0)
        total = in_store + credited
        share = round(credited / total, 4) if total > 0 else 0.0
        totals.append(StoreSales(each, in_store, credited, total, share))
    return totals
