"""A local stand-in for WeChat Pay API v3: it checks the merchant's request signatures,
signs its answers and notices with a platform key, and encrypts notice resources with the
APIv3 key, as WeChat Pay documents. The keys are made for the test session."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Litestar, Request, route
from litestar.response import Response

MCH_ID = "1900000109"
APP_ID = "wx0123456789abcdef"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A72"
PLATFORM_SERIAL = "PUB_KEY_ID_0000000000000024101100397200000006"
API_V3_KEY = b"0123456789abcdef0123456789abcdef"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(
    key: rsa.RSAPrivateKey, body: bytes, serial: str = PLATFORM_SERIAL, at: int | None = None
) -> dict[str, str]:
    """WeChat Pay's headers over an answer or a notice."""
    timestamp, nonce = str(at if at is not None else int(time.time())), secrets.token_hex(16)
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(key, message),
        "Wechatpay-Serial": serial,
    }


_AUTH = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class FakeWechatPay:
    merchant_key: rsa.RSAPrivateKey
    """The merchant's key: the fake holds only its public half to check requests."""
    platform_key: rsa.RSAPrivateKey
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    """out_trade_no -> {total, trade_state, transaction_id, openid}"""
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    """out_refund_no -> the refund as made"""
    answers_signed: bool = True

    def notice(
        self,
        order_id: str,
        amount_fen: int,
        *,
        trade_state: str = "SUCCESS",
        transaction_id: str | None = None,
        api_v3_key: bytes = API_V3_KEY,
    ) -> tuple[dict[str, str], bytes]:
        """A payment notice as WeChat Pay POSTs it: encrypted resource, signed envelope."""
        paid = {
            "mchid": MCH_ID,
            "appid": APP_ID,
            "out_trade_no": order_id,
            "transaction_id": transaction_id or f"4200{secrets.randbelow(10**24):024d}",
            "trade_type": "JSAPI",
            "trade_state": trade_state,
            "trade_state_desc": "支付成功",
            "success_time": "2026-11-30T10:00:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY"},
        }
        nonce = secrets.token_hex(6)
        associated = "transaction"
        ciphertext = AESGCM(api_v3_key).encrypt(
            nonce.encode(), json.dumps(paid).encode(), associated.encode()
        )
        envelope = {
            "id": secrets.token_hex(16),
            "create_time": "2026-11-30T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated,
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope).encode()
        return signed_headers(self.platform_key, body), body

    def _signed_by_merchant(self, request: Request[Any, Any, Any], body: bytes) -> bool:
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        fields = dict(_AUTH.findall(params))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != MCH_ID:
            return False
        if fields.get("serial_no") != MERCHANT_SERIAL:
            return False
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        message = (
            (
                f"{request.method}\n{target}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n"
            ).encode()
            + body
            + b"\n"
        )
        try:
            self.merchant_key.public_key().verify(
                base64.b64decode(fields.get("signature", "")),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def _answer(self, payload: dict[str, Any], status: int = 200) -> Response[bytes]:
        body = json.dumps(payload).encode()
        headers = signed_headers(self.platform_key, body) if self.answers_signed else {}
        return Response(body, status_code=status, headers=headers, media_type="application/json")

    def _error(self, status: int, code: str, message: str) -> Response[bytes]:
        return self._answer({"code": code, "message": message}, status)

    def app(self) -> Litestar:
        fake = self

        @route("/{path:path}", http_method=["GET", "POST"])
        async def v3(path: str, request: Request[Any, Any, Any]) -> Response[bytes]:
            body = await request.body()
            if not fake._signed_by_merchant(request, body):
                return fake._error(401, "SIGN_ERROR", "签名错误")
            payload = json.loads(body) if body else {}
            if request.method == "POST" and path == "/v3/pay/transactions/jsapi":
                return fake._prepay(payload)
            if request.method == "POST" and path == "/v3/refund/domestic/refunds":
                return fake._refund(payload)
            prefix = "/v3/pay/transactions/out-trade-no/"
            if request.method == "GET" and path.startswith(prefix):
                return fake._query(path.removeprefix(prefix), request.query_params.get("mchid"))
            return fake._error(404, "NOT_FOUND", "no such API")

        return Litestar([v3], debug=False)

    def _prepay(self, payload: dict[str, Any]) -> Response[bytes]:
        if payload.get("mchid") != MCH_ID or payload.get("appid") != APP_ID:
            return self._error(400, "PARAM_ERROR", "mchid or appid")
        known = self.orders.get(payload["out_trade_no"])
        terms = (payload["amount"]["total"], payload["payer"]["openid"])
        if known is not None and (known["total"], known["openid"]) != terms:
            return self._error(400, "INVALID_REQUEST", "商户订单号重复")
        if known is None:
            known = self.orders[payload["out_trade_no"]] = {
                "total": terms[0],
                "trade_state": "NOTPAY",
                "transaction_id": "",
                "openid": terms[1],
                "notify_url": payload["notify_url"],
                "prepay_id": f"wx{secrets.token_hex(14)}",
            }
        # The same order asked again gets the same prepay order, as WeChat Pay does.
        return self._answer({"prepay_id": known["prepay_id"]})

    def _query(self, order_id: str, mchid: str | None) -> Response[bytes]:
        order = self.orders.get(order_id)
        if order is None or mchid != MCH_ID:
            return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
        return self._answer(
            {
                "appid": APP_ID,
                "mchid": MCH_ID,
                "out_trade_no": order_id,
                "transaction_id": order["transaction_id"],
                "trade_type": "JSAPI",
                "trade_state": order["trade_state"],
                "amount": {"total": order["total"], "currency": "CNY"},
            }
        )

    def _refund(self, payload: dict[str, Any]) -> Response[bytes]:
        order = self.orders.get(payload.get("out_trade_no", ""))
        if order is None:
            return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        amount = payload["amount"]
        if amount["total"] != order["total"] or amount["refund"] > order["total"]:
            return self._error(400, "INVALID_REQUEST", "退款金额与订单金额不符")
        made = self.refunds.setdefault(
            payload["out_refund_no"],
            {
                "refund_id": f"5030{secrets.randbelow(10**24):024d}",
                "out_trade_no": payload["out_trade_no"],
                "amount": amount["refund"],
            },
        )
        return self._answer(
            {
                "refund_id": made["refund_id"],
                "out_refund_no": payload["out_refund_no"],
                "out_trade_no": payload["out_trade_no"],
                "status": "PROCESSING",
                "amount": {"refund": made["amount"], "total": order["total"], "currency": "CNY"},
            }
        )
