"""Viewer login as the mini-program does it: an identity from the provider, a customer row, a token.

The provider interface is shaped after WeChat's code2session: the mini-program sends
a one-time code, the provider turns it into an openid (and, when the user allowed it,
a phone number). The demo provider trusts the code as the openid; a real provider
plugs in behind the same `IdentityProvider` protocol.
"""

from __future__ import annotations

from typing import Protocol

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, Customer, Guide, Store


class MiniProgramIdentity(msgspec.Struct, frozen=True):
    openid: str
    phone: str | None = None


class LoginRefused(Exception):
    """The provider did not accept the code."""


class UnknownStore(ValueError):
    """The login names a store that does not exist (a stale or forged room link)."""


class IdentityProvider(Protocol):
    async def resolve(self, code: str, phone: str | None) -> MiniProgramIdentity: ...


class DemoIdentityProvider:
    """Trusts the code as the openid. For the demo and the tests only."""

    async def resolve(self, code: str, phone: str | None) -> MiniProgramIdentity:
        if not code or len(code) > 64:
            raise LoginRefused("code must be 1-64 characters")
        return MiniProgramIdentity(openid=code, phone=phone)


def provider_named(name: str) -> IdentityProvider:
    providers: dict[str, IdentityProvider] = {"demo": DemoIdentityProvider()}
    return providers[name]


async def enter_as_customer(
    session: AsyncSession,
    identity: MiniProgramIdentity,
    *,
    nickname: str = "",
    share_code: str | None = None,
    store_id: int | None = None,
) -> Customer:
    """Find or create the customer behind an identity, keeping the share code they came through.

    A customer who enters through a guide's share and has no guide yet is bound to that
    guide ("once added, permanently bound"); an already bound customer stays bound.
    """
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
            await _bind_if_unbound(session, customer, share_code)
    return customer


async def _bind_if_unbound(session: AsyncSession, customer: Customer, share_code: str) -> None:
    guide = await session.scalar(
        select(Guide).where(Guide.share_code == share_code, Guide.active.is_(True))
    )
    if guide is None:
        return
    open_binding = await session.scalar(
        select(Binding.id).where(Binding.customer_id == customer.id, Binding.ended_at.is_(None))
    )
    if open_binding is None:
        session.add(
            Binding(
                customer_id=customer.id, guide_id=guide.id, store_id=guide.store_id, source="share"
            )
        )
        if customer.home_store_id is None:
            customer.home_store_id = guide.store_id
