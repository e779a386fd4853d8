"""The mini-program identity provider for production: WeChat's server API over HTTP.

Three calls, as WeChat documents them:
- `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code` turns the
  login code into `{openid, session_key, unionid?}` or `{errcode, errmsg}`;
- `POST /cgi-bin/stable_token` gives the app's access token (`{access_token, expires_in}`);
- `POST /wxa/business/getuserphonenumber?access_token=...` with `{code}` turns the phone
  code into `{errcode: 0, phone_info: {phoneNumber, purePhoneNumber, countryCode, watermark}}`.

The base URL is a setting, so tests run this client against a local server speaking the
same JSON. The session key never leaves this module: we keep no encrypted user data.
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

import httpx
import msgspec

from attribution.identity import IdentityProviderDown, LoginRefused, MiniProgramIdentity

TIMEOUT_S = 5.0
"""WeChat answers in tens of milliseconds; a login that waits longer is better retried."""
TOKEN_MARGIN_S = 300
"""An access token is renewed this long before WeChat says it expires (it lives 7200 s), so
a call never carries one that lapses on the way."""
SYSTEM_BUSY = -1
"""WeChat's errcode for "system busy, retry": the provider is down, not the code wrong."""
TOKEN_REJECTED = frozenset({40001, 42001})
"""The access token is invalid or expired (revoked early, or renewed by another caller)."""


_Reply = TypeVar("_Reply", bound=msgspec.Struct)


class Code2Session(msgspec.Struct):
    openid: str = ""
    session_key: str = ""
    unionid: str | None = None
    errcode: int = 0
    errmsg: str = ""


class AccessToken(msgspec.Struct):
    access_token: str = ""
    expires_in: int = 0
    errcode: int = 0
    errmsg: str = ""


class Watermark(msgspec.Struct):
    appid: str = ""
    timestamp: int = 0


class PhoneInfo(msgspec.Struct, rename="camel"):
    phone_number: str = ""
    pure_phone_number: str = ""
    country_code: str = ""
    watermark: Watermark = msgspec.field(default_factory=Watermark)


class PhoneNumberReply(msgspec.Struct):
    errcode: int = 0
    errmsg: str = ""
    phone_info: PhoneInfo | None = None


class SendReply(msgspec.Struct):
    errcode: int = 0
    errmsg: str = ""


class MessageRefused(Exception):
    """WeChat refused this one message (the viewer used up their subscription, blocked the
    mini-program, ...): sending it again would be refused again."""


class WechatIdentityProvider:
    """`IdentityProvider` backed by WeChat; holds the app's access token between logins."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._app_id = app_id
        self._secret = app_secret
        self._transport = transport
        self._token = ""
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self._base_url, timeout=TIMEOUT_S, transport=self._transport
        )

    async def resolve(self, code: str, phone_code: str | None) -> MiniProgramIdentity:
        if not code or len(code) > 128:
            raise LoginRefused("code must be 1-128 characters")
        async with self._client() as http:
            session = await self._code2session(http, code)
            phone = await self._phone_number(http, phone_code) if phone_code else None
        return MiniProgramIdentity(openid=session.openid, phone=phone)

    async def send_subscribe_message(
        self, openid: str, template_id: str, page: str, data: dict[str, str]
    ) -> None:
        """`POST /cgi-bin/message/subscribe/send`: one subscribe message to one viewer. Raises
        `MessageRefused` for a refusal of this message, `IdentityProviderDown` when WeChat is
        busy or away (worth trying again later)."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "page": page,
            "data": {key: {"value": value} for key, value in data.items()},
            "lang": "zh_CN",
        }
        async with self._client() as http:
            for attempt in range(2):
                token = await self._access_token(http, renew=attempt > 0)
                reply = await _call(
                    http,
                    "POST",
                    "/cgi-bin/message/subscribe/send",
                    SendReply,
                    params={"access_token": token},
                    json=body,
                )
                if reply.errcode not in TOKEN_REJECTED:
                    break
        if reply.errcode == SYSTEM_BUSY:
            raise IdentityProviderDown(f"wechat: system busy ({reply.errmsg})")
        if reply.errcode:
            raise MessageRefused(f"{reply.errcode} {reply.errmsg}")

    async def _code2session(self, http: httpx.AsyncClient, code: str) -> Code2Session:
        params = {
            "appid": self._app_id,
            "secret": self._secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        reply = await _call(http, "GET", "/sns/jscode2session", Code2Session, params=params)
        _raise_for(reply.errcode, reply.errmsg)
        if not reply.openid or len(reply.openid) > 64:
            raise IdentityProviderDown("wechat: code2session answered without a usable openid")
        return reply

    async def _phone_number(self, http: httpx.AsyncClient, phone_code: str) -> str:
        for attempt in range(2):
            token = await self._access_token(http, renew=attempt > 0)
            reply = await _call(
                http,
                "POST",
                "/wxa/business/getuserphonenumber",
                PhoneNumberReply,
                params={"access_token": token},
                json={"code": phone_code},
            )
            if reply.errcode not in TOKEN_REJECTED:
                break
        _raise_for(reply.errcode, reply.errmsg)
        info = reply.phone_info
        if info is None or not info.phone_number:
            raise IdentityProviderDown("wechat: the phone number reply has no number")
        if info.watermark.appid and info.watermark.appid != self._app_id:
            raise LoginRefused("wechat: the phone number was issued to another app")
        # Numbers of mainland China are stored without their country code, as staff dial them.
        number = info.pure_phone_number if info.country_code == "86" else info.phone_number
        if len(number) > 20:
            raise LoginRefused("wechat: the phone number is longer than we store")
        return number or info.phone_number

    async def _access_token(self, http: httpx.AsyncClient, *, renew: bool = False) -> str:
        """The cached token, fetched again when it is about to lapse or was refused."""
        async with self._token_lock:
            if renew or not self._token or time.monotonic() >= self._token_until:
                body = {
                    "grant_type": "client_credential",
                    "appid": self._app_id,
                    "secret": self._secret,
                    "force_refresh": renew,
                }
                reply = await _call(http, "POST", "/cgi-bin/stable_token", AccessToken, json=body)
                if reply.errcode or not reply.access_token:
                    raise IdentityProviderDown(
                        f"wechat: no access token ({reply.errcode} {reply.errmsg})"
                    )
                self._token = reply.access_token
                self._token_until = time.monotonic() + max(reply.expires_in - TOKEN_MARGIN_S, 0)
            return self._token


async def _call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    into: type[_Reply],
    *,
    params: dict[str, str] | None = None,
    json: object = None,
) -> _Reply:
    try:
        response = await http.request(method, path, params=params, json=json)
    except httpx.HTTPError as exc:
        raise IdentityProviderDown(f"wechat: {path} unreachable: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise IdentityProviderDown(f"wechat: {path} answered HTTP {response.status_code}")
    try:
        # WeChat sends some of these as text/plain; the body is JSON either way.
        return msgspec.json.decode(response.content, type=into)
    except msgspec.DecodeError as exc:
        raise IdentityProviderDown(f"wechat: {path} answered malformed JSON") from exc


def _raise_for(errcode: int, errmsg: str) -> None:
    if errcode == SYSTEM_BUSY:
        raise IdentityProviderDown(f"wechat: system busy ({errmsg})")
    if errcode:
        raise LoginRefused(f"wechat refused the code: {errcode} {errmsg}")
