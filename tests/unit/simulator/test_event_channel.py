"""Event channel semantics (docs/protocol.md §7): ack/next, redelivery, resync, resume, 409."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from tests.unit.simulator.conftest import ORIGIN, Ucwa, assert_ucwa_error

pytestmark = pytest.mark.anyio


async def test_idle_poll_is_released_empty_after_the_hold(ucwa: Ucwa) -> None:
    started = time.monotonic()
    doc = await ucwa.poll()
    assert 0.15 < time.monotonic() - started < 1.0
    assert set(doc) == {"_links"}
    assert set(doc["_links"]) == {"self", "next"}


async def test_same_ack_redelivers_the_same_package(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550100")
    await asyncio.sleep(0.01)
    current = ucwa.next_url
    first = await ucwa.poll()
    assert first["sender"], "the opening events"
    again = (await ucwa.get(current)).json()
    assert again == first
    # Following `next` acknowledges it: the old ack is now outside the window -> resync.
    await ucwa.poll()
    stale = (await ucwa.get(current)).json()
    assert set(stale) == {"_links"} and set(stale["_links"]) == {"resync"}


async def test_out_of_window_ack_gets_resync_and_following_it_works(ucwa: Ucwa) -> None:
    base = ucwa.next_url.split("?")[0]
    for ack in ("999", "-3", "0"):
        doc = (await ucwa.get(f"{base}?ack={ack}")).json()
        assert list(doc["_links"]) == ["resync"]
    ucwa.next_url = doc["_links"]["resync"]["href"]
    await ucwa.call("tel:+14255550100")
    await ucwa.until(lambda e: e.rel == "phoneAudioInvitation")


async def test_events_from_several_senders_come_in_one_response(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550100")
    await asyncio.sleep(0.01)
    doc = await ucwa.poll()
    assert [s["rel"] for s in doc["sender"]] == ["communication", "conversation"]
    assert sum(len(s["events"]) for s in doc["sender"]) == 4
    # Embedding rule: invitation/conversation/phoneAudio embedded, participant events not.
    events = {e["link"]["rel"]: e for s in doc["sender"] for e in s["events"]}
    assert "_embedded" in events["phoneAudioInvitation"]
    assert "_embedded" in events["phoneAudio"]


async def test_second_poll_replaces_the_parked_one(http: httpx.AsyncClient) -> None:
    ucwa = Ucwa(http)
    await ucwa.sign_in()
    url = ucwa.next_url
    first = asyncio.create_task(ucwa.get(url))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(ucwa.get(url))
    replaced = await first
    assert_ucwa_error(replaced, 409, "Conflict", "PGetReplaced")
    assert (await second).status_code == 200


async def test_lower_priority_poll_does_not_replace_a_higher_one(http: httpx.AsyncClient) -> None:
    ucwa = Ucwa(http)
    await ucwa.sign_in()
    url = ucwa.next_url
    high = asyncio.create_task(ucwa.get(url + "&priority=5"))
    await asyncio.sleep(0.05)
    low = await ucwa.get(url + "&priority=1")
    assert_ucwa_error(low, 409, "Conflict", "PGetReplaced")
    assert (await high).status_code == 200


async def test_query_values_are_clamped_or_rejected(ucwa: Ucwa) -> None:
    url = ucwa.next_url
    ok = await ucwa.get(url + "&timeout=1&medium=-4&low=1e999&priority=-2")
    assert ok.status_code == 200
    channel_params = ok.json()["_links"]
    assert "next" in channel_params
    for bad in ("timeout=abc", "medium=nan", "priority=", "low=1e"):
        assert_ucwa_error(await ucwa.get(url + "&" + bad), 400, "BadRequest")
    base = url.split("?")[0]
    for ack in ("abc", "1.5", "9" * 40, ""):
        assert_ucwa_error(await ucwa.get(f"{base}?ack={ack}"), 400, "BadRequest")


async def test_medium_events_wait_for_company_high_ones_do_not(ucwa: Ucwa) -> None:
    mma = ucwa.link("me", "makeMeAvailable")
    body = {"supportedModalities": ["PhoneAudio"], "phoneNumber": "+14255550123"}
    assert (await ucwa.post(mma, json=body)).status_code == 204
    started = time.monotonic()
    doc = await ucwa.poll()
    assert time.monotonic() - started > 0.15  # held until the (test-capped) hold ends
    assert [s["rel"] for s in doc["sender"]] == ["communication", "me"]
    me_events = [(e["link"]["rel"], e["type"]) for e in doc["sender"][1]["events"]]
    assert me_events == [
        ("me", "updated"),
        ("presence", "added"),
        ("note", "added"),
        ("location", "added"),
    ]
    await ucwa.call("tel:+14255550100")
    started = time.monotonic()
    await ucwa.poll()
    assert time.monotonic() - started < 0.15


async def test_force_resume_drops_calls_and_answers_resume(ucwa: Ucwa, sim: Simulator) -> None:
    await ucwa.call("tel:+14255550100")
    conv = (await ucwa.until(lambda e: e.rel == "conversation")).body
    assert conv is not None
    sim.faults.force_resume()
    doc = await ucwa.poll()
    assert set(doc["_links"]) == {"self", "resume"}
    assert (await ucwa.get(conv["_links"]["self"]["href"])).status_code == 404
    doc = await ucwa.poll()  # following resume works; no events about the old call
    assert "next" in doc["_links"] and "sender" not in doc


async def test_silence_resets_state_then_deletes_the_application() -> None:
    cfg = SimConfig(speed=50, max_poll_s=0.1, state_reset_s=0.2, app_idle_limit_s=0.6)
    sim = Simulator(cfg)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        await ucwa.poll()
        await asyncio.sleep(0.3)
        assert "resume" in (await ucwa.poll())["_links"]
        await asyncio.sleep(0.7)
        response = await ucwa.get(ucwa.app["_links"]["self"]["href"])
        assert_ucwa_error(response, 404, "NotFound", "ApplicationNotFound")
    sim.close()


async def test_force_resync_answers_resync_once(ucwa: Ucwa, sim: Simulator) -> None:
    sim.faults.force_resync()
    doc = await ucwa.poll()
    assert list(doc["_links"]) == ["resync"]
    doc = await ucwa.poll()
    assert "next" in doc["_links"]


async def test_drop_loses_no_events(ucwa: Ucwa, sim: Simulator) -> None:
    parked = asyncio.create_task(ucwa.get(ucwa.next_url))
    await asyncio.sleep(0.02)
    sim.faults.drop_event_channel()
    assert_ucwa_error(await parked, 503, "ServiceUnavailable")
    sim.faults.drop_event_channel()  # nothing parked: the next one is dropped
    assert (await ucwa.get(ucwa.next_url)).status_code == 503
    await ucwa.call("tel:+14255550100")
    await ucwa.until(lambda e: e.type == "started")


async def test_stall_holds_events_back(ucwa: Ucwa, sim: Simulator) -> None:
    sim.faults.stall_events(0.3)
    await ucwa.call("tel:+14255550100")
    assert "sender" not in await ucwa.poll()
    await ucwa.until(lambda e: e.type == "started", limit=2)


async def test_expired_applications_release_parked_polls(ucwa: Ucwa, sim: Simulator) -> None:
    parked = asyncio.create_task(ucwa.get(ucwa.next_url))
    await asyncio.sleep(0.02)
    sim.faults.expire_applications()
    assert_ucwa_error(await parked, 404, "NotFound", "ApplicationNotFound")
    again = await ucwa.get(ucwa.next_url)
    assert_ucwa_error(again, 404, "NotFound", "ApplicationNotFound")


async def test_inactive_expiry_is_410(ucwa: Ucwa, sim: Simulator) -> None:
    sim.faults.expire_applications(inactive=True)
    response = await ucwa.get(ucwa.link("me", "self"))
    assert_ucwa_error(response, 410, "Gone", "InactiveApplicationExpired")


async def test_merge_mode_keeps_only_the_latest_state_per_resource() -> None:
    # A long hold so the whole call lands in one response.
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.5, merge_events=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        await ucwa.poll()
        sim.faults.stall_events(0.3)
        await ucwa.call("tel:+14255550101")  # busy
        await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")
        kinds = [(e.rel, e.type) for e in ucwa.seen]
        assert kinds == [
            ("phoneAudioInvitation", "completed"),  # started + updated + completed
            ("conversation", "added"),
            ("localParticipant", "added"),
            ("phoneAudio", "updated"),  # Connecting -> Disconnected in one
            ("conversation", "updated"),
            ("conversation", "deleted"),
        ]
        assert ucwa.last("phoneAudio").state == "Disconnected"
        assert ucwa.seen[0].raw["reason"]["subcode"] == "Busy"
    sim.close()
