"""Wire types of attribution/: what its endpoints take and return."""

from __future__ import annotations

import msgspec

from server.bounds import Id, NonEmpty64, Text32, Text64, Text500


class ViewerLogin(msgspec.Struct, forbid_unknown_fields=True):
    code: NonEmpty64
    """The mini-program's login code (`wx.login`; the demo provider takes it as the openid)."""
    phone_code: Text500 | None = None
    """The one-time code of the phone-number button (`getPhoneNumber`), if the viewer shared
    their number: only the provider turns it into a number, the caller never names one."""
    nickname: Text64 = ""
    share_code: Text32 | None = None
    """The guide share code carried by the link the viewer opened, if any."""
    store_id: Id | None = None
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


class StaffRead(msgspec.Struct):
    """A member of staff as other packages see them: HQ (no store) or a store's host."""

    id: int
    role: str
    name: str
    store_id: int | None
