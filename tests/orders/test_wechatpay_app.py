"""The service configured for WeChat Pay: a notice at the notify URL pays the order, a refund
reaches WeChat Pay under the service's refund id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from bench.processes import free_port, service_env
from orders.models import Order, Payment
from orders.refund_sender import send_due_refunds
from orders.wechatpay import WechatPayProvider
from server.app import create_app
from server.auth import Principal, Role
from server.services import Services, open_services
from server.settings import Settings, load_settings
from tests.orders.conftest import World, make_deal, runtime_of, seed_world, written_order
from tests.support.local_server import serving
from tests.support.wechatpay_api import (
    API_V3_KEY,
    APP_ID,
    MCH_ID,
    MERCHANT_SERIAL,
    PLATFORM_SERIAL,
    FakeWechatPay,
    new_key,
    private_pem,
    public_pem,
)

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return new_key(), new_key()


@pytest.fixture
def wechatpay(
    keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> Iterator[tuple[FakeWechatPay, str]]:
    fake = FakeWechatPay(*keys)
    with serving(fake.app()) as url:
        yield fake, url


@pytest.fixture
def paying_settings(
    database_url: str,
    redis_url: str,
    tmp_path: Path,
    keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    wechatpay: tuple[FakeWechatPay, str],
) -> Settings:
    merchant, platform = keys
    (tmp_path / "apiclient_key.pem").write_bytes(private_pem(merchant))
    (tmp_path / "pub_key.pem").write_bytes(public_pem(platform))
    env = service_env(
        database_url,
        redis_url,
        tmp_path / "var",
        STORECAST_HTTP_WS_PORT=str(free_port()),
        STORECAST_ORDERS_PAYMENT_PROVIDER="wechatpay",
        STORECAST_ORDERS_WECHATPAY_BASE_URL=wechatpay[1],
        STORECAST_ORDERS_WECHATPAY_MCH_ID=MCH_ID,
        STORECAST_ORDERS_WECHATPAY_APP_ID=APP_ID,
        STORECAST_ORDERS_WECHATPAY_MERCHANT_KEY_PATH=str(tmp_path / "apiclient_key.pem"),
        STORECAST_ORDERS_WECHATPAY_MERCHANT_SERIAL=MERCHANT_SERIAL,
        STORECAST_ORDERS_WECHATPAY_PLATFORM_KEY_PATH=str(tmp_path / "pub_key.pem"),
        STORECAST_ORDERS_WECHATPAY_PLATFORM_SERIAL=PLATFORM_SERIAL,
        STORECAST_ORDERS_WECHATPAY_API_V3_KEY=API_V3_KEY.decode(),
    )
    return load_settings(env)


@pytest.fixture
async def paying(paying_settings: Settings) -> AsyncIterator[Services]:
    services = await open_services(paying_settings)
    yield services
    await services.close()


@pytest.fixture
async def client(paying_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(paying_settings)) as client:
        yield client


async def prepaid_order(services: Services, world: World) -> str:
    """An order accepted, written, and created at WeChat Pay as the mini-program would."""
    placed = await written_order(services, world, await make_deal(services, world))
    provider = runtime_of(services).payments
    assert isinstance(provider, WechatPayProvider)
    await provider.prepay(placed.order_id, placed.amount_fen, "oPayer", "大衣")
    return placed.order_id


async def test_a_wechat_pay_notice_at_the_notify_url_pays_the_order_once(
    client: AsyncTestClient[Litestar],
    paying: Services,
    wechatpay: tuple[FakeWechatPay, str],
) -> None:
    world = await seed_world(paying, customers=2)
    order_id = await prepaid_order(paying, world)
    headers, body = wechatpay[0].notice(order_id, 9900, transaction_id="4200000042")
    first = await client.post("/api/payments/notify", content=body, headers=headers)
    again = await client.post("/api/payments/notify", content=body, headers=headers)
    assert first.json() == {"code": "SUCCESS", "message": "applied"}
    assert again.json() == {"code": "SUCCESS", "message": "duplicate"}
    async with paying.sessionmaker() as session:
        assert await session.scalar(select(Order.status).where(Order.id == order_id)) == "paid"
        assert await session.scalar(select(Payment.provider)) == "wechatpay"


async def test_a_forged_notice_at_the_notify_url_pays_nothing(
    client: AsyncTestClient[Litestar],
    paying: Services,
    wechatpay: tuple[FakeWechatPay, str],
) -> None:
    world = await seed_world(paying, customers=2)
    order_id = await prepaid_order(paying, world)
    headers, body = wechatpay[0].notice(order_id, 9900)
    forged = body.replace(b'"id": "', b'"id": "x')
    response = await client.post("/api/payments/notify", content=forged, headers=headers)
    assert response.status_code == 401
    async with paying.sessionmaker() as session:
        status = await session.scalar(select(Order.status).where(Order.id == order_id))
    assert status == "pending_payment"


async def test_a_customers_refund_reaches_wechat_pay_under_the_services_refund_id(
    client: AsyncTestClient[Litestar],
    paying: Services,
    wechatpay: tuple[FakeWechatPay, str],
) -> None:
    world = await seed_world(paying, customers=2)
    order_id = await prepaid_order(paying, world)
    headers, body = wechatpay[0].notice(order_id, 9900)
    await client.post("/api/payments/notify", content=body, headers=headers)
    token = paying.signer.issue(Principal(Role.VIEWER, world.customer_ids[0], world.store_id))
    refund = await client.post(
        f"/api/orders/{order_id}/refund", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refund.status_code == 200, refund.text
    refund_id = refund.json()["refund_id"]
    assert (
        await send_due_refunds(paying, runtime_of(paying).payments) == 1
    )  # the worker's outbox cron, run here
    assert wechatpay[0].refunds[refund_id]["amount"] == 9900
    assert wechatpay[0].refunds[refund_id]["out_trade_no"] == order_id


async def test_the_mini_program_gets_signed_pay_parameters_for_its_own_order_only(
    client: AsyncTestClient[Litestar],
    paying: Services,
    wechatpay: tuple[FakeWechatPay, str],
) -> None:
    world = await seed_world(paying, customers=2)
    placed = await written_order(paying, world, await make_deal(paying, world))

    def bearer(index: int) -> dict[str, str]:
        principal = Principal(Role.VIEWER, world.customer_ids[index], world.store_id)
        return {"Authorization": f"Bearer {paying.signer.issue(principal)}"}

    url = f"/api/orders/{placed.order_id}/prepay"
    first = await client.post(url, headers=bearer(0))
    again = await client.post(url, headers=bearer(0))
    assert first.status_code == again.status_code == 200
    assert first.json()["package"] == again.json()["package"]
    assert first.json()["package"].startswith("prepay_id=wx")
    made = wechatpay[0].orders[placed.order_id]
    assert (made["total"], made["openid"]) == (9900, "openid-0")
    assert (await client.post(url, headers=bearer(1))).status_code == 404
