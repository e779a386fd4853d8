"""The schedule (排班): HQ plans, hosts propose, no host or store is booked twice at once, and
the watch reminds before go-live, alerts HQ of a no-show and marks a slot that never went live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from live.schedule_watch import watch_schedule
from server.auth import Role
from tests.live.conftest import Chain

pytestmark = [pytest.mark.database, pytest.mark.demo]

SLOT_DAY = (datetime.now(UTC) + timedelta(days=10)).replace(
    hour=11, minute=0, second=0, microsecond=0
)
"""19:00 in Beijing ten days from now: past the week the demo books."""


def at(hours: float) -> str:
    return (SLOT_DAY + timedelta(hours=hours)).isoformat()


def store_slot(chain: Chain, n: int, start: float, end: float, **more: Any) -> dict[str, Any]:
    staff_id, store_id, _ = chain.demo.hosts[n]
    return {
        "kind": "store",
        "title": "门店专场",
        "store_id": store_id,
        "host_id": staff_id,
        "starts_at": at(start),
        "ends_at": at(end),
        **more,
    }


async def slots(chain: Chain, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = await chain.http.get(
        "/api/schedule", params={"from": at(-24), "to": at(48)}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def test_an_overlapping_slot_for_the_same_store_is_refused_naming_the_conflict(
    chain: Chain,
) -> None:
    first = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 0, 2), headers=chain.hq
    )
    assert first.status_code == 201, first.text
    assert (first.json()["approval"], first.json()["status"]) == ("approved", "scheduled")
    before = await slots(chain, chain.hq)

    clash = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 1, 3, host_id=None), headers=chain.hq
    )

    assert clash.status_code == 409
    assert f"#{first.json()['id']}" in clash.json()["detail"]
    assert "same store" in clash.json()["detail"]
    assert await slots(chain, chain.hq) == before
    after = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 2, 3), headers=chain.hq
    )
    assert after.status_code == 201  # end to end is no overlap


async def test_one_host_cannot_host_two_hub_slots_at_once(chain: Chain) -> None:
    hub = {"kind": "hub", "title": "总部直播", "host_id": chain.demo.hq_staff_id}
    first = await chain.http.post(
        "/api/schedule", json={**hub, "starts_at": at(0), "ends_at": at(2)}, headers=chain.hq
    )
    assert first.status_code == 201
    clash = await chain.http.post(
        "/api/schedule", json={**hub, "starts_at": at(1.5), "ends_at": at(4)}, headers=chain.hq
    )
    assert clash.status_code == 409 and "same host" in clash.json()["detail"]


async def test_a_host_proposes_a_slot_that_goes_live_only_once_hq_approves(chain: Chain) -> None:
    host = chain.host(0)
    proposal = store_slot(chain, 0, 5, 6, host_id=None)
    proposed = await chain.http.post("/api/schedule", json=proposal, headers=host)
    assert proposed.status_code == 201, proposed.text
    slot = proposed.json()
    assert (slot["approval"], slot["host_id"]) == ("proposed", chain.demo.hosts[0][0])

    early = await chain.http.post(f"/api/broadcasts/{slot['id']}/live", headers=host)
    assert early.status_code == 409

    approved = await chain.http.post(f"/api/schedule/{slot['id']}/approve", headers=chain.hq)
    assert approved.json()["approval"] == "approved"
    assert (
        await chain.http.post(f"/api/broadcasts/{slot['id']}/live", headers=host)
    ).status_code == 200


async def test_a_host_sees_their_store_and_the_hub_but_not_other_stores(chain: Chain) -> None:
    mine = await chain.http.post("/api/schedule", json=store_slot(chain, 0, 0, 1), headers=chain.hq)
    theirs = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 1, 0, 1), headers=chain.hq
    )
    seen = {slot["id"] for slot in await slots(chain, chain.host(0))}
    assert mine.json()["id"] in seen and theirs.json()["id"] not in seen


async def test_only_hq_approves_and_a_host_plans_only_for_their_own_store(chain: Chain) -> None:
    proposed = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 8, 9, host_id=None), headers=chain.host(0)
    )
    slot = proposed.json()["id"]
    guide_id, store_id, _ = chain.demo.guides[0]
    guide = {"Authorization": f"Bearer {chain.token_for(Role.GUIDE, guide_id, store_id)}"}
    viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 3)}"}
    for headers in (chain.host(0), chain.host(1), guide, viewer):
        assert (
            await chain.http.post(f"/api/schedule/{slot}/approve", headers=headers)
        ).status_code == 403
    for headers in (guide, viewer):
        assert (await chain.http.get("/api/schedule/notices", headers=headers)).status_code == 403
    foreign = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 1, 8, 9, host_id=None), headers=chain.host(0)
    )
    assert foreign.status_code == 403
    moved = await chain.http.patch(
        f"/api/schedule/{slot}",
        json={"starts_at": at(10), "ends_at": at(11)},
        headers=chain.host(1),
    )
    assert moved.status_code == 404


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"ends_at": at(-1)}, "ends after it starts"),
        ({"starts_at": at(-24 * 11), "ends_at": at(-24 * 11 + 1)}, "in the past"),
        ({"ends_at": at(13)}, "at most 12 hours"),
        ({"store_id": 999_999}, "no store 999999"),
        ({"host_id": 999_999}, "no member of staff 999999"),
        ({"relays_id": 999_999}, "not a hub broadcast"),
    ],
)
async def test_a_bad_slot_is_a_400_that_plans_nothing(
    chain: Chain, change: dict[str, Any], says: str
) -> None:
    before = await slots(chain, chain.hq)
    answer = await chain.http.post(
        "/api/schedule", json={**store_slot(chain, 0, 0, 2), **change}, headers=chain.hq
    )
    assert answer.status_code == 400
    assert says in answer.json()["detail"]
    assert await slots(chain, chain.hq) == before


async def test_a_host_of_another_store_cannot_be_booked_for_this_one(chain: Chain) -> None:
    other_host = chain.demo.hosts[1][0]
    answer = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 0, 2, host_id=other_host), headers=chain.hq
    )
    assert answer.status_code == 400 and "another store" in answer.json()["detail"]


async def test_reminders_before_go_live_then_a_no_show_alert_then_missed(chain: Chain) -> None:
    planned = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 0, 2), headers=chain.hq
    )
    slot = planned.json()["id"]
    viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 3)}"}
    for _ in range(2):  # subscribing twice is one subscription
        subscribed = await chain.http.post(f"/api/broadcasts/{slot}/subscribe", headers=viewer)
        assert subscribed.status_code == 204

    async def watch(minutes_from_start: float) -> tuple[int, ...]:
        async with chain.services.sessionmaker() as session:
            report = await watch_schedule(session, SLOT_DAY + timedelta(minutes=minutes_from_start))
        # The demo's own broadcasts go by too; this test follows its slot.
        return tuple(ids.count(slot) for ids in (report.reminded, report.no_shows, report.missed))

    assert await watch(-45) == (0, 0, 0)  # too early to remind
    assert await watch(-20) == (2, 0, 0)  # the host and the subscribed viewer
    assert await watch(-10) == (0, 0, 0)  # once each
    assert await watch(4) == (0, 0, 0)  # the host has five minutes
    assert await watch(6) == (0, 1, 0)
    assert await watch(7) == (0, 0, 0)
    assert await watch(121) == (0, 0, 1)

    [missed] = [s for s in await slots(chain, chain.hq) if s["id"] == slot]
    assert missed["status"] == "missed"
    hq_notices = (await chain.http.get("/api/schedule/notices", headers=chain.hq)).json()
    assert [n["kind"] for n in hq_notices if n["broadcast_id"] == slot] == ["missed", "no_show"]
    host_notices = (await chain.http.get("/api/schedule/notices", headers=chain.host(0))).json()
    assert {n["kind"] for n in host_notices if n["broadcast_id"] == slot} == {
        "host_reminder",
        "no_show",
        "missed",
    }
    other_host = (await chain.http.get("/api/schedule/notices", headers=chain.host(1))).json()
    assert [n for n in other_host if n["broadcast_id"] == slot] == []
    late = await chain.http.post(f"/api/broadcasts/{slot}/live", headers=chain.host(0))
    assert late.status_code == 409
