"""Per-socket token buckets for likes, chat, taps, order and resume frames."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    """Tokens added per second."""
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)
    warned: bool = False
    """Whether the viewer was already told; one error per flood, not one per dropped frame."""

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            self.warned = False
            return True
        return False


def viewer_buckets() -> dict[str, TokenBucket]:
    # A thumb tapping the heart fast is ~10/s; chat faster than one line a second is spam.
    return {
        "like": TokenBucket(rate=20, burst=40),
        "chat.send": TokenBucket(rate=1, burst=3),
        "tap": TokenBucket(rate=5, burst=10),
        # A shopper buying in a flash sale taps a few items a second at most; more is a script.
        "order.place": TokenBucket(rate=4, burst=8),
        # Opening or joining a group is an order too.
        "group.place": TokenBucket(rate=4, burst=8),
        # A socket resumes once; more is a client bug or an attack on snapshots.
        "resume": TokenBucket(rate=0.1, burst=2),
    }
