"""The refund outbox's sender: money the database decided to give back goes to the provider
after the deciding transaction committed, and again until the provider confirms.

Rows are written by the payment and refund transactions (orders/payments.py,
orders/refunds.py). The worker's cron calls `send_due_refunds` every few seconds. Two workers
may send the same row at once: the provider deduplicates by refund id (WeChat Pay's
out_refund_no), so the money still goes back once.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select, update

from orders.models import RefundRequest
from orders.payments import PaymentProvider
from server.model_base import utcnow
from server.services import Services

log = structlog.get_logger()

BATCH = 100
MAX_BACKOFF_S = 300
"""A provider down for hours is retried every five minutes, not hammered."""
ALERT_AFTER = 8
"""Failed sends (~4 minutes of backoff) after which every further failure is an error line, the
alert operators watch: money must not wait for a person without one."""


def backoff_s(attempts: int) -> int:
    return min(2**attempts, MAX_BACKOFF_S)


async def send_due_refunds(services: Services, provider: PaymentProvider) -> int:
    """Send every unconfirmed refund that is due; returns how many the provider confirmed."""
    async with services.sessionmaker() as session:
        due = list(
            await session.scalars(
                select(RefundRequest)
                .where(
                    RefundRequest.confirmed_at.is_(None),
                    RefundRequest.next_attempt_at <= utcnow(),
                )
                .order_by(RefundRequest.next_attempt_at)
                .limit(BATCH)
            )
        )
    confirmed = 0
    for request in due:
        try:
            await provider.refund(request.order_id, request.id, request.amount_fen)
        except Exception as exc:
            attempts = request.attempts + 1
            report = log.error if attempts >= ALERT_AFTER else log.warning
            report(
                "orders.refund_send_failed", refund_id=request.id, attempts=attempts, error=str(exc)
            )
            values: dict[str, object] = {
                "attempts": attempts,
                "next_attempt_at": utcnow() + timedelta(seconds=backoff_s(attempts)),
                "last_error": str(exc)[:200],
            }
        else:
            confirmed += 1
            values = {"attempts": request.attempts + 1, "confirmed_at": utcnow()}
        async with services.sessionmaker() as session, session.begin():
            await session.execute(
                update(RefundRequest)
                .where(RefundRequest.id == request.id, RefundRequest.confirmed_at.is_(None))
                .values(**values)
            )
    return confirmed
