"""Tables of broadcasts, their rooms, product windows and viewer sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Identity, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import NEVER_REUSED_IDS, Base, stored_by_value, utcnow


class BroadcastStatus(StrEnum):
    """A broadcast is scheduled, then live, then ended (its room stays open as a replay)."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    MISSED = "missed"
    """Its slot ended without it going live (the schedule watch marks it)."""


class SlotApproval(StrEnum):
    """HQ's slots are approved as made; a store host's proposal waits for HQ."""

    APPROVED = "approved"
    PROPOSED = "proposed"
    REJECTED = "rejected"


class Broadcast(Base):
    """A hub broadcast (HQ, no store) or a store broadcast, which may relay a hub broadcast."""

    __tablename__ = "broadcasts"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "hub" | "store"
    title: Mapped[str] = mapped_column(String(128))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    relays_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    status: Mapped[BroadcastStatus] = mapped_column(
        stored_by_value(BroadcastStatus, 12), default=BroadcastStatus.SCHEDULED
    )
    scheduled_start_at: Mapped[datetime]
    scheduled_end_at: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    play_url: Mapped[str] = mapped_column(String(500), default="")
    """HLS or FLV URL from the external media server; the service only hands it on."""
    replay_url: Mapped[str] = mapped_column(String(500), default="")
    poster_url: Mapped[str] = mapped_column(String(500), default="")
    approval: Mapped[SlotApproval] = mapped_column(
        stored_by_value(SlotApproval, 12), default=SlotApproval.APPROVED
    )
    on_air_item_id: Mapped[int | None] = mapped_column(default=None)
    """The item this broadcast presents now: its own, or (a relaying store) one of the hub's.
    No foreign key: an item removed from the window simply stops being on air."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Room(Base):
    """The page a viewer opens; one per broadcast, shoppable as a replay after the end."""

    __tablename__ = "rooms"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), unique=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)


class WindowItem(Base):
    """One item of a broadcast's product window. A store room shows its hub's items plus its own."""

    __tablename__ = "window_items"
    __table_args__ = (UniqueConstraint("broadcast_id", "product_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    position: Mapped[int]
    price_fen: Mapped[int]
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))


class WindowHiddenItem(Base):
    """A hub item a relaying store cannot fulfil and hides from its room."""

    __tablename__ = "window_hidden_items"
    __table_args__ = (UniqueConstraint("broadcast_id", "item_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("window_items.id"))


class ViewerSession(Base):
    """One viewer's stay in one room: presence and engagement, flushed from Redis in batches."""

    __tablename__ = "viewer_sessions"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    watch_seconds: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(default=0)
    chats: Mapped[int] = mapped_column(default=0)
    taps: Mapped[int] = mapped_column(default=0)
    share_code: Mapped[str | None] = mapped_column(String(32))
    tapped_items: Mapped[dict[str, int] | None] = mapped_column(JSON, default=dict)
    """Taps per window item id (a string: a JSON key) during the stay."""


class BroadcastSubscription(Base):
    """A viewer asked, from a broadcast's share page, to be reminded before it goes live."""

    __tablename__ = "broadcast_subscriptions"
    __table_args__ = (UniqueConstraint("broadcast_id", "customer_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduleNoticeKind(StrEnum):
    HOST_REMINDER = "host_reminder"
    VIEWER_REMINDER = "viewer_reminder"
    NO_SHOW = "no_show"
    """The slot started 5 minutes ago and its broadcast is not live: HQ's alert."""
    MISSED = "missed"


class ScheduleNotice(Base):
    """What the schedule watch raised: a reminder to one person or an alert for HQ. Unique per
    (broadcast, kind, recipient), so the watch may run any number of times."""

    __tablename__ = "schedule_notices"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "kind", "recipient_id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    kind: Mapped[ScheduleNoticeKind] = mapped_column(stored_by_value(ScheduleNoticeKind, 16))
    recipient_id: Mapped[int] = mapped_column(default=0)
    """The host's staff id or the viewer's customer id; 0 for HQ's alerts."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    """A viewer's reminder sent through WeChat (live/reminder_delivery.py)."""
    delivery_error: Mapped[str] = mapped_column(String(200), default="")
    """Why WeChat refused it: a refused reminder is not sent again."""


class OnAirChange(Base):
    """A broadcast's on-air choice changed to `item_id` (None: nothing presented) at `at`. The
    follow-ups read these to tell how long each item was on air while a viewer watched."""

    __tablename__ = "on_air_changes"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(default=None)
    """No foreign key, as on Broadcast.on_air_item_id: an item may leave the window later."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
