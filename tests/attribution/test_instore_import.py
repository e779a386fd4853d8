"""HQ imports the stores' till sales: idempotent by receipt, each bad row reported, every sale
credited to the store it happened in and linked to the customer whose phone the till took."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.credit import credit_sale
from attribution.models import InstoreSale
from server import factories
from server.auth import Role
from server.services import Services

pytestmark = pytest.mark.database

CSV = (
    "\ufeffreceipt_id,store_code,amount_fen,sold_at,phone,cashier\n"
    "SH01-0001,SH01,12900,2026-11-30T10:15:00+08:00,138 0000 1111,小张\n"
    "SH01-0002,SH01,59900,2026-11-30T11:00:00+08:00,,小张\n"
    "SH01-0003,SH01,-500,2026-11-30T11:30:00+08:00,,小张\n"
    "HZ01-0001,HZ01,45900,2026-11-30T12:00:00+08:00,+8613900002222,小李\n"
    "XX99-0001,XX99,100,2026-11-30T12:00:00+08:00,,小李\n"
    "HZ01-0002,HZ01,32900,2026-11-30 12:30:00,,小李\n"
    ",HZ01,100,2026-11-30T12:40:00+08:00,,小李\n"
)
JSON_ROWS = [
    {"receipt_id": "GZ01-0001", "store_code": "GZ01", "amount_fen": 19900,
     "sold_at": "2026-11-29T09:00:00Z", "phone": "13800001111"},
    {"receipt_id": "GZ01-0002", "store_code": "GZ01", "amount_fen": "a lot",
     "sold_at": "2026-11-29T09:05:00Z"},
    {"receipt_id": "GZ01-0003", "store_code": "GZ01", "amount_fen": 5000},
    "not a sale",
    {"receipt_id": "GZ01-0004", "store_code": "GZ01", "amount_fen": 8800,
     "sold_at": "2026-11-29T10:00:00+08:00", "till": 3},
    {"receipt_id": "GZ01-0005", "store_code": "GZ01", "amount_fen": 100,
     "sold_at": "0001-01-01T00:00:00+08:00"},
]  # fmt: skip


@pytest.fixture
async def chain(services: Services) -> dict[str, int]:
    """Three stores and two members with phones, one of them in two accounts."""
    async with services.sessionmaker() as session, session.begin():
        region = await factories.add_region(session)
        ids = {}
        for code in ("SH01", "HZ01", "GZ01"):
            store = await factories.add_store(session, region_id=region.id, code=code, name=code)
            ids[code] = store.id
        lin = await factories.add_customer(
            session, "lin", home_store_id=ids["SH01"], phone="13800001111"
        )
        await factories.add_customer(
            session, "lin-again", home_store_id=ids["GZ01"], phone="13800001111"
        )
        wang = await factories.add_customer(
            session, "wang", home_store_id=ids["HZ01"], phone="13900002222"
        )
        ids["lin"], ids["wang"] = lin.id, wang.id
    return ids


def hq(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}


async def post_csv(client: AsyncTestClient[Litestar], headers: dict[str, str], body: str) -> dict:
    response = await client.post(
        "/api/instore-sales/import",
        content=body.encode(),
        headers={**headers, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def post_json(client: AsyncTestClient[Litestar], headers: dict[str, str], rows: list) -> dict:
    response = await client.post(
        "/api/instore-sales/import",
        content=msgspec.json.encode(rows),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def sales(services: Services) -> dict[str, tuple[int, int | None, int, datetime]]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(select(InstoreSale))
        return {s.receipt_id: (s.store_id, s.customer_id, s.amount_fen, s.sold_at) for s in rows}


async def test_a_csv_credits_each_store_links_phones_and_reports_bad_rows(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    report = await post_csv(client, hq(token_for), CSV)

    assert report == {
        "rows": 7,
        "imported": 3,
        "already_imported": 0,
        "linked": 2,
        "errors_total": 4,
        "errors": [
            {"row": 3, "field": "return_of", "message": "a return names the receipt it returns"},
            {"row": 5, "field": "store_code", "message": "no store has code XX99"},
            {"row": 6, "field": "sold_at", "message": "Expected `datetime` with a timezone component"},
            {"row": 7, "field": "receipt_id", "message": "Object missing required field `receipt_id`"},
        ],
        "returns": 0,
    }  # fmt: skip
    assert await sales(services) == {
        "SH01-0001": (
            chain["SH01"],
            chain["lin"],
            12900,
            datetime(2026, 11, 30, 2, 15, tzinfo=UTC),
        ),
        "SH01-0002": (chain["SH01"], None, 59900, datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),
        "HZ01-0001": (chain["HZ01"], chain["wang"], 45900, datetime(2026, 11, 30, 4, tzinfo=UTC)),
    }


async def test_importing_the_same_files_twice_adds_each_receipt_once(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    first_csv = await post_csv(client, hq(token_for), CSV)
    first_json = await post_json(client, hq(token_for), JSON_ROWS)
    written = await sales(services)

    again_csv = await post_csv(client, hq(token_for), CSV)
    again_json = await post_json(client, hq(token_for), JSON_ROWS)

    assert await sales(services) == written
    assert (first_json["imported"], first_json["linked"]) == (2, 1)
    assert written["GZ01-0001"][:2] == (chain["GZ01"], chain["lin"])  # the older account
    assert (again_csv["imported"], again_csv["already_imported"]) == (0, 3)
    assert (again_json["imported"], again_json["already_imported"]) == (0, 2)
    assert again_csv["errors"] == first_csv["errors"]
    assert (
        again_json["errors"]
        == first_json["errors"]
        == [
            {"row": 2, "field": "amount_fen", "message": "Expected `int`, got `str`"},
            {"row": 3, "field": "sold_at", "message": "Object missing required field `sold_at`"},
            {"row": 4, "field": None, "message": "a sale is an object of named fields"},
            {"row": 6, "field": "sold_at", "message": "not a time UTC can hold"},
        ]
    )


async def test_a_receipt_repeated_in_one_file_is_written_once(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], chain: dict[str, int]
) -> None:
    line = "SH01-0009,SH01,100,2026-11-30T10:00:00Z\n"
    report = await post_csv(
        client, hq(token_for), "receipt_id,store_code,amount_fen,sold_at\n" + line * 3
    )
    assert (report["imported"], report["already_imported"]) == (1, 2)


async def test_a_body_that_is_no_till_export_is_refused(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], chain: dict[str, int]
) -> None:
    for content_type, body in [
        ("application/json", b'{"receipt_id": "x"}'),
        ("application/json", b"[{"),
        ("application/xml", b"<sales/>"),
        ("text/csv", b"\xff\xfe"),
    ]:
        response = await client.post(
            "/api/instore-sales/import",
            content=body,
            headers={**hq(token_for), "Content-Type": content_type},
        )
        assert response.status_code == 400, (content_type, response.text)
        assert set(response.json()) == {"status_code", "detail"}


async def test_only_hq_imports_till_sales(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], chain: dict[str, int]
) -> None:
    for role, store in [
        (Role.HOST, chain["SH01"]),
        (Role.GUIDE, chain["SH01"]),
        (Role.VIEWER, None),
    ]:
        response = await client.post(
            "/api/instore-sales/import",
            content=CSV.encode(),
            headers={
                "Authorization": f"Bearer {token_for(role, 1, store)}",
                "Content-Type": "text/csv",
            },
        )
        assert response.status_code == 403, role


async def test_a_stores_total_adds_its_till_sales_to_its_online_credit(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    await post_csv(client, hq(token_for), CSV)
    async with services.sessionmaker() as session, session.begin():
        day = datetime(2026, 11, 30, 9, tzinfo=UTC)
        await credit_sale(
            session,
            order_id="o1",
            customer_id=chain["lin"],
            amount_fen=30000,
            room_store_id=chain["SH01"],
            at=day,
        )
        await credit_sale(
            session,
            order_id="o2",
            customer_id=chain["wang"],
            amount_fen=10000,
            room_store_id=chain["SH01"],
            at=day - timedelta(days=60),
        )  # before the period
    period = "?since=2026-11-01T00:00:00%2B08:00&until=2026-12-01T00:00:00%2B08:00"

    response = await client.get(f"/api/instore-sales/totals{period}", headers=hq(token_for))
    assert response.json() == [
        {"store_id": chain["SH01"], "in_store_fen": 72800, "online_fen": 30000,
         "total_fen": 102800, "private_domain_share": 0.2918},
        {"store_id": chain["HZ01"], "in_store_fen": 45900, "online_fen": 0,
         "total_fen": 45900, "private_domain_share": 0.0},
        {"store_id": chain["GZ01"], "in_store_fen": 0, "online_fen": 0,
         "total_fen": 0, "private_domain_share": 0.0},
    ]  # fmt: skip
    host = {"Authorization": f"Bearer {token_for(Role.HOST, 2, chain['HZ01'])}"}
    response = await client.get(f"/api/instore-sales/totals{period}", headers=host)
    assert [row["store_id"] for row in response.json()] == [chain["HZ01"]]
    guide = {"Authorization": f"Bearer {token_for(Role.GUIDE, 2, chain['HZ01'])}"}
    assert (await client.get("/api/instore-sales/totals", headers=guide)).status_code == 403
