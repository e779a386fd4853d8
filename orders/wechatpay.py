"""WeChat Pay API v3 (JSAPI, the mini-program's way to pay) as a `PaymentProvider`.

What WeChat Pay documents, and what this client does with it:
- every request is signed with the merchant's API private key: RSA-SHA256 over
  "METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n", sent as
  `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=...,nonce_str=...,signature=...,
  timestamp=...,serial_no=...`;
- every answer and every notice is signed by WeChat Pay's platform key over
  "timestamp\\nnonce\\nbody\\n" (headers Wechatpay-Timestamp/-Nonce/-Signature/-Serial);
  we check the serial, the age and the signature before reading a byte of the body;
- a notice's resource is encrypted with AEAD_AES_256_GCM under the APIv3 key;
- calls: create the JSAPI prepay order, query it by our order id, refund it with our
  refund id as `out_refund_no` (so a refund asked twice is made once).

The base URL is a setting, so tests run this client against a local server speaking the
same JSON and signatures.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
import msgspec
import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orders.payments import (
    MAX_CLOCK_SKEW_S,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Notification,
    SignatureError,
)
from server.settings import Settings

log = structlog.get_logger()

SERIAL_HEADER = "Wechatpay-Serial"
AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
TIMEOUT_S = 10.0
"""WeChat Pay answers in well under a second; a refund job that waits longer retries."""

_Reply = TypeVar("_Reply", bound=msgspec.Struct)


class WechatPayError(Exception):
    """WeChat Pay refused a call (its `code` and `message`), or could not be reached."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"wechatpay {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Amount(msgspec.Struct):
    total: int
    currency: str = "CNY"
    payer_total: int | None = None


class Transaction(msgspec.Struct):
    """A payment as WeChat Pay reports it (query answer, decrypted notice resource)."""

    out_trade_no: str
    mchid: str = ""
    appid: str = ""
    transaction_id: str = ""
    trade_state: str = ""
    """SUCCESS | REFUND | NOTPAY | CLOSED | REVOKED | USERPAYING | PAYERROR"""
    amount: Amount | None = None


class EncryptedResource(msgspec.Struct):
    algorithm: str
    ciphertext: str
    nonce: str
    associated_data: str = ""
    original_type: str = ""


class NoticeEnvelope(msgspec.Struct):
    id: str
    event_type: str
    resource: EncryptedResource
    resource_type: str = "encrypt-resource"
    create_time: str = ""
    summary: str = ""


class PrepayReply(msgspec.Struct):
    prepay_id: str


class RefundAmount(msgspec.Struct):
    refund: int
    total: int
    currency: str = "CNY"


class RefundReceipt(msgspec.Struct):
    """WeChat Pay's answer to a refund: its own id, ours echoed, and where it stands."""

    refund_id: str
    out_refund_no: str
    status: str = ""
    """SUCCESS | PROCESSING | CLOSED | ABNORMAL"""


class ErrorReply(msgspec.Struct):
    code: str = ""
    message: str = ""


class JsapiPayParams(msgspec.Struct, rename="camel"):
    """What the mini-program hands `wx.requestPayment`, signed with the merchant key."""

    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str


def load_private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def load_public_key(path: str) -> rsa.RSAPublicKey:
    """The platform public key file, or the platform certificate it comes in."""
    data = Path(path).read_bytes()
    key: object = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"CERTIFICATE" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


class WechatPayProvider:
    """The merchant's side of WeChat Pay v3, JSAPI."""

    name = "wechatpay"

    def __init__(
        self,
        *,
        base_url: str,
        mch_id: str,
        app_id: str,
        merchant_key: rsa.RSAPrivateKey,
        merchant_serial: str,
        platform_key: rsa.RSAPublicKey,
        platform_serial: str,
        api_v3_key: bytes,
        notify_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._mch_id = mch_id
        self._app_id = app_id
        self._merchant_key = merchant_key
        self._merchant_serial = merchant_serial
        self._platform_key = platform_key
        self._platform_serial = platform_serial
        self._aead = AESGCM(api_v3_key)
        self._notify_url = notify_url
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> WechatPayProvider:
        orders = settings.orders
        return cls(
            base_url=orders.wechatpay_base_url,
            mch_id=orders.wechatpay_mch_id,
            app_id=orders.wechatpay_app_id,
            merchant_key=load_private_key(orders.wechatpay_merchant_key_path),
            merchant_serial=orders.wechatpay_merchant_serial,
            platform_key=load_public_key(orders.wechatpay_platform_key_path),
            platform_serial=orders.wechatpay_platform_serial,
            api_v3_key=orders.wechatpay_api_v3_key.encode(),
            notify_url=orders.wechatpay_notify_url
            or f"{settings.public_url.rstrip('/')}/api/payments/notify",
        )

    def pay_url(self, order_id: str) -> str:
        """JSAPI has no pay page: the mini-program pays with `prepay`'s parameters."""
        return ""

    async def prepay(
        self, order_id: str, amount_fen: int, payer_openid: str, description: str
    ) -> JsapiPayParams:
        """Create the JSAPI prepay order; returns what `wx.requestPayment` needs."""
        body = {
            "appid": self._app_id,
            "mchid": self._mch_id,
            "description": description[:127],
            "out_trade_no": order_id,
            "notify_url": self._notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
            "payer": {"openid": payer_openid},
        }
        reply = await self._call("POST", "/v3/pay/transactions/jsapi", PrepayReply, body)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={reply.prepay_id}"
        message = f"{self._app_id}\n{timestamp}\n{nonce}\n{package}\n".encode()
        return JsapiPayParams(
            self._app_id, timestamp, nonce, package, "RSA", rsa_sign(self._merchant_key, message)
        )

    async def query(self, order_id: str) -> Transaction:
        """The payment of one of our orders as WeChat Pay knows it."""
        path = f"/v3/pay/transactions/out-trade-no/{quote(order_id, safe='')}"
        return await self._call("GET", f"{path}?{urlencode({'mchid': self._mch_id})}", Transaction)

    async def refund(self, order_id: str, refund_id: str, amount_fen: int) -> None:
        await self.request_refund(order_id, refund_id, amount_fen)

    async def request_refund(
        self, order_id: str, refund_id: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundReceipt:
        """Send `amount_fen` back. WeChat Pay needs the order's total too; without it, it is
        asked first. `refund_id` goes as `out_refund_no`: the same id twice refunds once."""
        if total_fen is None:
            paid = await self.query(order_id)
            if paid.amount is None:
                raise WechatPayError(0, "NO_AMOUNT", f"order {order_id} has no paid amount")
            total_fen = paid.amount.total
        body = {
            "out_trade_no": order_id,
            "out_refund_no": refund_id,
            "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"},
        }
        receipt = await self._call("POST", "/v3/refund/domestic/refunds", RefundReceipt, body)
        log.info(
            "orders.wechatpay_refund",
            order_id=order_id,
            refund_id=refund_id,
            wechat_refund_id=receipt.refund_id,
            status=receipt.status,
        )
        return receipt

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Check a notice's signature, decrypt its resource, and read the payment in it."""
        self._check_signed(headers, body)
        try:
            envelope = msgspec.json.decode(body, type=NoticeEnvelope)
        except msgspec.DecodeError as exc:
            raise SignatureError(f"malformed notice: {exc}") from exc
        paid = self._decrypt(envelope.resource)
        if paid.mchid and paid.mchid != self._mch_id:
            raise SignatureError("the notice is for another merchant")
        return Notification(
            transaction_id=paid.transaction_id,
            order_id=paid.out_trade_no,
            amount_fen=paid.amount.total if paid.amount else 0,
            trade_state=paid.trade_state,
        )

    def _decrypt(self, resource: EncryptedResource) -> Transaction:
        if resource.algorithm != "AEAD_AES_256_GCM":
            raise SignatureError(f"unknown notice algorithm {resource.algorithm!r}")
        try:
            plain = self._aead.decrypt(
                resource.nonce.encode(),
                base64.b64decode(resource.ciphertext),
                resource.associated_data.encode(),
            )
            return msgspec.json.decode(plain, type=Transaction)
        except (InvalidTag, ValueError) as exc:
            raise SignatureError("the notice resource does not decrypt under our key") from exc

    def _check_signed(self, headers: Mapping[str, str], body: bytes) -> None:
        """WeChat Pay's signature over an answer or a notice, made with the platform key."""
        serial = headers.get(SERIAL_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if serial != self._platform_serial:
            raise SignatureError(f"signed with an unknown platform key {serial!r}")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise SignatureError("stale timestamp")
        message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        try:
            self._platform_key.verify(
                base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError) as exc:
            raise SignatureError("bad signature") from exc

    def authorization(self, method: str, path_and_query: str, body: bytes) -> str:
        """The Authorization header of one request, signed with the merchant key."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = f"{method}\n{path_and_query}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
        signature = rsa_sign(self._merchant_key, message)
        return (
            f'{AUTH_SCHEME} mchid="{self._mch_id}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",serial_no="{self._merchant_serial}"'
        )

    async def _call(
        self, method: str, path_and_query: str, into: type[_Reply], payload: Any = None
    ) -> _Reply:
        body = b"" if payload is None else msgspec.json.encode(payload)
        headers = {
            "Authorization": self.authorization(method, path_and_query, body),
            "Accept": "application/json",
            "User-Agent": "storecast",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url, timeout=TIMEOUT_S, transport=self._transport
            ) as http:
                response = await http.request(
                    method, path_and_query, content=body or None, headers=headers
                )
        except httpx.HTTPError as exc:
            raise WechatPayError(0, "UNREACHABLE", type(exc).__name__) from exc
        if response.status_code >= 300:
            error = _error_of(response.content)
            raise WechatPayError(response.status_code, error.code, error.message)
        try:
            self._check_signed(response.headers, response.content)
        except SignatureError as exc:
            raise WechatPayError(response.status_code, "UNSIGNED_ANSWER", str(exc)) from exc
        try:
            return msgspec.json.decode(response.content, type=into)
        except msgspec.DecodeError as exc:
            raise WechatPayError(response.status_code, "MALFORMED_ANSWER", str(exc)) from exc


def _error_of(content: bytes) -> ErrorReply:
    try:
        return msgspec.json.decode(content, type=ErrorReply)
    except msgspec.DecodeError:
        return ErrorReply("HTTP_ERROR", content[:200].decode(errors="replace"))
