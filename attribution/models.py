"""Tables of the organisation (regions, stores, staff, guides) and of customers and their bindings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import NEVER_REUSED_IDS, Base, utcnow


class Region(Base):
    __tablename__ = "regions"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Store(Base):
    __tablename__ = "stores"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    city: Mapped[str] = mapped_column(String(64))


class Staff(Base):
    """A person who signs in to work: an HQ operator (no store) or a store host."""

    __tablename__ = "staff"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # "hq" | "host"
    name: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)


class Guide(Base):
    __tablename__ = "guides"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    share_code: Mapped[str] = mapped_column(String(32), unique=True)
    """Carried in the links a guide shares; entering through it binds an unbound customer."""
    active: Mapped[bool] = mapped_column(default=True)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    home_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    """The store whose room the customer first entered; follow-ups of unbound customers go there."""
    first_share_code: Mapped[str | None] = mapped_column(String(32))
    """The guide share code of the customer's first entry, kept for binding."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Binding(Base):
    """Who a customer belongs to. One open binding per customer; rebinding closes the old one."""

    __tablename__ = "bindings"
    __table_args__ = (
        Index(
            "uq_bindings_open_per_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "share" | "scan" | "transfer" | "import"
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class SaleCredit(Base):
    """Which guide and store a sale counts for (业绩归属). Written once; a refund writes its reverse."""

    __tablename__ = "sale_credits"
    __table_args__ = (
        Index("uq_sale_credits_refund", "order_id", "refund_id", unique=True),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    """The online order credited; None for a till sale or return (`instore_sale_id`)."""
    kind: Mapped[str] = mapped_column(String(16))  # "sale" | "reversal"
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    """None only for a till sale whose phone matched no member (a walk-in)."""
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    """The credited store; None is HQ's own line (rule `hq_line`: an unbound customer's sale
    in the hub room), which is no store's and no guide's."""
    room_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    """The store whose room the sale happened in (may differ from the credited store)."""
    broadcast_id: Mapped[int | None] = mapped_column(default=None)
    """With `room_store_id`, the room the sale was bought in (the broadcast's room of that
    store; the hub's when the store is None). No foreign key: broadcasts are live/'s."""
    rule: Mapped[str] = mapped_column(String(32))
    """The rule that decided the credit (attribution/credit.py); a reversal repeats its sale's."""
    refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The refund a reversal undoes; a refund is reversed once (uq_sale_credits_refund)."""
    reason_zh: Mapped[str] = mapped_column(String(200), default="")
    reason_en: Mapped[str] = mapped_column(String(200), default="")
    """Why this guide and store, written from the facts of the moment it was paid."""
    amount_fen: Mapped[int]
    """Positive for a sale, negative for a reversal."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When it counts: the payment or refund, or the till's time for a till sale or return."""
    instore_sale_id: Mapped[int | None] = mapped_column(
        ForeignKey("instore_sales.id"), unique=True, default=None
    )
    """The till sale (kind sale) or till return (kind reversal) this row credits; each till row
    is credited once (unique), so re-importing a receipt never credits it again."""


class InstoreSale(Base):
    """A till sale imported from a store (the store's first line): it counts for the store it
    happened in, never for a guide, and names the customer when the till's phone matched one."""

    __tablename__ = "instore_sales"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The till's own receipt number: importing the same file twice adds nothing."""
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int]
    """Positive for a sale, negative for a return."""
    sold_at: Mapped[datetime] = mapped_column(index=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    return_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("instore_sales.id"), index=True, default=None
    )
    """A return names the till sale it gives money back on (its store and customer are that
    sale's); the returns of a sale never add up to more than it came to."""


class CustomerSegment(Base):
    """A customer's RFML figures, class, tier and sleeping flag as of the last refresh
    (attribution/segments.py); rewritten whole by each refresh."""

    __tablename__ = "customer_segments"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    recency_days: Mapped[int]
    frequency: Mapped[int]
    monetary_fen: Mapped[int]
    length_days: Mapped[int]
    rfm_class: Mapped[str] = mapped_column(String(32), index=True)
    tier: Mapped[str] = mapped_column(String(16), index=True)
    sleeping: Mapped[bool] = mapped_column(index=True)
    last_purchase_at: Mapped[datetime]
    computed_at: Mapped[datetime]


# The import links a till's phone to a customer; without it each batch scans every member.
Index("ix_customers_phone", Customer.phone)


class BrandSettings(Base):
    """The brand's one row of choices HQ makes (id 1); absent, the defaults hold."""

    __tablename__ = "brand_settings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    binding_mode: Mapped[str] = mapped_column(String(16), default="permanent")
    """permanent | latest | protected (attribution/bindings.py)."""
    protect_days: Mapped[int] = mapped_column(default=30)
    """In `protected` mode: days after the guide last served the customer that the binding holds."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(default=None)
    """The HQ staff id that last changed it."""


class BindingHistory(Base):
    """Every change of who a customer belongs to, never edited: from, to, why and by whom."""

    __tablename__ = "binding_history"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    from_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    to_guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    """None: the customer went to the store's pool (`to_store_id`)."""
    to_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    reason: Mapped[str] = mapped_column(String(16))  # share | scan | import | transfer
    actor: Mapped[str] = mapped_column(String(32))
    """Who made it: `customer:<id>` (their own share or scan), `hq:<staff id>`."""
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneUnmask(Base):
    """Audit of each time HQ read a customer's full phone number."""

    __tablename__ = "phone_unmasks"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    staff_id: Mapped[int] = mapped_column(index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


# Follow-ups (attribution/followups*.py, attribution/care*.py): what a guide should do next.


class FollowupTask(Base):
    """One thing a guide should do for one customer: follow up a broadcast they watched without
    paying, or one step of the after-sale care of a paid order. Unbound customers' tasks sit
    in their store's pool (guide_id None) until one of its guides takes them."""

    __tablename__ = "followup_tasks"
    __table_args__ = (
        # One broadcast task per customer across the hub room and its store rooms.
        UniqueConstraint("broadcast_id", "customer_id", name="uq_followup_tasks_broadcast"),
        UniqueConstraint("order_id", "care_step_id", name="uq_followup_tasks_care_step"),
        UniqueConstraint("campaign_id", "customer_id", name="uq_followup_tasks_campaign"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # TaskKind
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(default=None)
    """The hub (or standalone store) broadcast the customer watched; no foreign key, as
    attribution/ knows nothing of live/'s tables."""
    order_id: Mapped[str | None] = mapped_column(String(32))
    care_step_id: Mapped[int | None] = mapped_column(ForeignKey("care_plan_steps.id"))
    watch_seconds: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(default=0)
    chats: Mapped[int] = mapped_column(default=0)
    taps: Mapped[int] = mapped_column(default=0)
    ordered: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Names of what the customer ordered (and did not pay) or bought (care)."""
    score: Mapped[int] = mapped_column(default=0)
    """Higher first in the queue."""
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # TaskStatus
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    skip_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    """Not shown before: a care step's offset, or the end of a do-not-disturb window."""
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    converted_order_id: Mapped[str | None] = mapped_column(String(32), default=None)
    converted_at: Mapped[datetime | None] = mapped_column(default=None)
    retouch_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("followup_tasks.id"), unique=True, default=None
    )
    """The follow-up this task touches again (once: unique) when it did not convert."""
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("recall_campaigns.id"), default=None)
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    """What the customer saw and tapped in the broadcast, one entry per item (followups_schemas
    .ItemSeen): its product, name and image, their taps, and its seconds on air while they
    watched. None on tasks issued before items were recorded."""


class RecallCampaign(Base):
    """HQ's invitation to a segment (sleeping customers of so many days): each customer outside
    do-not-disturb becomes a task in their guide's queue, carrying the invitation link."""

    __tablename__ = "recall_campaigns"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(16))  # "sleeping"
    min_days: Mapped[int]
    max_days: Mapped[int]
    invitation_url: Mapped[str] = mapped_column(String(500))
    script_zh: Mapped[str] = mapped_column(String(500))
    script_en: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarePlan(Base):
    """After-sale care (3315, 3369): steps at offsets after a paid order. Active plans apply to
    every paid order credited to a guide."""

    __tablename__ = "care_plans"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=False)


class CarePlanStep(Base):
    __tablename__ = "care_plan_steps"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id"), index=True)
    position: Mapped[int]
    offset_minutes: Mapped[int]
    script_zh: Mapped[str] = mapped_column(String(500))
    script_en: Mapped[str] = mapped_column(String(500))
    retired: Mapped[bool] = mapped_column(default=False)
    """An edited plan retires its old steps (tasks keep pointing at them) and adds new ones."""


class FollowupRules(Base):
    """The brand's follow-up settings, one row (id 1), edited by HQ."""

    __tablename__ = "followup_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiet_days: Mapped[int] = mapped_column(default=3)
    """Do-not-disturb: a customer contacted this recently is deferred to its end."""
    core_quiet_days: Mapped[int] = mapped_column(default=7)
    """The longer window of core-tier customers."""
    expire_days: Mapped[int] = mapped_column(default=3)
    """A task not done this long after it is due expires."""
    convert_days: Mapped[int] = mapped_column(default=7)
    """A payment this soon after a task converts it."""
    retouch_days: Mapped[int] = mapped_column(default=14)
    """A follow-up done and not converted this long ago gets one more touch."""
    cadence: Mapped[bool] = mapped_column(default=False)
    """Seed 002's 45-day cycle from a customer's last purchase: the first 15 days are for
    routine care only, and marketing touches wait for day 40 (followups_cadence.py)."""


class GuideReminder(Base):
    """HQ chased (催办) this guide about their overdue tasks; the workbench shows it until the
    guide dismisses it. One per guide per chase window (`chase_window`), so chasing twice in a row
    reminds once (attribution/followthrough.py)."""

    __tablename__ = "guide_reminders"
    __table_args__ = (
        UniqueConstraint("guide_id", "chase_window", name="uq_guide_reminders_window"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    chase_window: Mapped[int]
    """The chase window the reminder fell in (seconds since the epoch // the window)."""
    overdue: Mapped[int]
    """How many of the guide's tasks were overdue when HQ chased."""
    chased_by: Mapped[int]
    """The HQ staff member who chased."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
