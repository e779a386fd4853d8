"""Wire types of attribution/: what its endpoints take and return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from attribution.segments_classes import RfmClass, Tier
from server.bounds import NO_NUL, Id, Int32, NonEmpty64, Text32, Text64, Text500

Text20 = Annotated[str, msgspec.Meta(max_length=20, pattern="^[0-9+ -]*$")]
"""A phone number as the customers table holds it."""


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
    share_via: Literal["share", "scan"] = "share"
    """How the share code came: a shared link, or the guide's QR code scanned."""


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


# In-store till sales (attribution/instore.py)

NonEmpty32 = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=NO_NUL)]
Phone = Annotated[str, msgspec.Meta(max_length=20, pattern=NO_NUL)]
AwareDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A time with its UTC offset: a till's local time alone would be read in the wrong zone."""


class TillSale(msgspec.Struct, forbid_unknown_fields=False):
    """One row of a till export, as CSV columns or a JSON object; unknown columns are ignored
    (tills export more than this)."""

    receipt_id: NonEmpty64
    """The till's receipt number, unique across the chain: importing it again adds nothing."""
    store_code: NonEmpty32
    """The store's code (SH01), as the till knows its store."""
    amount_fen: Int32
    """What the receipt came to, in fen; a return's may be written negative or positive (tills
    differ), and gives back that much."""
    sold_at: AwareDateTime
    """ISO 8601 with an offset: 2026-11-30T15:04:05+08:00."""
    phone: Phone | None = None
    """The member phone the till recorded, if any; links the sale to a customer."""
    return_of: NonEmpty64 | None = None
    """A return: the receipt id of the till sale it gives money back on."""


class RowError(msgspec.Struct):
    row: int
    """1-based position among the records: the CSV's data lines (header not counted) or the
    JSON array's items."""
    field: str | None
    message: str


class InstoreImportReport(msgspec.Struct):
    rows: int
    imported: int
    """New sales and returns written by this import (each with its credit row)."""
    already_imported: int
    """Valid rows whose receipt id was already there (an import run twice, or a repeated row)."""
    linked: int
    """New sales whose phone matched a customer."""
    errors_total: int
    errors: list[RowError]
    """The first errors, row by row (at most `instore.MAX_REPORTED_ERRORS`)."""
    returns: int = 0
    """Of `imported`, the returns (each reversing part or all of its sale's credit)."""


# Customer segments (attribution/segments.py)


class SegmentMember(msgspec.Struct):
    """A customer as the segment filters list them: phone masked, figures as of `computed_at`."""

    customer_id: int
    nickname: str
    phone_masked: str
    store_id: int | None
    """The bound guide's store, or the customer's home store when unbound."""
    guide_id: int | None
    recency_days: int
    frequency: int
    monetary_fen: int
    length_days: int
    rfm_class: RfmClass
    rfm_class_zh: str
    tier: Tier
    sleeping: bool
    last_purchase_at: datetime
    computed_at: datetime


class SegmentSummary(msgspec.Struct):
    """How many customers each class, tier and the sleeping hold, of a store or the brand."""

    customers: int
    by_class: dict[str, int]
    by_tier: dict[str, int]
    sleeping: int
    computed_at: datetime | None
    """When the segments were last refreshed; None before the first refresh."""


class StoreSales(msgspec.Struct):
    """A store's sales over a period, on both lines (私域业绩占比 is the second's share)."""

    store_id: int
    in_store_fen: int
    """Till sales imported for the store."""
    online_fen: int
    """Online sales credited to the store (its guides' and its rooms'), net of refunds."""
    total_fen: int
    private_domain_share: float
    """online / total, 0 when the store sold nothing."""


class BindingMode(StrEnum):
    PERMANENT = "permanent"
    """The first binding stays."""
    LATEST = "latest"
    """The newest guide's share takes the customer over."""
    PROTECTED = "protected"
    """A binding holds for `protect_days` after the guide last served the customer."""


class BindingReason(StrEnum):
    SHARE = "share"
    SCAN = "scan"
    IMPORT = "import"
    TRANSFER = "transfer"


class ShareOutcome(StrEnum):
    """What a share (or QR scan) did to the customer's binding, under the brand's rule."""

    BOUND = "bound"
    MOVED = "moved"
    KEPT = "kept"
    """Bound elsewhere and the rule keeps them there."""
    ALREADY = "already"
    GUIDE_UNAVAILABLE = "guide_unavailable"
    """No active guide has that code: inactive guides get no new bindings."""


class BindingRule(msgspec.Struct, forbid_unknown_fields=True):
    mode: BindingMode = BindingMode.PERMANENT
    protect_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 30


class BindingImportRow(msgspec.Struct, forbid_unknown_fields=True):
    """One customer to bind: named by id or by phone (exactly one)."""

    guide_id: Id
    customer_id: Id | None = None
    phone: Text20 | None = None


class ImportOutcome(StrEnum):
    BOUND = "bound"
    UNCHANGED = "unchanged"
    ERROR = "error"


class ImportRowResult(msgspec.Struct):
    index: int
    outcome: ImportOutcome
    detail: str = ""


class ImportReport(msgspec.Struct):
    bound: int
    unchanged: int
    errors: int
    rows: list[ImportRowResult]


class TransferRequest(msgspec.Struct, forbid_unknown_fields=True):
    to_guide_id: Id | None = None
    """A guide of the same store; None sends the customers to the store's pool."""
    customer_ids: Annotated[list[Id], msgspec.Meta(max_length=10_000)] | None = None
    """Only these of the guide's customers; None moves all of them."""
    guide_leaves: bool = False
    """Mark the guide inactive too, so no new binding reaches them."""


class TransferDone(msgspec.Struct):
    from_guide_id: int
    to_guide_id: int | None
    store_id: int
    moved: int


class BindingRead(msgspec.Struct):
    guide_id: int
    guide_name: str
    store_id: int
    source: str
    bound_at: datetime


class BindingChange(msgspec.Struct):
    from_guide_id: int | None
    from_store_id: int | None
    to_guide_id: int | None
    to_store_id: int | None
    reason: str
    actor: str
    at: datetime


class CreditRead(msgspec.Struct):
    """One credit row as its guide, host or HQ reads it."""

    order_id: str | None
    """None for a till sale or return (rule `instore`; the receipt is in the reason)."""
    kind: str
    customer_id: int | None
    """None only for a walk-in's till sale."""
    guide_id: int | None
    store_id: int | None
    room_store_id: int | None
    broadcast_id: int | None
    rule: str
    reason_zh: str
    reason_en: str
    amount_fen: int
    created_at: datetime


class CustomerCard(msgspec.Struct):
    id: int
    nickname: str
    phone_masked: str
    home_store_id: int | None
    binding: BindingRead | None
    """None: the customer is in their home store's pool."""
    history: list[BindingChange]
    last_purchases: list[CreditRead]
    """The latest credit rows (sales and their reversals), newest first."""
    total_credited_fen: int
    segment: str | None = None
    """The customer's RFML class, when computed (attribution's segments)."""
    tier: str | None = None
    """core | high_potential | ordinary, when computed."""


class MySales(msgspec.Struct):
    guide_id: int
    since: datetime
    until: datetime
    total_fen: int
    credits: list[CreditRead]


class UnmaskRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text64 = ""
    """Why HQ needs the number; kept in the audit row."""


class UnmaskedPhone(msgspec.Struct):
    customer_id: int
    phone: str


# The customers page (attribution/customer_search.py): hosts' and HQ's list of customers.


class CustomerRow(msgspec.Struct):
    """A customer as the customers page lists them: phone masked, binding and segment."""

    id: int
    nickname: str
    phone_masked: str
    store_id: int | None
    """The bound guide's store, or the home store when unbound."""
    guide_id: int | None
    guide_name: str | None
    """None: in the store's pool."""
    segment: str | None
    """The RFML class as of the last refresh (None before the first)."""
    tier: str | None


class GuideRead(msgspec.Struct):
    id: int
    name: str
    store_id: int
    store_name: str
    active: bool
