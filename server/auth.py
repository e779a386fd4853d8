"""Role tokens and who may call what.

A token is a JWT (HS256) carrying the role, the subject id and the store; the same
token authenticates HTTP (``Authorization: Bearer``) and the room socket upgrade
(``?token=``, because browsers cannot set headers on a websocket). Every route
declares the roles it admits with ``opt=allow(...)``; a route that declares none is
refused to everybody (default deny). Public routes say ``opt=PUBLIC``.
"""

from __future__ import annotations

import enum
import time
from typing import Any

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from server.settings import Settings


class Role(enum.StrEnum):
    HQ = "hq"
    HOST = "host"
    GUIDE = "guide"
    VIEWER = "viewer"


STORE_ROLES = frozenset({Role.HOST, Role.GUIDE})
"""Roles that act for one store: their principals always name it, so no check of theirs ever
compares a missing store with a hub room's missing store (`None == None`)."""


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the role, the id of the staff member, guide or customer, and the store."""

    role: Role
    sub: int
    store_id: int | None = None

    def __post_init__(self) -> None:
        if self.role in STORE_ROLES and self.store_id is None:
            raise ValueError(f"a {self.role.value} acts for one store: the store is required")

    def may_act_for_store(self, store_id: int | None) -> bool:
        return self.role is Role.HQ or (store_id is not None and self.store_id == store_id)


class TokenError(Exception):
    """The token is missing, malformed, forged or expired."""


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = ttl_seconds

    def issue(self, principal: Principal, ttl_seconds: int | None = None) -> str:
        """A token for this principal (a host or guide principal cannot exist without a store)."""
        now = int(time.time())
        claims = {
            "role": principal.role.value,
            "sub": str(principal.sub),
            "store": principal.store_id,
            "iat": now,
            "exp": now + (ttl_seconds or self._ttl),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
            return Principal(Role(claims["role"]), int(claims["sub"]), claims.get("store"))
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
            # ValueError includes a host or guide token signed without a store (Principal).
            raise TokenError("invalid token") from exc


PUBLIC: dict[str, Any] = {"exclude_from_auth": True, "public": True}


def allow(*roles: Role) -> dict[str, Any]:
    """Route option naming the roles that may call it: ``@get(..., opt=allow(Role.HQ))``."""
    return {"roles": frozenset(roles)}


def signer_of(settings: Settings) -> TokenSigner:
    """The signer the settings configure: the app's middleware and `Services` each hold one."""
    return TokenSigner(settings.auth.secret, settings.auth.token_ttl_seconds)


def token_from(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return connection.query_params.get("token")


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    """Verifies the bearer token with the signer the app hands it at assembly."""

    def __init__(self, app: ASGIApp, signer: TokenSigner) -> None:
        super().__init__(app)
        self.signer = signer

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = token_from(connection)
        if not token:
            raise NotAuthorizedException("missing token")
        try:
            principal = self.signer.verify(token)
        except TokenError as exc:
            raise NotAuthorizedException(str(exc)) from exc
        return AuthenticationResult(user=principal, auth=token)


def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: the caller's role must be among those the route declares."""
    if handler.opt.get("public"):
        return
    roles: frozenset[Role] | None = handler.opt.get("roles")
    if not roles:
        raise PermissionDeniedException("this endpoint admits no role")
    principal = connection.user
    if not isinstance(principal, Principal) or principal.role not in roles:
        raise PermissionDeniedException("your role may not call this endpoint")
