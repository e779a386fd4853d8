"""Wire types of the schedule (排班): slots, their plans and moves, and what the watch raised."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.bounds import NO_NUL, Id

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A point in time with its zone (2026-12-01T19:00:00+08:00); a bare local time is refused."""
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class SlotPlan(msgspec.Struct, forbid_unknown_fields=True):
    """A broadcast to put on the calendar: HQ's is approved as made, a host's is a proposal."""

    kind: Literal["hub", "store"]
    title: Title
    starts_at: AwareTime
    ends_at: AwareTime
    store_id: Id | None = None
    """The store whose room it is (store slots); none for the hub."""
    host_id: Id | None = None
    """The member of staff who hosts it; a host proposing names no one (it is them)."""
    relays_id: Id | None = None
    """The hub broadcast a store slot relays."""


class SlotMove(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: AwareTime
    ends_at: AwareTime


class Slot(msgspec.Struct):
    id: int
    kind: str
    title: str
    store_id: int | None
    host_id: int | None
    relays_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: str
    """scheduled | live | ended | missed"""
    approval: str
    """approved | proposed | rejected"""


class ScheduleNoticeRead(msgspec.Struct):
    id: int
    broadcast_id: int
    kind: str
    """host_reminder | viewer_reminder | no_show | missed"""
    recipient_id: int
    created_at: datetime
    title: str
    """The slot's broadcast, as the calendar names it."""
    store_id: int | None
    starts_at: datetime
