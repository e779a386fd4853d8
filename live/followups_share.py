"""A guide's share link for the workbench: their store's room (tonight's broadcast, else the
latest) carrying their share code, and its QR code drawn server-side by segno as SVG. It lives
in live/ because the room is live's; the guide and the code are attribution's."""

from __future__ import annotations

import segno
from litestar import Controller, get
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_queue import guide_share
from attribution.followups_schemas import ShareCard
from live.models import Broadcast, BroadcastStatus, Room
from server.auth import Principal, Role, allow
from server.errors import NotFound
from server.services import Services


class NoSuchGuide(NotFound):
    pass


async def store_room(session: AsyncSession, store_id: int) -> int | None:
    """The room to share: the store's live or next broadcast's, else its latest."""
    rows = await session.execute(
        select(Room.id, Broadcast.status)
        .join(Broadcast, Broadcast.id == Room.broadcast_id)
        .where(Room.store_id == store_id)
        .order_by(Broadcast.scheduled_start_at.desc())
    )
    found = rows.all()
    for room_id, status in found:
        if status != BroadcastStatus.ENDED:
            return int(room_id)
    return int(found[0][0]) if found else None


def qr_svg(url: str) -> str:
    """The link as an SVG QR code to inline in a page: no XML declaration, and a viewBox
    instead of a size, so the page sizes it."""
    return str(segno.make(url, error="m").svg_inline(border=2, omitsize=True))


class GuideShareController(Controller):
    path = "/api/guides/me"
    tags = ["followups"]  # noqa: RUF012

    @get("/share", opt=allow(Role.GUIDE))
    async def share(self, db: AsyncSession, caller: Principal, services: Services) -> ShareCard:
        """My share link into my store's room and its QR code: a viewer entering through it
        is bound to me."""
        found = await guide_share(db, caller.sub)
        if found is None:
            raise NoSuchGuide("no such guide")
        code, store_id = found
        room = await store_room(db, store_id)
        url = f"{services.settings.public_url.rstrip('/')}/static/room.html?"
        url += f"room={room}&share={code}" if room else f"share={code}"
        return ShareCard(share_code=code, url=url, qr_svg=qr_svg(url))
