"""The ready words a guide copies for each kind of task, in Chinese and English."""

from __future__ import annotations

from attribution.followups_schemas import TaskKind


def broadcast_script(kind: str, nickname: str, ordered: list[str], minutes: int) -> tuple[str, str]:
    """(zh, en) for a watched, ordered-unpaid or re-touch task: names what the customer did."""
    name = nickname or "亲"
    name_en = nickname or "there"
    if kind == TaskKind.ORDERED_UNPAID and ordered:
        items = "、".join(ordered[:3])
        items_en = ", ".join(ordered[:3])
        return (
            f"{name}您好，我是您的专属导购。看到您在直播间下单了{items}还没有付款，"
            "直播价还为您保留着，需要我帮您留尺码或者到店试穿吗？",
            f"Hi {name_en}, this is your personal stylist. You ordered {items_en} in the live "
            "room but have not paid yet; the live price is still held for you. Shall I keep "
            "your size or book a fitting in store?",
        )
    if kind == TaskKind.RETOUCH:
        return (
            f"{name}您好，我是您的专属导购。上次和您聊过之后，店里到了几款新品，"
            "也有会员专享的优惠，想给您发几张图看看吗？",
            f"Hi {name_en}, this is your personal stylist again. Since we last spoke, a few new "
            "pieces and a members' offer came in. May I send you photos?",
        )
    watched = f"，看了{minutes}分钟" if minutes else ""
    watched_en = f" for {minutes} minutes" if minutes else ""
    return (
        f"{name}您好，我是您的专属导购。感谢您来看我们的直播{watched}！"
        "有看中的款式吗？我可以帮您留货、发细节图，或者约您到店试穿。",
        f"Hi {name_en}, this is your personal stylist. Thank you for watching our live show"
        f"{watched_en}! Did anything catch your eye? I can hold a piece, send close-ups or "
        "book you a fitting in store.",
    )
