"""A resume the gateway cannot trust gets one snapshot; a resume on a socket that has its
state gets an error and the socket stays open."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.live.conftest import Chain, next_frame
from tests.live.test_presence import _answers_until_pong

pytestmark = [pytest.mark.database, pytest.mark.demo]


def kinds(answer: list[dict[str, Any]]) -> list[str]:
    return [f.get("code", f["type"]) for f in answer if f["type"] not in ("counts", "stock")]


def bad_positions(case: str, own: dict[str, Any], other: dict[str, Any]) -> Any:
    if case == "another room's":
        return other
    if case == "an unknown stream besides":
        return {**own, "b999": ["abc", 1]}
    if case == "a future offset":
        return {s: [p[0], p[1] + 5] for s, p in own.items()}
    if case == "a malformed epoch":
        return {s: [12345, p[1]] for s, p in own.items()}
    return {s: ["x" * 40, p[1]] for s, p in own.items()}  # "an epoch too long"


@pytest.mark.parametrize(
    "case",
    [
        "another room's",
        "an unknown stream besides",
        "a future offset",
        "a malformed epoch",
        "an epoch too long",
    ],
)
async def test_a_resume_with_positions_it_cannot_trust_gets_one_snapshot(
    chain: Chain, case: str
) -> None:
    room, other_room = chain.store_room(0), chain.demo.hub_room_id
    own = (await chain.room(room))["streams"]
    other = (await chain.room(other_room))["streams"]
    async with chain.viewer(room, customer_id=4, resume=True) as socket:
        frame = {"type": "resume", "streams": bad_positions(case, own, other)}
        await socket.send(json.dumps(frame))
        answer = await _answers_until_pong(socket)
    assert kinds(answer) == ["snapshot"]


async def test_a_resume_after_hello_gets_an_error_and_the_socket_stays_open(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    own = (await chain.room(room))["streams"]
    async with chain.viewer(room, customer_id=4, resume=True) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await socket.send(json.dumps({"type": "resume", "streams": own}))
        answer = await _answers_until_pong(socket)
    assert kinds(answer) == ["snapshot", "already_synced"]


async def test_a_second_resume_gets_an_error_and_the_socket_stays_open(chain: Chain) -> None:
    room = chain.store_room(0)
    own = (await chain.room(room))["streams"]
    async with chain.viewer(room, customer_id=4, resume=True) as socket:
        await socket.send(json.dumps({"type": "resume", "streams": own}))
        await socket.send(json.dumps({"type": "resume", "streams": own}))
        answer = await _answers_until_pong(socket)
        assert kinds(answer) == ["resumed", "already_synced"]
        await socket.send(json.dumps({"type": "chat.send", "text": "还在吗"}))
        assert (await next_frame(socket, "chat"))["text"] == "还在吗"
