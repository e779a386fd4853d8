"""Bounded wire types: every number and string a client sends fits the column it reaches.

Ids and counts are PostgreSQL `integer` columns (SQLite holds 64 bits, but the same rule
keeps both backends alike), so anything past 2**31-1 would fail in SQL as a 500; msgspec
refuses it while decoding instead, as a 400 naming the field. Strings are capped at their
column's length and refuse NUL, which PostgreSQL text cannot store. Path parameters use the
same types, so `/api/rooms/2147483648` is a 400 and never reaches the database.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from msgspec import Meta

INT32_MAX = 2**31 - 1
NO_NUL = "^[^\\x00]*$"
"""A pattern that rejects NUL anywhere (msgspec searches patterns, so it is anchored)."""

Id = Annotated[int, Meta(ge=1, le=INT32_MAX)]
"""A row id of an `integer` primary key."""
Count = Annotated[int, Meta(ge=0, le=INT32_MAX)]
"""A non-negative quantity held in an `integer` column (units, fen, limits)."""
Positive = Annotated[int, Meta(ge=1, le=INT32_MAX)]
"""A quantity that must be at least one (units ordered, units added)."""
Int32 = Annotated[int, Meta(ge=-(2**31), le=INT32_MAX)]
"""Any `integer` column's value; for fields whose domain check answers in its own words."""
LAST_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant a Python datetime (and so a timestamp column
read through one) can hold."""
EpochMs = Annotated[int, Meta(ge=0, le=LAST_MS)]
"""Milliseconds since 1970."""
StreamOffset = Annotated[int, Meta(ge=0, le=2**53)]
"""A position in a broadcast's event stream."""

Text16 = Annotated[str, Meta(max_length=16, pattern=NO_NUL)]
Text32 = Annotated[str, Meta(max_length=32, pattern=NO_NUL)]
Text64 = Annotated[str, Meta(max_length=64, pattern=NO_NUL)]
Text500 = Annotated[str, Meta(max_length=500, pattern=NO_NUL)]
NonEmpty64 = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
"""A required key of at most 64 characters (login codes, idempotency keys)."""
ORDER_ID_PATTERN = "^[0-9A-Za-z_-]+$"
OrderId = Annotated[str, Meta(min_length=1, max_length=32, pattern=ORDER_ID_PATTERN)]
"""Order ids are short printable tokens (String(32) primary key)."""

# Litestar reads a path parameter's bounds from `Parameter`, not from msgspec's `Meta`.
PathId = Annotated[int, Parameter(ge=1, le=INT32_MAX)]
"""A row id in a URL path: out of range is a 400 before any handler runs."""
PathOrderId = Annotated[str, Parameter(min_length=1, max_length=32, pattern=ORDER_ID_PATTERN)]
