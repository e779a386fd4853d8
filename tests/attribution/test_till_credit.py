"""Till sales are credit rows of their own rule, crediting the store where they happened with
a reason from the receipt; a till return reverses exactly its sale's credit, never more."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from attribution.instore_credit import RULE_INSTORE
from attribution.models import SaleCredit
from server.auth import Role
from server.services import Services
from tests.attribution.test_instore_import import chain, hq, post_csv, post_json

__all__ = ["chain"]  # the fixture, shared with the import's tests

pytestmark = pytest.mark.database

HEADER = "receipt_id,store_code,amount_fen,sold_at,phone,return_of\n"
SALES = (
    "R123,SH01,12900,2026-03-02T10:15:00+08:00,13800001111,\n"
    "R124,HZ01,45900,2026-03-02T12:00:00+08:00,,\n"
)


async def credits(services: Services) -> list[SaleCredit]:
    async with services.sessionmaker() as session:
        return list(await session.scalars(select(SaleCredit).order_by(SaleCredit.id)))


async def store_totals(services: Services) -> dict[int | None, int]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(SaleCredit.store_id, func.sum(SaleCredit.amount_fen)).group_by(
                SaleCredit.store_id
            )
        )
        return {store: int(total) for store, total in rows.all()}


async def test_each_till_sale_is_one_credit_of_its_store_with_the_receipt_as_reason(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    await post_csv(client, hq(token_for), HEADER + SALES)
    await post_csv(client, hq(token_for), HEADER + SALES)  # idempotent by receipt

    rows = await credits(services)
    assert [
        (c.kind, c.rule, c.store_id, c.guide_id, c.customer_id, c.order_id, c.amount_fen)
        for c in rows
    ] == [
        ("sale", RULE_INSTORE, chain["SH01"], None, chain["lin"], None, 12900),
        ("sale", RULE_INSTORE, chain["HZ01"], None, None, None, 45900),
    ]
    assert rows[0].reason_zh == "门店收银 SH01 小票 R123, 2026-03-02"
    assert rows[0].reason_en == "till sale at SH01, receipt R123, 2026-03-02"


async def test_a_till_return_reverses_exactly_its_sale_and_never_more(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    returns = (
        "R200,SH01,-4000,2026-03-05T10:00:00+08:00,,R123\n"  # negative, as most tills write it
        "R201,SH01,8900,2026-03-06T10:00:00+08:00,,R123\n"  # positive: the rest of R123
        "R202,SH01,-1,2026-03-07T10:00:00+08:00,,R123\n"  # nothing left to give back
        "R203,HZ01,-100,2026-03-07T10:00:00+08:00,,R999\n"  # no such sale
        "R204,SH01,-100,2026-03-07T10:00:00+08:00,,R200\n"  # a return of a return
    )
    report = await post_csv(client, hq(token_for), HEADER + SALES + returns)

    assert (report["imported"], report["returns"], report["errors_total"]) == (4, 2, 3)
    assert report["errors"] == [
        {"row": 5, "field": "amount_fen", "message": "returns 1 fen of R123, which has 0 fen left"},
        {"row": 6, "field": "return_of", "message": "no till sale has receipt R999"},
        {"row": 7, "field": "return_of", "message": "receipt R200 is itself a return"},
    ]
    reversals = [c for c in await credits(services) if c.kind == "reversal"]
    assert [(c.store_id, c.customer_id, c.rule, c.refund_id, c.amount_fen) for c in reversals] == [
        (chain["SH01"], chain["lin"], RULE_INSTORE, "R200", -4000),
        (chain["SH01"], chain["lin"], RULE_INSTORE, "R201", -8900),
    ]
    assert reversals[0].reason_zh == "门店退货 SH01 小票 R200 退 R123, 2026-03-05"
    assert await store_totals(services) == {chain["SH01"]: 0, chain["HZ01"]: 45900}

    again = await post_csv(client, hq(token_for), HEADER + returns)
    assert (again["imported"], again["already_imported"], again["errors_total"]) == (0, 2, 3)
    assert await store_totals(services) == {chain["SH01"]: 0, chain["HZ01"]: 45900}


async def test_a_return_in_json_of_a_sale_imported_before(
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
    chain: dict[str, int],
) -> None:
    await post_csv(client, hq(token_for), HEADER + SALES)
    report = await post_json(
        client,
        hq(token_for),
        [
            {"receipt_id": "R300", "store_code": "HZ01", "amount_fen": -900,
             "sold_at": "2026-03-09T09:00:00Z", "return_of": "R124"},
        ],
    )  # fmt: skip
    assert (report["imported"], report["returns"]) == (1, 1)
    assert await store_totals(services) == {chain["SH01"]: 12900, chain["HZ01"]: 45000}
    period = "?since=2026-03-01T00:00:00%2B08:00&until=2026-04-01T00:00:00%2B08:00"
    host = {"Authorization": f"Bearer {token_for(Role.HOST, 2, chain['HZ01'])}"}
    totals = (await client.get(f"/api/instore-sales/totals{period}", headers=host)).json()
    assert totals == [
        {"store_id": chain["HZ01"], "in_store_fen": 45000, "online_fen": 0,
         "total_fen": 45000, "private_domain_share": 0.0},
    ]  # fmt: skip
