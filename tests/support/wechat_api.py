"""A local stand-in for WeChat's server API, speaking its documented JSON: code2session,
stable_token and getuserphonenumber. Codes it knows are set by the test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, MediaType, Request, get, post
from litestar.response import Response

APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-app-secret-0123456789abcdef"


@dataclass
class FakeWechat:
    """What the fake knows (login codes -> openid, phone codes -> number) and what it saw."""

    openids: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    busy: bool = False
    tokens_issued: int = 0
    revoked_tokens: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    phone_app_id: str = APP_ID
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Subscribe messages sent, as WeChat received them."""
    unsubscribed: set[str] = field(default_factory=set)
    """Openids whose subscription is used up: WeChat answers 43101."""

    def app(self) -> Litestar:
        fake = self

        @get("/sns/jscode2session", media_type=MediaType.TEXT)
        async def code2session(
            appid: str, secret: str, js_code: str, grant_type: str
        ) -> Response[bytes]:
            fake.calls.append("jscode2session")
            if fake.busy:
                return _json({"errcode": -1, "errmsg": "system error"})
            if appid != APP_ID or secret != APP_SECRET or grant_type != "authorization_code":
                return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
            openid = fake.openids.pop(js_code, None)  # a code is good once
            if openid is None:
                return _json({"errcode": 40029, "errmsg": "invalid code"})
            return _json({"openid": openid, "session_key": "c2Vzc2lvbi1rZXk=", "errcode": 0})

        @post("/cgi-bin/stable_token", status_code=200)
        async def stable_token(data: dict[str, Any]) -> Response[bytes]:
            fake.calls.append("stable_token")
            if data.get("appid") != APP_ID or data.get("secret") != APP_SECRET:
                return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
            fake.tokens_issued += 1
            return _json({"access_token": f"token-{fake.tokens_issued}", "expires_in": 7200})

        @post("/wxa/business/getuserphonenumber", status_code=200)
        async def phone_number(
            access_token: str, request: Request[Any, Any, Any]
        ) -> Response[bytes]:
            fake.calls.append("getuserphonenumber")
            body = await request.json()
            if not access_token.startswith("token-") or access_token in fake.revoked_tokens:
                return _json({"errcode": 40001, "errmsg": "invalid credential, access_token"})
            number = fake.phones.pop(body.get("code", ""), None)
            if number is None:
                return _json({"errcode": 40029, "errmsg": "invalid code"})
            return _json(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "phone_info": {
                        "phoneNumber": f"+86{number}",
                        "purePhoneNumber": number,
                        "countryCode": "86",
                        "watermark": {"timestamp": 1700000000, "appid": fake.phone_app_id},
                    },
                }
            )

        @post("/cgi-bin/message/subscribe/send", status_code=200)
        async def subscribe_send(
            access_token: str, request: Request[Any, Any, Any]
        ) -> Response[bytes]:
            fake.calls.append("subscribe_send")
            if fake.busy:
                return _json({"errcode": -1, "errmsg": "system error"})
            if not access_token.startswith("token-") or access_token in fake.revoked_tokens:
                return _json({"errcode": 40001, "errmsg": "invalid credential, access_token"})
            body = await request.json()
            if body.get("touser") in fake.unsubscribed:
                return _json({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
            fake.messages.append(body)
            return _json({"errcode": 0, "errmsg": "ok"})

        return Litestar([code2session, stable_token, phone_number, subscribe_send], debug=False)


def _json(payload: dict[str, Any]) -> Response[bytes]:
    # WeChat answers code2session as text/plain; the client must read the JSON anyway.
    return Response(json.dumps(payload).encode(), media_type=MediaType.TEXT)
