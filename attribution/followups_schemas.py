"""Wire types and words of follow-up tasks: what the worker hands in, what guides and HQ read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from server.bounds import NO_NUL, Text64, Text500

SkipReason = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]
Days = Annotated[int, msgspec.Meta(ge=1, le=365)]
QuietDays = Annotated[int, msgspec.Meta(ge=0, le=365)]
Offset = Annotated[int, msgspec.Meta(ge=0, le=366 * 24 * 60)]
"""A care step's minutes after the payment: at most a year."""
PlanCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern="^[0-9A-Za-z_-]+$")]


class TaskKind(StrEnum):
    WATCHED = "watched"
    """Watched a broadcast and ordered nothing."""
    ORDERED_UNPAID = "ordered_unpaid"
    """Ordered in the broadcast and did not pay."""
    CARE = "care"
    """A step of the after-sale care of a paid order."""
    RETOUCH = "retouch"
    """One more touch of a follow-up that did not convert."""
    RECALL = "recall"
    """HQ's invitation to a sleeping customer (a recall campaign)."""


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    """A care step whose order was refunded."""


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    NOT_INTERESTED = "not_interested"
    BOOKED_VISIT = "booked_visit"


CONTACTED = (Outcome.REACHED, Outcome.NOT_INTERESTED, Outcome.BOOKED_VISIT)
"""Outcomes that count as a contact for do-not-disturb (an unanswered call does not)."""


class ItemSeen(msgspec.Struct, frozen=True):
    """One window item as one customer met it in a broadcast (hub and store rooms summed)."""

    item_id: int
    product_id: int
    name: str
    name_en: str
    image_url: str
    """The catalogue's image of the product ("" when it has none)."""
    taps: int
    """How often they tapped it."""
    on_air_seconds: int
    """How long it was presented (on air) while they were in the room."""


class ViewerActivity(msgspec.Struct, frozen=True):
    """What one customer did across a broadcast's rooms (hub and relaying stores), summed."""

    customer_id: int
    room_store_id: int | None
    """The store of the room they spent longest in (None: the hub room)."""
    watch_seconds: int = 0
    likes: int = 0
    chats: int = 0
    taps: int = 0
    items: list[ItemSeen] = []
    """The items they tapped or saw on air, most tapped first."""


class BuyerRecord(msgspec.Struct, frozen=True):
    """A customer's orders in a broadcast, as orders/ reports them."""

    customer_id: int
    paid: bool
    """Paid at least one order (a buyer: no task)."""
    unpaid_products: list[str] = []
    """Names of what they ordered and did not pay."""


class TaskRead(msgspec.Struct):
    id: int
    kind: TaskKind
    status: TaskStatus
    customer_id: int
    customer_name: str
    phone_masked: str
    guide_id: int | None
    store_id: int | None
    broadcast_id: int | None
    order_id: str | None
    watch_seconds: int
    likes: int
    chats: int
    taps: int
    ordered: list[str]
    score: int
    script_zh: str
    script_en: str
    due_at: datetime
    expires_at: datetime
    outcome: Outcome | None = None
    skip_reason: str = ""
    converted_order_id: str | None = None
    in_pool: bool = False
    """Unbound customer: in the store's pool, any of its guides may take it."""
    items: list[ItemSeen] = []
    """What they tapped and saw on air in the broadcast (broadcast tasks only)."""


class Queue(msgspec.Struct):
    counts: dict[str, int]
    """Open, due tasks per kind."""
    tasks: list[TaskRead]


class PastPurchase(msgspec.Struct):
    order_id: str
    amount_fen: int
    at: datetime
    refunded: bool


class CustomerCard(msgspec.Struct):
    task: TaskRead
    past_purchases: list[PastPurchase]
    """From the sale credits: amount and date of each paid order."""


class TaskDone(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Outcome


class TaskSkip(msgspec.Struct, forbid_unknown_fields=True):
    reason: SkipReason = ""


class ShareCard(msgspec.Struct):
    share_code: str
    url: str
    qr_svg: str


class Figures(msgspec.Struct):
    since: datetime
    until: datetime
    guide_id: int | None
    store_id: int | None
    issued: int
    done: int
    execution_rate: float
    execution_rate_means: str
    touched: int
    converted: int
    conversion_rate: float
    conversion_rate_means: str
    region_id: int | None = None
    new_fans: int = 0
    store_transactions: int = 0
    add_fan_rate: float = 0.0
    """New bindings per store transaction: may exceed 1."""
    add_fan_rate_means: str = ""
    buyers: int = 0
    repeat_buyers: int = 0
    repurchase_rate: float = 0.0
    repurchase_rate_means: str = ""


class Rules(msgspec.Struct, forbid_unknown_fields=True):
    quiet_days: QuietDays = 3
    core_quiet_days: QuietDays = 7
    expire_days: Days = 3
    convert_days: Days = 7
    retouch_days: Days = 14
    cadence: bool = False
    """Seed 002's 45-day cycle: marketing touches of a customer who bought less than 40 days
    ago wait for day 40 (attribution/followups_cadence.py)."""


class CareStepBody(msgspec.Struct, forbid_unknown_fields=True):
    offset_minutes: Offset
    script_zh: Text500
    script_en: Text500


class CarePlanRead(msgspec.Struct):
    id: int
    code: str
    name: str
    active: bool
    steps: list[CareStepBody]


Steps = Annotated[list[CareStepBody], msgspec.Meta(max_length=20)]


class CarePlanEdit(msgspec.Struct, forbid_unknown_fields=True):
    active: bool
    steps: Steps
    name: Text64 | None = None


class CarePlanNew(msgspec.Struct, forbid_unknown_fields=True):
    code: PlanCode
    name: Text64
    steps: Steps
    active: bool = False


class CampaignNew(msgspec.Struct, forbid_unknown_fields=True):
    """A recall campaign: the segment (sleeping customers whose last purchase is between
    min_days and max_days ago) and the invitation each guide sends."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    invitation_url: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern="^https?://")]
    script_zh: Text500
    script_en: Text500
    segment: Literal["sleeping"] = "sleeping"
    min_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 180
    max_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 720


class CampaignRead(msgspec.Struct):
    id: int
    name: str
    segment: str
    min_days: int
    max_days: int
    invitation_url: str
    touched_customers: int
    """Tasks issued: the segment less do-not-disturb and protected core customers."""
    left_out: int
    """In the segment but contacted too recently, or core tier."""


class ProgressRow(msgspec.Struct):
    region_id: int | None
    store_id: int | None
    guide_id: int | None
    issued: int
    touched: int
    """Tasks done (any outcome)."""
    paid: int
    """Touched customers who paid within the conversion window after."""
    reactivation_rate: float


class CampaignProgress(msgspec.Struct):
    campaign_id: int
    total: ProgressRow
    rows: list[ProgressRow]
    reactivation_rate_means: str
