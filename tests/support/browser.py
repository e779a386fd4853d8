"""Debian's Chromium driven by Playwright: launched by path, never a downloaded browser."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# The machine has no network: these keep Chromium from reaching out at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    found = shutil.which("chromium")
    return Path(found) if found else None


CHAIN_PEOPLE = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
"""Browser context options of the chain's people: Simplified Chinese, and Beijing time (their
phones' zone), so that pages and screenshots show the times they see whatever this machine's
zone."""
