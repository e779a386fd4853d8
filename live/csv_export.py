"""Any of HQ's tables as a CSV file Excel opens as it is (UTF-8 with a byte-order mark)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Response

BOM = "\ufeff"
"""Without it Excel reads UTF-8 as the system code page and the store names come out garbled."""


def _flat(struct: msgspec.Struct, prefix: str = "") -> dict[str, Any]:
    """A row's fields, a nested struct's spelled `outer.inner`; lists are left out."""
    cells: dict[str, Any] = {}
    for name in struct.__struct_fields__:
        value = getattr(struct, name)
        if isinstance(value, msgspec.Struct):
            cells.update(_flat(value, f"{prefix}{name}."))
        elif isinstance(value, datetime | date):
            cells[f"{prefix}{name}"] = value.isoformat()
        elif value is None or isinstance(value, str | int | float | bool):
            cells[f"{prefix}{name}"] = "" if value is None else value
    return cells


def csv_text(rows: Sequence[msgspec.Struct], skip: Iterable[str] = ()) -> str:
    flat = [_flat(row) for row in rows]
    columns = [c for c in (flat[0] if flat else {}) if c not in set(skip)]
    out = io.StringIO()
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def csv_response(rows: Sequence[msgspec.Struct], filename: str) -> Response[bytes]:
    return Response(
        csv_text(rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
