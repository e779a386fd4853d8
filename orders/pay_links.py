"""Pay links: the order id plus a per-order token only this service can make.

Order ids are nearly sequential (milliseconds, a process tag, a counter), so an id alone
must not open a pay page. The link is handed out at acceptance, before the persister has
written the order row, so the token is derived rather than stored: an HMAC of the order id
under the auth secret. It is unguessable without the secret, the same on every node and
after a restart, and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

from server.settings import Settings

TOKEN_CHARS = 32
"""192 bits of the HMAC, base64url: far beyond guessing, short enough for a QR code."""


def pay_token(settings: Settings, order_id: str) -> str:
    digest = hmac.new(
        settings.auth.secret.encode(), b"pay-link\0" + order_id.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def pay_token_matches(settings: Settings, order_id: str, given: str) -> bool:
    return hmac.compare_digest(pay_token(settings, order_id).encode(), given.encode())


def sandbox_pay_url(settings: Settings, order_id: str) -> str:
    """The sandbox pay page of an order; the page asks the API as the signed-in viewer."""
    base = settings.public_url.rstrip("/")
    return f"{base}/pay/sandbox/{quote(order_id)}?pay_token={pay_token(settings, order_id)}"


def pay_url(settings: Settings, order_id: str) -> str:
    """Where an accepted order's payer goes: the sandbox's page, or nothing (WeChat Pay is
    paid from the mini-program)."""
    return (
        sandbox_pay_url(settings, order_id) if settings.orders.payment_provider == "sandbox" else ""
    )
