"""Wire types of group-buys: a group and its progress, a deal's open groups, opening and
joining. Members are shown by masked nickname only, and only real ones."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

from orders.groups_models import GroupStatus
from orders.statuses import DealStatus
from server.bounds import Id, NonEmpty64, Text32

GROUP_ID_PATTERN = r"^[0-9]{1,10}-[0-9a-f]{12}$"
PathGroupId = Annotated[str, Parameter(min_length=3, max_length=32, pattern=GROUP_ID_PATTERN)]
GroupId = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=GROUP_ID_PATTERN)]


class GroupOpen(msgspec.Struct, forbid_unknown_fields=True):
    idempotency_key: NonEmpty64
    share_code: Text32 = ""
    """The guide share code the leader came through; the group's share link carries it."""
    room_id: Id | None = None
    """The live room the group is opened from, if any: decides the room store."""


class GroupJoin(msgspec.Struct, forbid_unknown_fields=True):
    idempotency_key: NonEmpty64
    room_id: Id | None = None


class GroupPlace(msgspec.Struct, tag="group.place", tag_field="type", forbid_unknown_fields=True):
    """The room socket's open (no `group_id`) or join of a group of `deal_id`."""

    idempotency_key: NonEmpty64
    deal_id: Id
    group_id: GroupId | None = None
    share_code: Text32 = ""
    """When opening: the guide share code the leader came through."""


class GroupRejected(msgspec.Struct, tag="group.rejected", tag_field="type"):
    idempotency_key: str
    reason: str
    """group_full | group_expired | group_closed | already_in_group | unknown_group |
    foreign_group | not_a_group_deal | group_only | the order's own reasons"""
    detail: str = ""


class GroupPlaced(msgspec.Struct, tag="group.placed", tag_field="type"):
    """The member's order in the group: pay it to take the seat for good."""

    idempotency_key: str
    group_id: str
    order_id: str
    amount_due_fen: int
    pay_by: str
    pay_url: str
    share_path: str
    """The group's share page, carrying who shared it."""


class GroupRead(msgspec.Struct):
    group_id: str
    deal_id: int
    status: GroupStatus
    size: int
    members: int
    """Seats taken (paid or waiting for payment)."""
    paid: int
    deadline_ms: int
    member_names: list[str]
    """Masked nicknames, leader first."""
    share_path: str


class DealGroupsRead(msgspec.Struct):
    """A group deal with its terms and the groups open to join now."""

    deal_id: int
    deal_status: DealStatus
    product_name: str
    product_name_en: str
    image_url: str
    list_price_fen: int
    group_price_fen: int
    group_size: int
    group_minutes: int
    stock_left: int
    groups: list[GroupRead]
