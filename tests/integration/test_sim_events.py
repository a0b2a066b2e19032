"""The event channel: next/ack, redelivery, PGetReplaced, resync, resume (docs/protocol.md §7)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.simulator import SimConfig
from tests.helpers.ucwa_walker import (
    EVENT_TYPES,
    error_body,
    first,
    inv_completed,
    link,
    walker,
)

pytestmark = pytest.mark.anyio

MAX_POLL_S = 0.25


@pytest.fixture
def sim_config() -> SimConfig:
    # Idle polls are released after 0.25 s so the tests that walk several packages stay quick.
    return SimConfig(speed=50, max_poll_s=MAX_POLL_S)


async def test_idle_poll_is_released_with_self_and_next_only(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        started = time.monotonic()
        resp = await w.pget()
        elapsed = time.monotonic() - started
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/json")
        doc = resp.json()
        assert {"self", "next"} <= set(doc["_links"]), doc
        assert not doc.get("sender"), doc
        assert link(doc, "next") != link(doc, "self")
        # The test cap holds the poll a while but never near `timeout` (180 s).
        assert MAX_POLL_S * 0.8 < elapsed < 3.0, elapsed


async def test_following_next_keeps_the_channel_going(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        seen = set()
        for _ in range(3):
            await w.poll_once(timeout=180)
            seen.add(w.next_url)
        assert len(seen) == 3


async def test_call_events_have_the_documented_structure(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_for(inv_completed)
        bodies = [b for b in w.bodies if b.get("sender")]
        assert bodies
        for body in bodies:
            assert {"self", "next"} <= set(body["_links"]), body["_links"]
            for sender in body["sender"]:
                assert sender["rel"] in {"communication", "conversation", "me", "people"}
                assert isinstance(sender["href"], str) and sender["href"]
                assert isinstance(sender["events"], list) and sender["events"]
                for ev in sender["events"]:
                    assert ev["type"] in EVENT_TYPES, ev
                    assert ev["link"]["rel"] and ev["link"]["href"], ev
                    for rel in ev.get("_embedded", {}):
                        assert rel == ev["link"]["rel"], ev
        inv = [e for e in w.events if e.rel == "phoneAudioInvitation"]
        assert inv and all(e.embedded for e in inv), "operation events must always embed"
        assert all(e.sender == "communication" for e in inv)
        assert all(
            e.sender == "conversation" for e in w.events if e.rel in ("phoneAudio", "participant")
        )


async def test_repeating_the_same_ack_redelivers_the_same_events(
    sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_event("phoneAudioInvitation", "started")
        await w.stop_polling()
        # Wait until the call is fully up so the next package is not still growing.
        await asyncio.sleep(0.4)
        url = w.next_url
        first_try = await w.pget(url)
        assert first_try.status_code == 200
        again = await w.pget(url)
        assert again.status_code == 200
        assert again.json().get("sender") == first_try.json().get("sender")
        assert first_try.json().get("sender"), "expected the call's later events"
        # Following next continues after them: nothing is delivered twice.
        w.absorb(again.json())
        later = await w.pget()
        assert later.status_code == 200
        assert later.json().get("sender") != first_try.json().get("sender")


async def test_second_poll_with_same_ack_replaces_the_first(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        url = w.next_url
        parked = asyncio.create_task(w.pget(url, timeout=180))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(w.pget(url, timeout=180))
        old = await asyncio.wait_for(parked, 3)
        assert old.status_code == 409
        err = error_body(old)
        assert (err["code"], err.get("subcode")) == ("Conflict", "PGetReplaced")
        new = await asyncio.wait_for(second, 3)
        assert new.status_code == 200


async def test_lower_priority_poll_never_replaces_a_higher_one(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        url = w.next_url
        high = asyncio.create_task(w.pget(url, priority=5))
        await asyncio.sleep(0.1)
        low = await asyncio.wait_for(w.pget(url, priority=1), 3)
        assert low.status_code == 409
        assert error_body(low).get("subcode") == "PGetReplaced"
        kept = await asyncio.wait_for(high, 3)
        assert kept.status_code == 200


@pytest.mark.parametrize("ack", ["0", "999999"])
async def test_ack_outside_the_window_gets_resync_only(
    sim_server, sim_credentials, ack: str
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.poll_once()
        stale = str(httpx.URL(str(w.next_url)).copy_set_param("ack", ack))
        resp = await w.pget(stale)
        assert resp.status_code == 200
        doc = resp.json()
        assert set(doc) == {"_links"}, doc
        assert set(doc["_links"]) == {"resync"}, doc
        follow = await w.pget(w.url(doc["_links"]["resync"]["href"]))
        assert follow.status_code == 200
        assert "next" in follow.json()["_links"]


async def test_forced_resync_is_followed_without_losing_events(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.poll_once()
        sim.faults.force_resync()
        resp = await w.pget()
        assert resp.status_code == 200
        assert set(resp.json()["_links"]) == {"resync"}, resp.json()
        w.absorb(resp.json())
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_for(inv_completed)
        assert first(w.events, "phoneAudioInvitation", "started")


async def test_forced_resume_drops_calls_and_offers_resume(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call()).status_code == 201
        done = await w.wait_event("phoneAudioInvitation", "completed")
        conv = link(done.body, "conversation")
        assert conv
        sim.faults.force_resume()
        await w.wait_for(lambda _: any("resume" in b["_links"] for b in w.bodies))
        doc = next(b for b in w.bodies if "resume" in b["_links"])
        assert "next" not in doc["_links"], doc
        assert "resync" not in doc["_links"], doc
        # Transient state was dropped silently: the conversation is gone, with no events.
        after = w.events[w.events.index(done) + 1 :]
        assert first(after, "conversation", "deleted") is None
        gone = await w.get(conv)
        assert gone.status_code == 404
        assert error_body(gone)["code"] == "NotFound"
        listed = await w.get_json(w.communication_link("conversations"))
        assert not listed.get("_links", {}).get("conversation")
        # The application survived and the channel carries on from the resume URL.
        await w.stop_polling()
        await w.poll_once()
        assert (await w.get(str(w.app_url))).status_code == 200


@pytest.mark.parametrize("abandoned_poll_parked", [True, False])
async def test_resume_is_redelivered_when_its_response_is_lost(
    sim, sim_server, sim_credentials, abandoned_poll_parked: bool
) -> None:
    """Exactly-once: re-asking the same ack repeats the package.

    docs/protocol.md §7.1, §7.6 and §11 check 17.
    """
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_event("phoneAudioInvitation", "completed")
        # The client abandons its parked poll (e.g. its network changed) and polls again.
        await w.stop_polling()
        if not abandoned_poll_parked:
            await asyncio.sleep(MAX_POLL_S * 1.6)  # the server released the abandoned poll
        sim.faults.force_resume()
        resp = await w.pget()
        assert resp.status_code == 200
        assert "resume" in resp.json()["_links"], resp.json()
        # That response is lost on the wire too. Asking the same URL again must not lose the
        # reset: either the same package (docs/protocol.md §7.6, bookkeeping) or a resync leading
        # to it.
        again = await w.pget()
        assert again.status_code == 200
        if again.json() != resp.json():
            assert set(again.json()["_links"]) == {"resync"}, again.json()
            follow = await w.pget(w.url(again.json()["_links"]["resync"]["href"]))
            assert follow.status_code == 200
            assert "resume" in follow.json()["_links"], follow.json()


async def test_poll_on_deleted_application_is_404(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        assert (await w.request("DELETE", str(w.app_url))).status_code == 204
        resp = await w.pget()
        assert resp.status_code == 404
        assert error_body(resp).get("subcode") == "ApplicationNotFound"


async def test_parked_poll_is_released_promptly_by_a_high_event(
    sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.poll_once()
        poll = asyncio.create_task(w.pget(timeout=180))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        assert (await w.start_call()).status_code == 201
        resp = await asyncio.wait_for(poll, 3)
        assert resp.status_code == 200
        assert resp.json().get("sender"), "released without the invitation events"
        assert time.monotonic() - started < 0.3
