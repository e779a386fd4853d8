"""live/'s Redis key scheme: every key, key prefix and channel live/ uses comes from here.

A broadcast's keys share one hash tag, its stream's name in braces (`{b7}`), so a script that
touches several of them runs unchanged on Redis Cluster. Keys that outlive a broadcast (the
nodes, the stays waiting for the database) are prefixed `live:`.
"""

from __future__ import annotations

CHANNEL_PREFIX = "room:"
"""Pub/sub channels of the streams: `room:b7`."""
NODES_KEY = "live:nodes"
"""Every node that ever announced itself and was not yet found dead."""
SESSIONS_KEY = "live:sessions"
"""List of finished stays waiting for the database."""
BROADCAST_ENDED_EVENTS = "events:broadcast_ended"
"""Stream of broadcasts that ended, for other packages (follow-ups in attribution/)."""


def stream_name(broadcast_id: int) -> str:
    """A broadcast's stream: also its name on the wire (`stream` of every room event)."""
    return f"b{broadcast_id}"


def channel(stream: str) -> str:
    return f"{CHANNEL_PREFIX}{stream}"


def stream_keys(stream: str) -> tuple[str, str, str]:
    """The stream's offset counter, its history and its epoch."""
    return f"{{{stream}}}:seq", f"{{{stream}}}:history", f"{{{stream}}}:epoch"


def _tagged(broadcast_id: int, name: str) -> str:
    return f"{{{stream_name(broadcast_id)}}}:{name}"


def viewers_key(broadcast_id: int) -> str:
    return _tagged(broadcast_id, "viewers")


def likes_key(broadcast_id: int) -> str:
    return _tagged(broadcast_id, "likes")


def counts_lock_key(broadcast_id: int) -> str:
    return _tagged(broadcast_id, "counts-lock")


def present_key(broadcast_id: int) -> str:
    return _tagged(broadcast_id, "present")


def muted_customers_key(broadcast_id: int) -> str:
    return _tagged(broadcast_id, "muted-customers")


def chat_author_key(broadcast_id: int, offset: int) -> str:
    return _tagged(broadcast_id, f"chat:{offset}")


def claims_key(person: str) -> str:
    """One person's open sockets, across nodes (`person` is "<role>:<id>")."""
    return f"{{{person}}}:sockets"


def heartbeat_key(node: str) -> str:
    return f"live:node:{node}"
