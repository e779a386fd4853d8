"""Viewer login as the mini-program does it: an identity from the provider, a customer row, a token.

The provider interface is shaped after WeChat's code2session: the mini-program sends
a one-time code, the provider turns it into an openid; when the user tapped "share my
phone number", the mini-program also sends a one-time phone code that only the provider
turns into a number. The caller's word is never taken for a phone. The demo provider
trusts both codes (the code is the openid, the phone code the number) and is refused in
production; `attribution/wechat.py` is the real one.
"""

from __future__ import annotations

import redis.asyncio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.bindings import bind_through_share
from attribution.identity import DemoIdentityProvider, IdentityProvider, MiniProgramIdentity
from attribution.models import Customer, Store
from attribution.schemas import BindingReason
from attribution.wechat import WechatIdentityProvider
from server.errors import NotFound
from server.settings import Settings


def identity_provider(settings: Settings) -> IdentityProvider:
    """The provider the settings name. Built once per process, by the assembly
    (attribution/runtime.py): WeChat's keeps its access token cached."""
    auth = settings.auth
    if auth.login_provider == "wechat":
        return WechatIdentityProvider(
            auth.wechat_base_url, auth.wechat_app_id, auth.wechat_app_secret
        )
    return DemoIdentityProvider()


LOGIN_WINDOW_S = 60


class UnknownStore(NotFound):
    """The login names a store that does not exist (a stale or forged room link)."""


async def over_login_rate(client: redis.asyncio.Redis, address: str, per_minute: int) -> bool:
    """A one-minute window per client address that opens at its first login, shared by every
    app node: each login may create a customer, so a script must not mint them by the
    thousand. One round trip; the counter is made with its expiry, so none outlives it."""
    key = f"auth:login-rate:{address}"
    async with client.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=LOGIN_WINDOW_S, nx=True)
        pipe.incr(key)
        _, count = await pipe.execute()
    return int(count) > per_minute


async def enter_as_customer(
    session: AsyncSession,
    identity: MiniProgramIdentity,
    *,
    nickname: str = "",
    share_code: str | None = None,
    share_via: BindingReason = BindingReason.SHARE,
    store_id: int | None = None,
) -> Customer:
    """Find or create the customer behind an identity, keeping the share code they came through.

    A customer who enters through a guide's share link or QR code is bound as the brand's
    rule says (attribution/bindings.py): an unbound one to that guide; a bound one stays
    unless the rule lets the new guide take them, and any move is recorded.
    """
    for attempt in range(2):
        try:
            return await _enter(session, identity, nickname, share_code, share_via, store_id)
        except IntegrityError:
            # Two logins of one person at once: both found no customer (or no binding) and
            # the unique indexes let one write. The other, retried, finds what it wrote and
            # follows the rule from there (SQLite has no row lock to make them take turns).
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _enter(
    session: AsyncSession,
    identity: MiniProgramIdentity,
    nickname: str,
    share_code: str | None,
    share_via: BindingReason,
    store_id: int | None,
) -> Customer:
    async with session.begin():
        customer = await session.scalar(select(Customer).where(Customer.openid == identity.openid))
        if customer is None:
            if store_id is not None and await session.get(Store, store_id) is None:
                raise UnknownStore(f"no store {store_id}")
            customer = Customer(
                openid=identity.openid,
                phone=identity.phone,
                nickname=nickname,
                home_store_id=store_id,
                first_share_code=share_code,
            )
            session.add(customer)
            await session.flush()
        elif identity.phone and not customer.phone:
            customer.phone = identity.phone
        if share_code:
            await bind_through_share(session, customer, share_code, reason=share_via)
    return customer
