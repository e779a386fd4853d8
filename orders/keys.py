"""Redis keys of orders/. Every key of one deal carries the hash tag `{deal:ID}`, so all of
them live in one slot and the deal's scripts run unchanged on Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

STREAMS_KEY = "orders:streams"
"""Set of deal ids that have an order stream; the persister reads these streams. Never
touched by a script (it is in no deal's slot)."""
GROUP = "persist"
"""The consumer group that moves stream entries into SQL."""
RESTORE_LOCK = "orders:restoring"
"""String: the worker rebuilding Redis from SQL after a restart (orders/restore.py)."""


def idempotency_claim(customer_id: int, key: str) -> str:
    """String: the deal a customer's idempotency key was first used for, so one key never
    names orders of two deals. Outside the deals' slots: intake claims it before any deal's
    script runs."""
    return f"orders:idem:{customer_id}:{key}"


def http_rate(customer_id: int, second: int) -> str:
    """Counter: a customer's POST /api/orders within one second (shared by every app node)."""
    return f"orders:http-rate:{customer_id}:{second}"


@dataclass(frozen=True, slots=True)
class DealKeys:
    deal_id: int

    @property
    def tag(self) -> str:
        return f"{{deal:{self.deal_id}}}"

    @property
    def state(self) -> str:
        """Hash: status, price, limit, window, policy, stock, total, version."""
        return f"{self.tag}:state"

    @property
    def buyers(self) -> str:
        """Hash: customer id -> units ordered and not given back (the per-customer limit)."""
        return f"{self.tag}:buyers"

    @property
    def holds(self) -> str:
        """Hash: order id -> "quantity|customer|pay_by_ms|held" for every order not yet settled."""
        return f"{self.tag}:holds"

    @property
    def stream(self) -> str:
        """Stream of accepted orders on their way to SQL."""
        return f"{self.tag}:orders"

    @property
    def dead(self) -> str:
        """Dead-letter stream: entries that failed five deliveries."""
        return f"{self.tag}:dead"

    @property
    def restocked(self) -> str:
        """Set of refund ids whose units went back to the stock (so it happens once)."""
        return f"{self.tag}:restocked"

    @property
    def answers_cursor(self) -> str:
        """String: the acceptance time (ms) of the newest order whose idempotency answer the
        reconciliation has checked (orders/restore.py `restore_answers`)."""
        return f"{self.tag}:answers-cursor"

    def idempotency(self, customer_id: int, key: str) -> str:
        return f"{self.tag}:idem:{customer_id}:{key}"


def deal_id_of_stream(stream: str) -> int:
    return int(stream.split(":", 2)[1].rstrip("}"))
