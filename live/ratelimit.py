"""Per-socket token buckets for likes, chat, taps, order and resume frames."""

from __future__ import annotations

import time
from typing import NamedTuple


class Limit(NamedTuple):
    rate: float
    """Tokens added per second."""
    burst: float


FRAME_LIMITS: dict[str, Limit] = {
    # A thumb tapping the heart fast is ~10/s; chat faster than one line a second is spam.
    "like": Limit(rate=20, burst=40),
    "chat.send": Limit(rate=1, burst=3),
    "tap": Limit(rate=5, burst=10),
    # A shopper buying in a flash sale taps a few items a second at most; more is a script.
    "order.place": Limit(rate=4, burst=8),
    # Opening or joining a group is an order too.
    "group.place": Limit(rate=4, burst=8),
    # A socket resumes once; more is a client bug or an attack on snapshots.
    "resume": Limit(rate=0.1, burst=2),
}
"""Frame kinds a socket may send only so fast; the others (ping, hello) cost nothing."""


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens", "warned")

    def __init__(self, limit: Limit) -> None:
        self.rate, self.burst = limit
        self.tokens = limit.burst
        self.stamp = time.monotonic()
        # Whether the viewer was already told: one error per flood, not one per dropped frame.
        self.warned = False

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            self.warned = False
            return True
        return False


def bucket_for(buckets: dict[str, TokenBucket], kind: str) -> TokenBucket | None:
    """The socket's bucket for this kind of frame (None: not limited), made at its first frame
    of the kind: a join storm's thousands of sockets carry none until they do something."""
    bucket = buckets.get(kind)
    if bucket is None:
        limit = FRAME_LIMITS.get(kind)
        if limit is None:
            return None
        bucket = buckets[kind] = TokenBucket(limit)
    return bucket
