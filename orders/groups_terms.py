"""A group_buy deal's terms, read from its `params`, and the Redis keys of its groups.

The deal's `price_fen` is the group price; `params` add the group size, the time a group has
from its opening, and HQ's optional auto-completion (a group that ran out of time with at
least this many paid members is completed instead of refunded; 0 leaves it off).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

GROUP_KIND = "group_buy"
MAX_GROUP_SIZE = 50
MAX_GROUP_MINUTES = 7 * 24 * 60


class GroupTermsError(ValueError):
    """The deal's group params are missing or out of range; the message says which."""


class GroupTerms(msgspec.Struct, frozen=True):
    size: int
    minutes: int
    auto_complete_at: int = 0


def _int(params: dict[str, Any], name: str, low: int, high: int, default: int | None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GroupTermsError(f"params.{name} must be a whole number {low}-{high}")
    return value


def group_terms(params: dict[str, Any]) -> GroupTerms:
    size = _int(params, "group_size", 2, MAX_GROUP_SIZE, None)
    return GroupTerms(
        size=size,
        minutes=_int(params, "group_minutes", 1, MAX_GROUP_MINUTES, None),
        auto_complete_at=_int(params, "auto_complete_at", 0, size, 0),
    )


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def new_group_id(deal_id: int) -> str:
    return f"{deal_id}-{secrets.token_hex(6)}"


def deal_of_group(group_id: str) -> int | None:
    """The deal a group id names, or None for an id that is not one of ours."""
    deal, _, token = group_id.partition("-")
    return int(deal) if deal.isdigit() and len(deal) < 10 and token.isalnum() else None


@dataclass(frozen=True, slots=True)
class GroupKeys:
    """In the deal's slot (`{deal:ID}`), beside the keys of orders/keys.py."""

    deal_id: int

    def group(self, group_id: str) -> str:
        """Hash: status, size, count, deadline_ms, leader, opened_ms, sharer, and `m:<customer>`
        -> order id per seat."""
        return f"{{deal:{self.deal_id}}}:group:{group_id}"

    @property
    def member_of(self) -> str:
        """Hash: customer id -> "group id|deadline_ms" of the customer's latest group."""
        return f"{{deal:{self.deal_id}}}:group-of"

    @property
    def order_groups(self) -> str:
        """Hash: order id -> group id, for every order taken through a group."""
        return f"{{deal:{self.deal_id}}}:group-orders"
