"""live/'s Redis key scheme lives in one module, as orders/keys.py does for orders/."""

from __future__ import annotations

import re
from pathlib import Path

import live
from live import keys

LIVE = Path(live.__file__).parent
KEY_LITERAL = re.compile(r"""["'](live:|room:|events:)|\{\{b\{|\{\{\{""")
"""A key prefix or a broadcast's hash tag written out in a string."""


def test_every_key_live_uses_is_named_in_live_keys() -> None:
    written_out = [
        f"{path.name}:{number}"
        for path in sorted(LIVE.glob("*.py"))
        if path.name != "keys.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if KEY_LITERAL.search(line)
    ]
    assert written_out == []


def test_a_broadcasts_keys_share_its_streams_hash_tag() -> None:
    tag = "{" + keys.stream_name(7) + "}"
    per_broadcast = [
        keys.viewers_key(7),
        keys.likes_key(7),
        keys.counts_lock_key(7),
        keys.present_key(7),
        keys.muted_customers_key(7),
        keys.chat_author_key(7, 3),
        *keys.stream_keys(keys.stream_name(7)),
    ]
    assert all(key.startswith(tag + ":") for key in per_broadcast)
    assert len(set(per_broadcast)) == len(per_broadcast)
