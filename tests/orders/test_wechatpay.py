"""WeChat Pay v3 against a local server speaking its JSON and signatures: prepay, signed and
encrypted notices, refunds by our refund id, queries, and WeChat Pay's error codes."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from orders.payments import Notification, SignatureError
from orders.wechatpay import WechatPayError, WechatPayProvider
from tests.support.local_server import serving
from tests.support.wechatpay_api import (
    API_V3_KEY,
    APP_ID,
    MCH_ID,
    MERCHANT_SERIAL,
    PLATFORM_SERIAL,
    FakeWechatPay,
    new_key,
    signed_headers,
)


@pytest.fixture(scope="module")
def merchant_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def wechatpay(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> Iterator[tuple[FakeWechatPay, str]]:
    fake = FakeWechatPay(merchant_key, platform_key)
    with serving(fake.app()) as url:
        yield fake, url


def provider(
    url: str,
    merchant_key: rsa.RSAPrivateKey,
    platform_key: rsa.RSAPrivateKey,
    api_v3_key: bytes = API_V3_KEY,
) -> WechatPayProvider:
    return WechatPayProvider(
        base_url=url,
        mch_id=MCH_ID,
        app_id=APP_ID,
        merchant_key=merchant_key,
        merchant_serial=MERCHANT_SERIAL,
        platform_key=platform_key.public_key(),
        platform_serial=PLATFORM_SERIAL,
        api_v3_key=api_v3_key,
        notify_url="https://shop.example.com/api/payments/notify",
    )


@pytest.fixture
def pay(
    wechatpay: tuple[FakeWechatPay, str],
    merchant_key: rsa.RSAPrivateKey,
    platform_key: rsa.RSAPrivateKey,
) -> WechatPayProvider:
    return provider(wechatpay[1], merchant_key, platform_key)


async def test_prepay_creates_the_jsapi_order_wechat_accepts_as_signed_by_the_merchant(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str], merchant_key: rsa.RSAPrivateKey
) -> None:
    params = await pay.prepay("O1", 9900, "oPayer", "双面羊绒大衣")
    made = wechatpay[0].orders["O1"]
    assert (made["total"], made["openid"]) == (9900, "oPayer")
    assert params.package.startswith("prepay_id=wx") and params.sign_type == "RSA"
    message = f"{APP_ID}\n{params.time_stamp}\n{params.nonce_str}\n{params.package}\n".encode()
    merchant_key.public_key().verify(
        base64.b64decode(params.pay_sign),
        message,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


async def test_a_request_signed_with_another_merchant_key_is_refused_with_wechats_code(
    wechatpay: tuple[FakeWechatPay, str], platform_key: rsa.RSAPrivateKey
) -> None:
    impostor = provider(wechatpay[1], new_key(), platform_key)
    with pytest.raises(WechatPayError) as refused:
        await impostor.prepay("O1", 9900, "oPayer", "大衣")
    assert (refused.value.status, refused.value.code) == (401, "SIGN_ERROR")
    assert wechatpay[0].orders == {}


async def test_a_genuine_notice_is_verified_and_its_payment_decrypted(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    headers, body = wechatpay[0].notice("O1", 9900, transaction_id="4200000001")
    assert pay.verify(headers, body) == Notification("4200000001", "O1", 9900, "SUCCESS")


async def test_a_notice_whose_body_was_changed_after_signing_is_refused(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    headers, body = wechatpay[0].notice("O1", 9900)
    with pytest.raises(SignatureError, match="bad signature"):
        pay.verify(headers, body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESS "))


async def test_a_notice_signed_by_another_key_under_our_platform_serial_is_refused(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    _, body = wechatpay[0].notice("O1", 9900)
    with pytest.raises(SignatureError, match="bad signature"):
        pay.verify(signed_headers(new_key(), body), body)


async def test_a_notice_naming_an_unknown_platform_serial_is_refused(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str], platform_key: rsa.RSAPrivateKey
) -> None:
    _, body = wechatpay[0].notice("O1", 9900)
    with pytest.raises(SignatureError, match="unknown platform key"):
        pay.verify(signed_headers(platform_key, body, serial="PUB_KEY_ID_OTHER"), body)


async def test_a_notice_older_than_five_minutes_is_refused(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str], platform_key: rsa.RSAPrivateKey
) -> None:
    _, body = wechatpay[0].notice("O1", 9900)
    old = signed_headers(platform_key, body, at=int(time.time()) - 3600)
    with pytest.raises(SignatureError, match="stale"):
        pay.verify(old, body)


async def test_a_notice_encrypted_under_another_api_v3_key_is_refused(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    headers, body = wechatpay[0].notice("O1", 9900, api_v3_key=b"another-key-of-32-bytes-00000000")
    with pytest.raises(SignatureError, match="decrypt"):
        pay.verify(headers, body)


async def test_a_refund_goes_with_our_refund_id_and_asked_twice_refunds_once(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    await pay.prepay("O1", 9900, "oPayer", "大衣")
    first = await pay.request_refund("O1", "O1-r1", 4950)
    again = await pay.request_refund("O1", "O1-r1", 4950)
    assert first.out_refund_no == again.out_refund_no == "O1-r1"
    assert first.refund_id == again.refund_id
    assert list(wechatpay[0].refunds) == ["O1-r1"]
    assert wechatpay[0].refunds["O1-r1"]["amount"] == 4950


async def test_a_refund_above_what_was_paid_is_refused_with_wechats_code(
    pay: WechatPayProvider,
) -> None:
    await pay.prepay("O1", 9900, "oPayer", "大衣")
    with pytest.raises(WechatPayError) as refused:
        await pay.request_refund("O1", "O1-r1", 10000)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_REQUEST")


async def test_query_reports_the_trade_state_and_an_unknown_order_is_wechats_404(
    pay: WechatPayProvider,
) -> None:
    await pay.prepay("O1", 9900, "oPayer", "大衣")
    known = await pay.query("O1")
    assert (known.out_trade_no, known.trade_state) == ("O1", "NOTPAY")
    assert known.amount is not None and known.amount.total == 9900
    with pytest.raises(WechatPayError) as unknown:
        await pay.query("O404")
    assert (unknown.value.status, unknown.value.code) == (404, "ORDER_NOT_EXIST")


async def test_an_answer_wechat_pay_did_not_sign_is_not_believed(
    pay: WechatPayProvider, wechatpay: tuple[FakeWechatPay, str]
) -> None:
    await pay.prepay("O1", 9900, "oPayer", "大衣")
    wechatpay[0].answers_signed = False
    with pytest.raises(WechatPayError) as refused:
        await pay.query("O1")
    assert refused.value.code == "UNSIGNED_ANSWER"
