"""Wire types of attribution/: what its endpoints take and return."""

from __future__ import annotations

import msgspec


class ViewerLogin(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    """The mini-program's login code (`wx.login`; the demo provider takes it as the openid)."""
    phone_code: str | None = None
    """The one-time code of the phone-number button (`getPhoneNumber`), if the viewer shared
    their number: only the provider turns it into a number, the caller never names one."""
    nickname: str = ""
    share_code: str | None = None
    """The guide share code carried by the link the viewer opened, if any."""
    store_id: int | None = None
    """The store whose room link was opened."""


class LoginResult(msgspec.Struct):
    token: str
    customer_id: int
    role: str = "viewer"


class Me(msgspec.Struct):
    role: str
    id: int
    store_id: int | None


class CustomerProfile(msgspec.Struct):
    id: int
    nickname: str
    phone_masked: str
    home_store_id: int | None
    bound_guide_id: int | None


class StoreRead(msgspec.Struct):
    id: int
    code: str
    name: str
    city: str
    region: str
