"""Who a mini-program user is: the identity a provider vouches for, and the demo provider."""

from __future__ import annotations

from typing import Protocol

import msgspec

from server.errors import Unauthorized, Unavailable


class MiniProgramIdentity(msgspec.Struct, frozen=True):
    openid: str
    phone: str | None = None


class LoginRefused(Unauthorized):
    """The provider did not accept the code."""


class IdentityProviderDown(Unavailable):
    """The provider could not be asked (network, its own error); the viewer may retry."""


class IdentityProvider(Protocol):
    async def resolve(self, code: str, phone_code: str | None) -> MiniProgramIdentity:
        """The identity behind a login code, with the phone number behind a phone code."""
        ...


class DemoIdentityProvider:
    """Trusts the code as the openid and the phone code as the number. Demo and tests only."""

    async def resolve(self, code: str, phone_code: str | None) -> MiniProgramIdentity:
        if not code or len(code) > 64:
            raise LoginRefused("code must be 1-64 characters")
        phone = (
            phone_code if phone_code and phone_code.isdigit() and len(phone_code) <= 20 else None
        )
        return MiniProgramIdentity(openid=code, phone=phone)
