"""The room socket's protocol: one tagged union per direction, JSON on the wire.

Room events (everything a room's viewers all see) carry `stream` (the broadcast whose
history they belong to) and `offset` (their place in that history). A store room that
relays the hub reads two streams: the hub's and its own. Replies to one viewer (`error`,
`pong`, the order replies) carry no offset.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from orders.groups_schemas import GroupPlace, GroupPlaced, GroupRejected
from orders.schemas import DealView, OrderAccepted, OrderPlace, OrderRejected
from server.bounds import NO_NUL, Id, Int32, StreamOffset, Text16


class Frame(msgspec.Struct, tag_field="type", omit_defaults=True):
    pass


# ---- client to server ------------------------------------------------------------------


class StreamPosition(msgspec.Struct, array_like=True):
    """On the wire an `[epoch, offset]` pair."""

    epoch: Annotated[str, msgspec.Meta(max_length=32)]
    offset: StreamOffset


class Hello(Frame, tag="hello", forbid_unknown_fields=True):
    pass


class Resume(Frame, tag="resume", forbid_unknown_fields=True):
    """The first frame of a socket opened with `?resume=1`: answered by the missed events or
    by one snapshot, never both."""

    streams: Annotated[dict[Text16, StreamPosition], msgspec.Meta(max_length=8)]
    """Last seen position per stream id ("b1", "b2"...)."""


class Like(Frame, tag="like", forbid_unknown_fields=True):
    count: Int32 = 1
    """The gateway takes 1-50 and says so in a `bad_like` error."""


class ChatSend(Frame, tag="chat.send", forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(pattern=NO_NUL)]
    """The gateway takes 1-200 characters once trimmed and says so in a `bad_chat` error."""


class Tap(Frame, tag="tap", forbid_unknown_fields=True):
    item_id: Id


class Ping(Frame, tag="ping", forbid_unknown_fields=True):
    pass


ClientFrame = Hello | Resume | Like | ChatSend | Tap | Ping | OrderPlace | GroupPlace


# ---- server to client ------------------------------------------------------------------


class WindowItemView(msgspec.Struct, omit_defaults=True):
    item_id: int
    product_id: int
    name: str
    name_en: str
    image_url: str
    list_price_fen: int
    price_fen: int
    position: int
    store_only: bool = False
    deal_id: int | None = None


class BroadcastView(msgspec.Struct):
    id: int
    kind: str
    title: str
    status: str
    play_url: str
    replay_url: str
    poster_url: str
    scheduled_start_ms: int
    started_ms: int | None
    ended_ms: int | None


class Snapshot(Frame, tag="snapshot"):
    room_id: int
    store_id: int | None
    broadcast: BroadcastView
    window: list[WindowItemView]
    """The hub's items, then the store's; a page shows them minus `hidden_item_ids`."""
    hidden_item_ids: list[int]
    """Hub items this store hides (sent so its host can show them again)."""
    deals: dict[int, DealView]
    """The deals linked to the window's items, by deal id."""
    on_air_item_id: int | None
    """What the room presents now: the store's choice, else the hub's."""
    on_air_by_stream: dict[str, int]
    """Each stream's own choice, hidden or not (an unhide shows it again), so a later hub
    `window.on_air` cannot override the store's."""
    viewers: int
    likes: int
    streams: dict[str, StreamPosition]
    """Where each stream stood when the snapshot was taken; resume from here."""
    server_time_ms: int
    """The server's clock, so every countdown on every phone ends at the same instant."""
    hub_broadcast: BroadcastView | None = None
    """A store room relaying the hub: the hub's broadcast (its `broadcast.state` frames
    update it). While it is live and the store's own is not, the room plays the hub's."""


class RoomEvent(Frame):
    stream: str = ""
    offset: int = 0


class WindowChanged(RoomEvent, tag="window.changed", kw_only=True):
    """The part of the window one stream owns changed: all of that part (live/window.py).

    On the hub's stream: the hub's items and on-air choice, for every relaying room. On a
    store's stream: the store-only items, the hub items the store hides and the store's
    on-air choice. See docs/protocol.md for the merge."""

    items: list[WindowItemView]
    hidden_item_ids: list[int]
    """Required, so an empty list is sent rather than omitted: it empties the client's list."""
    on_air_item_id: int | None
    """This stream's own on-air choice; required, so `null` is sent: it clears the choice."""


class DealChanged(RoomEvent, tag="deal"):
    """A deal was launched, stopped, ended or got stock: its whole state."""

    deal: DealView | None = None


class Stock(RoomEvent, tag="stock"):
    """Units left of a deal: absolute, coalesced, no offset (a stale one is harmless)."""

    deal_id: int = 0
    stock_left: int = 0


class Ticker(RoomEvent, tag="ticker"):
    """ "林** just bought ...": a masked name only, never who exactly. No offset."""

    name: str = ""
    store_name: str = ""
    product_name: str = ""


class OnAir(RoomEvent, tag="window.on_air"):
    item_id: int | None = None


class Counts(RoomEvent, tag="counts"):
    viewers: int = 0
    likes: int = 0


class Chat(RoomEvent, tag="chat"):
    name: str = ""
    """Masked (林**), or 主播 / 总部 for the room's host / HQ; the author stays on the server,
    hosts mute or hide by the line's offset."""
    text: str = ""


class ChatHidden(RoomEvent, tag="chat.hidden"):
    """The host or HQ hid the chat line at `line_offset` of this stream: drop it."""

    line_offset: int = 0


class BroadcastState(RoomEvent, tag="broadcast.state"):
    """A broadcast went live, ended, or got its play or replay URL. A store room also hears
    the hub's: compare `broadcast.id` with its own."""

    broadcast: BroadcastView | None = None


class Resumed(Frame, tag="resumed"):
    """Ends the answer to a `resume` that was a replay: `events` frames came before it. (The
    other answer is a `snapshot`.)"""

    events: int


class Error(Frame, tag="error"):
    code: str
    message: str


class Pong(Frame, tag="pong"):
    server_time_ms: int


ServerFrame = (
    Snapshot
    | WindowChanged
    | OnAir
    | DealChanged
    | Stock
    | Ticker
    | Counts
    | Chat
    | ChatHidden
    | BroadcastState
    | Resumed
    | Error
    | Pong
    | OrderAccepted
    | OrderRejected
    | GroupPlaced
    | GroupRejected
)

client_decoder = msgspec.json.Decoder(ClientFrame)
encoder = msgspec.json.Encoder()
