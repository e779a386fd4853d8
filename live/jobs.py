"""Background jobs of live/ on the arq worker."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from attribution.wechat import WechatIdentityProvider
from live.presence import flush_stays
from live.reminder_delivery import deliver_viewer_reminders
from live.schedule_watch import watch_schedule


async def flush_viewer_stays(ctx: dict[str, Any]) -> int:
    """Finished stays from Redis into viewer_sessions, every few seconds."""
    return await flush_stays(ctx["services"])


async def watch_the_schedule(ctx: dict[str, Any]) -> int:
    """Reminders, no-show alerts and missed slots (live/schedule_watch.py), every minute; then
    the viewers' reminders go out through WeChat when a template is set."""
    services = ctx["services"]
    async with services.sessionmaker() as session:
        report = await watch_schedule(session)
    auth = services.settings.auth
    if auth.wechat_reminder_template_id:
        wechat = WechatIdentityProvider(
            auth.wechat_base_url, auth.wechat_app_id, auth.wechat_app_secret
        )
        await deliver_viewer_reminders(
            services.sessionmaker, wechat, auth.wechat_reminder_template_id
        )
    return report.count()


CRON_JOBS = [
    # unique (arq's default): one flusher at a time, which flush_stays relies on.
    cron(flush_viewer_stays, second=set(range(0, 60, 5)), run_at_startup=True),
    cron(watch_the_schedule, second=20, run_at_startup=True),
]
