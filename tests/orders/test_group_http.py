"""Group-buys over HTTP: open from a deal, share, join through the link alone, read progress
without a login, my groups; refusals are the one error body naming the reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from orders.persister import OrderPersister
from server.auth import Role
from server.services import Services
from tests.orders.conftest import World
from tests.orders.group_world import group_deal
from tests.orders.test_payments import pay
from tests.support.http import bearer

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


async def test_a_viewer_opens_a_group_and_another_joins_through_its_link(
    client: Client,
    services: Services,
    world: World,
    persister: OrderPersister,
    token_for: Callable[..., str],
) -> None:
    deal = await group_deal(services, world, size=2)
    leader = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    friend = bearer(token_for(Role.VIEWER, world.customer_ids[1], world.store_id))
    opened = await client.post(
        f"/api/group-buys/deals/{deal}/open",
        json={"idempotency_key": "o1", "share_code": "G001"},
        headers=leader,
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    group_id = body["group_id"]
    assert body["amount_due_fen"] == 1990
    assert body["share_path"] == f"/static/group.html?g={group_id}&share=G001"
    # The share page reads the group without a login: one member, masked.
    page = (await client.get(f"/api/group-buys/groups/{group_id}")).json()
    assert (page["members"], page["size"], page["status"]) == (1, 2, "open")
    assert page["member_names"][0].endswith("*")
    listing = (await client.get(f"/api/group-buys/deals/{deal}")).json()
    assert [g["group_id"] for g in listing["groups"]] == [group_id]
    assert (listing["group_size"], listing["group_price_fen"]) == (2, 1990)
    joined = await client.post(
        f"/api/group-buys/groups/{group_id}/join", json={"idempotency_key": "j1"}, headers=friend
    )
    assert joined.status_code == 201, joined.text
    await persister.drain()
    await pay(services, body["order_id"], 1990)
    await pay(services, joined.json()["order_id"], 1990)
    page = (await client.get(f"/api/group-buys/groups/{group_id}")).json()
    assert (page["members"], page["paid"], page["status"]) == (2, 2, "formed")
    mine = (await client.get("/api/group-buys/mine", headers=friend)).json()
    assert [g["group_id"] for g in mine] == [group_id]


async def test_refused_joins_answer_with_their_reason_and_status(
    client: Client, services: Services, world: World, token_for: Callable[..., str]
) -> None:
    deal = await group_deal(services, world, size=2)
    other = await group_deal(services, world, size=2)
    people = [
        bearer(token_for(Role.VIEWER, world.customer_ids[i], world.store_id)) for i in range(4)
    ]
    group_id = (
        await client.post(
            f"/api/group-buys/deals/{deal}/open", json={"idempotency_key": "a"}, headers=people[0]
        )
    ).json()["group_id"]
    second = await client.post(
        f"/api/group-buys/deals/{deal}/open", json={"idempotency_key": "b"}, headers=people[0]
    )
    assert second.status_code == 409
    assert second.json()["detail"].startswith("already_in_group")
    await client.post(
        f"/api/group-buys/groups/{group_id}/join", json={"idempotency_key": "c"}, headers=people[1]
    )
    full = await client.post(
        f"/api/group-buys/groups/{group_id}/join", json={"idempotency_key": "d"}, headers=people[2]
    )
    assert full.status_code == 409 and full.json()["detail"].startswith("group_full")
    unknown = await client.post(
        f"/api/group-buys/groups/{other}-0123456789ab/join",
        json={"idempotency_key": "e"},
        headers=people[3],
    )
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("unknown_group")
    no_such_deal = await client.post(  # past any deal id the database can hold
        "/api/group-buys/groups/7104849121-d8c977b6ab5d/join",
        json={"idempotency_key": "f"},
        headers=people[3],
    )
    assert no_such_deal.status_code == 404, no_such_deal.text
    assert no_such_deal.json()["detail"].startswith("unknown_group")
    malformed = await client.get("/api/group-buys/groups/not-a-group")
    assert malformed.status_code == 400
    anonymous = await client.post(
        f"/api/group-buys/groups/{group_id}/join", json={"idempotency_key": "f"}
    )
    assert anonymous.status_code == 401
