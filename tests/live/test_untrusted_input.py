"""What an attacker sends with big numbers, long strings and unknown ids: a 4xx naming the
fault, or an error frame on a socket that stays open, never a 500 or a 1011. Each test is
one request of the security review (issue 14), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import websockets
from sqlalchemy import select
from websockets.exceptions import InvalidStatus

from orders.models import Order
from orders.payments import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from server.auth import Role
from tests.live.conftest import Chain, next_frame

pytestmark = [pytest.mark.database, pytest.mark.demo]


@pytest.mark.parametrize(
    "path",
    [
        "/api/rooms/2147483648",
        "/api/deals/3000000000",
        "/api/deals/9223372036854775808",
        "/api/rooms/99999999999999999999999/orders",
        "/api/deals/0",
    ],
)
async def test_an_id_past_the_database_integer_is_a_400_naming_the_parameter(
    chain: Chain, path: str
) -> None:
    response = await chain.http.get(path, headers=chain.hq)
    assert response.status_code == 400, response.text
    assert response.json()["extra"][0]["source"] == "path"


async def test_an_order_id_that_no_order_could_have_is_a_400(chain: Chain) -> None:
    viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 1)}"}
    response = await chain.http.get("/api/orders/" + "x" * 33, headers=viewer)
    assert response.status_code == 400


async def test_login_naming_a_store_that_does_not_exist_is_a_404(chain: Chain) -> None:
    response = await chain.http.post("/api/auth/viewer", json={"code": "x", "store_id": 999999})
    assert response.status_code == 404
    assert response.json()["detail"] == "no store 999999"


@pytest.mark.parametrize(
    "nickname", ["林" * 65, "nul\x00byte"], ids=["65 characters", "a NUL character"]
)
async def test_a_nickname_the_column_cannot_hold_is_a_400(chain: Chain, nickname: str) -> None:
    response = await chain.http.post(
        "/api/auth/viewer", json={"code": "wx-long-name", "nickname": nickname}
    )
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "nickname"


async def test_a_deal_for_a_broadcast_that_does_not_exist_is_a_400(chain: Chain) -> None:
    response = await chain.http.post(
        "/api/deals",
        json={
            "kind": "flash_sale",
            "product_id": 1,
            "price_fen": 100,
            "stock": 5,
            "broadcast_id": 999999,
        },
        headers=chain.hq,
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "no broadcast 999999"


async def test_an_unknown_deal_kind_is_refused_naming_the_kinds(chain: Chain) -> None:
    response = await chain.http.post(
        "/api/deals",
        json={"kind": "auction", "product_id": 1, "price_fen": 100, "stock": 5},
        headers=chain.hq,
    )
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["detail"]
    assert "coupon_pack" in response.json()["detail"]


async def test_a_group_buy_without_its_group_terms_is_refused_saying_which(chain: Chain) -> None:
    response = await chain.http.post(
        "/api/deals",
        json={"kind": "group_buy", "product_id": 1, "price_fen": 100, "stock": 5},
        headers=chain.hq,
    )
    assert response.status_code == 400
    assert "params.group_size" in response.json()["detail"]


async def test_a_signed_notice_with_an_amount_of_2_to_the_70_is_a_400(chain: Chain) -> None:
    async with chain.services.sessionmaker() as session:
        order_id = await session.scalar(select(Order.id).limit(1))
    assert order_id is not None
    body = json.dumps(
        {"transaction_id": "t-huge", "order_id": order_id, "amount_fen": 2**70}
    ).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    headers = {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(chain.settings.orders.payment_secret, timestamp, nonce, body),
    }
    response = await chain.http.post("/api/payments/notify", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "FAIL"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "order.place", "idempotency_key": "k1", "deal_id": 2**64 - 1, "quantity": 1},
        {"type": "resume", "streams": {"b1": ["e", -1]}},
        {"type": "chat.send", "text": "nul\x00byte"},
    ],
    ids=["order with deal_id 2^64-1", "resume from a negative offset", "chat with a NUL"],
)
async def test_a_frame_out_of_bounds_gets_an_error_frame_and_the_socket_stays_open(
    chain: Chain, frame: dict[str, object]
) -> None:
    async with chain.viewer(chain.store_room(0)) as socket:
        await next_frame(socket, "snapshot")
        await socket.send(json.dumps(frame))
        error = await next_frame(socket, "error")
        assert error["code"] == "bad_frame"
        await socket.send(json.dumps({"type": "ping"}))
        assert (await next_frame(socket, "pong"))["server_time_ms"] > 0


async def test_a_socket_for_a_room_id_past_any_integer_is_refused_with_404(chain: Chain) -> None:
    token = chain.token_for(Role.VIEWER, 1)
    url = f"ws://127.0.0.1:{chain.settings.http.ws_port}/ws/rooms/99999999999999999999999"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{url}?token={token}"):
            pass
    assert refused.value.response.status_code == 404


async def test_a_deal_planned_without_a_broadcast_and_shown_in_a_window_announces_its_state(
    chain: Chain,
) -> None:
    hub_id = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    item = await chain.http.post(
        f"/api/broadcasts/{hub_id}/window",
        json={"product_id": 12, "price_fen": 99900},
        headers=chain.hq,
    )
    planned = await chain.http.post(
        "/api/deals",
        json={"kind": "flash_sale", "product_id": 12, "price_fen": 49900, "stock": 10},
        headers=chain.hq,
    )
    assert planned.json()["broadcast_id"] is None
    deal_id = planned.json()["id"]
    async with chain.viewer(chain.store_room(0)) as socket:
        await next_frame(socket, "snapshot")
        linked = await chain.http.patch(
            f"/api/broadcasts/{hub_id}/window/{item.json()['item_id']}",
            json={"deal_id": deal_id},
            headers=chain.hq,
        )
        assert linked.status_code == 200, linked.text
        shown = await next_frame(socket, "deal")
        assert (shown["deal"]["deal_id"], shown["deal"]["status"]) == (deal_id, "draft")
        await chain.http.post(f"/api/deals/{deal_id}/launch", headers=chain.hq)
        launched = await next_frame(socket, "deal")
        assert (launched["deal"]["status"], launched["deal"]["stock_left"]) == ("live", 10)
        await chain.http.post(f"/api/deals/{deal_id}/stock", json={"units": 5}, headers=chain.hq)
        restocked = await next_frame(socket, "deal")
        assert restocked["deal"]["stock_left"] == 15


@pytest.mark.parametrize(
    "params",
    [{"note": "nul\x00byte"}, {"nested": {"deep": [1, 2, 3]}}, {"size": 2**70}],
    ids=["a NUL", "nesting", "2^70"],
)
async def test_deal_params_outside_flat_bounded_values_are_a_400(
    chain: Chain, params: dict[str, object]
) -> None:
    response = await chain.http.post(
        "/api/deals",
        json={
            "kind": "flash_sale",
            "product_id": 1,
            "price_fen": 100,
            "stock": 5,
            "params": params,
        },
        headers=chain.hq,
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("ends_at_ms", "status"), [(253_402_300_799_999, 201), (253_402_300_800_000, 400)]
)
async def test_a_deal_may_end_no_later_than_the_year_9999(
    chain: Chain, ends_at_ms: int, status: int
) -> None:
    response = await chain.http.post(
        "/api/deals",
        json={
            "kind": "flash_sale",
            "product_id": 1,
            "price_fen": 100,
            "stock": 5,
            "ends_at_ms": ends_at_ms,
        },
        headers=chain.hq,
    )
    assert response.status_code == status
