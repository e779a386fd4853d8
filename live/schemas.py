"""Wire types of live/'s HTTP endpoints: what host controls take and return. (The room
socket's frames are in live/protocol.py.)"""

from __future__ import annotations

from typing import Annotated

import msgspec

from server.bounds import Id, Int32, StreamOffset, Text500


class ClientConfig(msgspec.Struct):
    ws_url: str


class OnAirChange(msgspec.Struct, forbid_unknown_fields=True):
    item_id: Id | None


class MuteChatter(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: Id | None = None
    """A customer's id (never a staff member's: staff lines are hidden, not muted)."""
    chat_offset: StreamOffset | None = None
    """The offset of a customer's chat line on this broadcast's stream: (un)mute its author."""


class ChatLine(msgspec.Struct, forbid_unknown_fields=True):
    chat_offset: StreamOffset
    """The offset of a chat line, anyone's, on this broadcast's stream."""


class MediaChange(msgspec.Struct, forbid_unknown_fields=True):
    play_url: Text500 | None = None
    """HLS (.m3u8) or FLV URL from the media server; absent keeps, "" clears."""
    replay_url: Text500 | None = None


class WindowItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    product_id: Id
    price_fen: Int32
    """Checked by the window (1 fen to one million yuan), which says so in its own words."""


class WindowItemUpdate(msgspec.Struct, forbid_unknown_fields=True):
    price_fen: Int32 | msgspec.UnsetType = msgspec.UNSET
    deal_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    """A deal of the same product sold in this broadcast; null unlinks; absent keeps."""


class WindowItemRead(msgspec.Struct):
    item_id: int
    product_id: int
    price_fen: int
    position: int
    deal_id: int | None


class WindowOrder(msgspec.Struct, forbid_unknown_fields=True):
    item_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)]


class HiddenChange(msgspec.Struct, forbid_unknown_fields=True):
    item_id: Id
    hidden: bool = True


class BroadcastStatus(msgspec.Struct):
    id: int
    status: str
