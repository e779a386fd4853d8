"""The room socket's group frame: `group.place` opens or joins a group from a live room, on the
same intake as the HTTP routes; the answer is `group.placed` or `group.rejected`, matched by the
client through its idempotency key."""

from __future__ import annotations

from orders.groups import GroupOrder, join_group, open_group, share_path_of
from orders.groups_schemas import GroupPlace, GroupPlaced, GroupRejected
from orders.intake import IntakeRequest, OrderIntake
from orders.pay_links import pay_url
from orders.rooms_port import SellingRoom
from server.auth import Principal, Role
from server.services import Services


def placed_reply(services: Services, key: str, placed: GroupOrder, share_path: str) -> GroupPlaced:
    return GroupPlaced(
        idempotency_key=key,
        group_id=placed.group_id,
        order_id=placed.order.order_id,
        amount_due_fen=placed.order.amount_fen,
        pay_by=placed.order.pay_by_iso,
        pay_url=pay_url(services.settings, placed.order.order_id),
        share_path=share_path,
    )


async def handle_group_frame(
    intake: OrderIntake, principal: Principal, room: SellingRoom, frame: GroupPlace
) -> GroupPlaced | GroupRejected:
    """The live gateway calls this for every group.place it lets through its rate limit."""
    services = intake.services
    key = frame.idempotency_key
    if principal.role is not Role.VIEWER:
        return GroupRejected(key, "forbidden", "only customers join groups")
    request = IntakeRequest(
        customer_id=principal.sub,
        deal_id=frame.deal_id,
        quantity=1,
        idempotency_key=key,
        broadcast_id=room.broadcast_id,
        hub_broadcast_id=room.hub_broadcast_id,
        room_store_id=room.store_id,
    )
    if frame.group_id is None:
        placed = await open_group(intake, request, frame.share_code)
    else:
        placed = await join_group(intake, request, frame.group_id)
    if not isinstance(placed, GroupOrder):
        return GroupRejected(key, placed.reason, placed.detail)
    share_path = await share_path_of(services, frame.deal_id, placed.group_id)
    return placed_reply(services, key, placed, share_path)
