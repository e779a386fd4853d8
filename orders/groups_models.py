"""Tables of group-buys (拼团): a group opened on a group_buy deal and its paid members.

Redis decides who joins (orders/lua/group_join.lua); these rows are what the database needs
to confirm a group that filled and to refund one that ran out of time: a group's row is
written when it opens, a member's when its payment is applied.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.model_base import Base, stored_by_value, utcnow


class GroupStatus(StrEnum):
    OPEN = "open"
    FORMED = "formed"
    """Every seat paid: the members' orders are confirmed."""
    COMPLETED = "completed"
    """Out of time, but with at least the deal's auto-completion number of paid members."""
    FAILED = "failed"
    """Out of time unfilled: every paid member is refunded."""


class GroupBuy(Base):
    __tablename__ = "group_buys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """`<deal id>-<random>`, made before the join script runs."""
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    leader_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    size: Mapped[int]
    sharer_code: Mapped[str] = mapped_column(String(32), default="")
    """The guide share code the leader came through, carried by the group's share link."""
    status: Mapped[GroupStatus] = mapped_column(
        stored_by_value(GroupStatus, 16), default=GroupStatus.OPEN, index=True
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class GroupMember(Base):
    """A member whose order was paid (a seat taken but unpaid lives only in Redis)."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "customer_id"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("group_buys.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupSeat(Base):
    """A seat taken in a group, paid or not: what rebuilds the group's Redis state after Redis
    lost it (orders/groups_restore.py). Copied from Redis by the persister with the order
    (orders/groups_seats.py), which may come before the group's own row: no keys, a copy."""

    __tablename__ = "group_seats"

    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int]
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
