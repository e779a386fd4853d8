"""Who reads what: the customer card (HQ all; a host their store's; a guide their own and the
store's pool), a guide's own sales with their reasons, and the one audited way HQ sees a full
phone number. Refusals are 403 by role and 404 for a customer the caller may not know; no
refusal carries data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.models import CustomerSegment, PhoneUnmask
from attribution.segments import refresh_segments
from server.auth import Role
from server.services import Services
from tests.attribution.chain import Chain, build_chain, buy, open_deal, share

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def chain(services: Services) -> Chain:
    chain = await build_chain(services)
    await share(services, chain.customers[0], "g-wang")  # 王芳's customer
    await share(services, chain.customers[2], "g-zhang")  # store B's
    return chain  # customers[1]: unbound, in store A's pool


@pytest.fixture
def callers(chain: Chain, token_for: Callable[..., str]) -> dict[str, dict[str, str]]:
    tokens = {
        "hq": token_for(Role.HQ, chain.hq_staff),
        "host_a": token_for(Role.HOST, chain.host_a, chain.store_a),
        "host_b": token_for(Role.HOST, 999, chain.store_b),
        "wang": token_for(Role.GUIDE, chain.wang, chain.store_a),
        "li": token_for(Role.GUIDE, chain.li, chain.store_a),
        "zhang": token_for(Role.GUIDE, chain.zhang, chain.store_b),
        "viewer": token_for(Role.VIEWER, chain.customers[0]),
    }
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


# Per caller: the status of the cards of (王芳's customer, store A's pool, store B's customer).
CARD_MATRIX = {
    "hq": (200, 200, 200),
    "host_a": (200, 200, 404),
    "host_b": (404, 404, 200),
    "wang": (200, 200, 404),
    "li": (404, 200, 404),
    "zhang": (404, 404, 200),
    "viewer": (403, 403, 403),
}


@pytest.mark.parametrize("caller", sorted(CARD_MATRIX))
async def test_the_card_access_matrix(
    client: Client, chain: Chain, callers: dict[str, dict[str, str]], caller: str
) -> None:
    for customer, expected in zip(chain.customers[:3], CARD_MATRIX[caller], strict=True):
        response = await client.get(f"/api/customers/{customer}/card", headers=callers[caller])
        assert response.status_code == expected, (caller, customer, response.text)
        body = response.json()
        if expected == 200:
            assert body["id"] == customer
        else:
            assert set(body) == {"status_code", "detail"}


async def test_the_card_shows_the_masked_phone_the_binding_its_history_and_credited_buys(
    services: Services, client: Client, chain: Chain, callers: dict[str, dict[str, str]]
) -> None:
    customer = chain.customers[0]
    deal = await open_deal(services, chain)
    await buy(services, customer, deal, room_store_id=chain.store_b)
    response = await client.get(f"/api/customers/{customer}/card", headers=callers["wang"])
    card = response.json()
    assert card["phone_masked"] == "138****0000"
    assert "13812340000" not in response.text
    assert card["binding"]["guide_name"] == "王芳"
    assert [(h["to_guide_id"], h["reason"]) for h in card["history"]] == [(chain.wang, "share")]
    [purchase] = card["last_purchases"]
    assert purchase["reason_en"].startswith("bound to guide 王芳 since")
    assert card["total_credited_fen"] == 9900
    assert card["segment"] is None and card["tier"] is None  # before the first refresh

    async with services.sessionmaker() as session:
        await refresh_segments(session, today=datetime.now(UTC))
    card = (await client.get(f"/api/customers/{customer}/card", headers=callers["wang"])).json()
    async with services.sessionmaker() as session:
        computed = await session.get(CustomerSegment, customer)
    assert computed is not None
    assert (card["segment"], card["tier"]) == (computed.rfm_class, computed.tier)


async def test_a_guide_reads_her_credited_sales_each_with_its_reason(
    services: Services, client: Client, chain: Chain, callers: dict[str, dict[str, str]]
) -> None:
    deal = await open_deal(services, chain)
    await buy(services, chain.customers[0], deal, room_store_id=chain.store_a)
    await buy(services, chain.customers[1], deal, room_store_id=chain.store_a)  # the store's
    mine = (await client.get("/api/guides/me/sales", headers=callers["wang"])).json()
    assert mine["guide_id"] == chain.wang and mine["total_fen"] == 9900
    assert [c["reason_zh"][:7] for c in mine["credits"]] == ["绑定导购 王芳"]
    assert (await client.get("/api/guides/me/sales", headers=callers["li"])).json()["credits"] == []
    for caller in ("hq", "host_a", "viewer"):
        refused = await client.get("/api/guides/me/sales", headers=callers[caller])
        assert refused.status_code == 403
    backwards = await client.get(
        "/api/guides/me/sales",
        params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        headers=callers["wang"],
    )
    assert backwards.status_code == 400


async def test_only_hq_unmasks_a_phone_and_each_unmask_is_audited(
    services: Services, client: Client, chain: Chain, callers: dict[str, dict[str, str]]
) -> None:
    customer = chain.customers[1]
    url = f"/api/customers/{customer}/unmask"
    for caller in ("host_a", "wang", "viewer"):
        refused = await client.post(url, json={}, headers=callers[caller])
        assert refused.status_code == 403 and "1381234" not in refused.text
    response = await client.post(url, json={"reason": "售后回访"}, headers=callers["hq"])
    assert response.status_code == 200
    assert response.json() == {"customer_id": customer, "phone": "13812340001"}
    missing = await client.post("/api/customers/99999/unmask", json={}, headers=callers["hq"])
    assert missing.status_code == 404
    async with services.sessionmaker() as session:
        audit = (await session.scalars(select(PhoneUnmask))).all()
    assert [(a.staff_id, a.customer_id, a.reason) for a in audit] == [
        (chain.hq_staff, customer, "售后回访")
    ]


async def test_only_hq_changes_the_rule_imports_and_transfers(
    client: Client, chain: Chain, callers: dict[str, dict[str, str]]
) -> None:
    calls = [
        ("PUT", "/api/brand/binding-rule", {"mode": "protected", "protect_days": 14}),
        (
            "POST",
            "/api/bindings/import",
            [{"guide_id": chain.li, "customer_id": chain.customers[1]}],
        ),
        ("POST", f"/api/guides/{chain.wang}/transfer", {"to_guide_id": chain.li}),
    ]
    for method, url, body in calls:
        for caller in ("host_a", "wang", "viewer"):
            refused = await client.request(method, url, json=body, headers=callers[caller])
            assert refused.status_code == 403, (caller, url)
        done = await client.request(method, url, json=body, headers=callers["hq"])
        assert done.status_code == 200, (url, done.text)
    rule = await client.get("/api/brand/binding-rule", headers=callers["hq"])
    assert rule.json() == {"mode": "protected", "protect_days": 14}
    bad = await client.put(
        "/api/brand/binding-rule", json={"mode": "sometimes"}, headers=callers["hq"]
    )
    assert bad.status_code == 400
    elsewhere = await client.post(
        f"/api/guides/{chain.li}/transfer", json={"to_guide_id": chain.zhang}, headers=callers["hq"]
    )
    assert elsewhere.status_code == 400
