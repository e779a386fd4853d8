"""What of a customer may be shown to whom."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****5678: enough for a guide to recognise a customer, not enough to dial."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(nickname: str) -> str:
    """王** for the "just bought" ticker: the family name, the rest hidden."""
    return f"{nickname[:1]}**" if nickname else "**"
