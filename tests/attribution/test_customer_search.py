"""The customers page's reads: a host lists and searches their store's customers (masked
phones, guide, segment), picks one of their guides and reads that guide's credited sales with
reasons; HQ reads every store's. No host reads another store's customers, guides or sales."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth import Role
from server.services import Services
from tests.attribution.chain import Chain, build_chain, buy, open_deal, share
from tests.support.http import bearer

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def chain(services: Services) -> Chain:
    chain = await build_chain(services, customers=4)
    await share(services, chain.customers[0], "g-wang")
    await share(services, chain.customers[2], "g-zhang")  # now store B's
    return chain


async def test_a_host_lists_and_searches_their_stores_customers_with_masked_phones(
    client: Client, chain: Chain, token_for: Callable[..., str]
) -> None:
    host = bearer(token_for(Role.HOST, chain.host_a, chain.store_a))
    listed = (await client.get("/api/customers", headers=host)).json()

    assert [row["id"] for row in listed] == [
        chain.customers[3],
        chain.customers[1],
        chain.customers[0],
    ]  # newest first; customers[2] is bound to store B's guide
    wang = next(row for row in listed if row["id"] == chain.customers[0])
    assert (wang["guide_name"], wang["phone_masked"]) == ("王芳", "138****0000")
    assert all("*" in row["phone_masked"] for row in listed)

    by_digits = await client.get("/api/customers?q=0003", headers=host)
    assert [row["id"] for row in by_digits.json()] == [chain.customers[3]]
    by_name = await client.get("/api/customers?q=林1", headers=host)
    assert [row["id"] for row in by_name.json()] == [chain.customers[1]]
    other = await client.get(f"/api/customers?store_id={chain.store_b}", headers=host)
    assert other.status_code == 403

    hq = bearer(token_for(Role.HQ, chain.hq_staff))
    every = (await client.get("/api/customers", headers=hq)).json()
    assert {row["id"] for row in every} == set(chain.customers)
    guide = bearer(token_for(Role.GUIDE, chain.wang, chain.store_a))
    assert (await client.get("/api/customers", headers=guide)).status_code == 403


async def test_a_host_reads_one_of_their_guides_sales_with_reasons(
    services: Services, client: Client, chain: Chain, token_for: Callable[..., str]
) -> None:
    deal = await open_deal(services, chain)
    await buy(services, chain.customers[0], deal, room_store_id=chain.store_b)
    host = bearer(token_for(Role.HOST, chain.host_a, chain.store_a))

    guides = (await client.get("/api/guides", headers=host)).json()
    assert {g["name"] for g in guides} == {"王芳", "李娜", "赵离"}
    assert {g["store_id"] for g in guides} == {chain.store_a}
    assert all(g["store_name"] for g in guides)
    sales = (await client.get(f"/api/guides/{chain.wang}/sales", headers=host)).json()
    assert len(sales["credits"]) == 1
    assert sales["total_fen"] == sales["credits"][0]["amount_fen"] > 0
    assert sales["credits"][0]["reason_zh"].startswith("绑定导购 王芳")

    other_host = bearer(token_for(Role.HOST, 999, chain.store_b))
    refused = await client.get(f"/api/guides/{chain.wang}/sales", headers=other_host)
    assert refused.status_code == 404
    hq = bearer(token_for(Role.HQ, chain.hq_staff))
    assert (await client.get(f"/api/guides/{chain.wang}/sales", headers=hq)).status_code == 200
    assert len((await client.get("/api/guides", headers=hq)).json()) == 4
