"""Conformance: fault injection (README.md) — forced statuses, stalls, drops, expiry, latency."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.simulator import SimConfig
from tests.helpers.ucwa_walker import (
    ACCEPT,
    error_body,
    first,
    inv_completed,
    link,
    walker,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def sim_config() -> SimConfig:
    # Idle polls come back after 0.25 s: several tests poll past an injected fault.
    return SimConfig(speed=50, max_poll_s=0.25)


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, "Conflict"), (410, "Gone"), (500, "ServiceFailure"), (503, "ServiceUnavailable")],
)
async def test_forced_status_hits_the_next_matching_request_once(
    sim, sim_server, sim_credentials, status: int, code: str
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        me = str(link(w.embedded("me"), "self"))
        sim.faults.force_status("/me", status)
        resp = await w.get(me)
        assert resp.status_code == status
        assert error_body(resp)["code"] == code
        assert (await w.get(me)).status_code == 200


async def test_forced_503_carries_retry_after(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status("communication", 503, retry_after=2)
        resp = await w.get(w.communication_link("self"))
        assert resp.status_code == 503
        assert resp.headers.get("retry-after") == "2"
        assert error_body(resp)["code"] == "ServiceUnavailable"


async def test_forced_status_honours_count_method_code_and_subcode(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status(
            "/", 410, count=2, method="GET", code="Gone", subcode="InactiveApplicationExpired"
        )
        for _ in range(2):
            resp = await w.get(str(w.app_url))
            assert resp.status_code == 410
            err = error_body(resp)
            assert (err["code"], err.get("subcode")) == ("Gone", "InactiveApplicationExpired")
        assert (await w.get(str(w.app_url))).status_code == 200


async def test_forced_status_skips_other_methods(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status("makeMeAvailable", 500, method="POST")
        mma = str(link(w.embedded("me"), "makeMeAvailable"))
        assert (await w.get(str(link(w.embedded("me"), "self")))).status_code == 200
        resp = await w.post(
            mma, {"supportedModalities": ["PhoneAudio"], "phoneNumber": "+14255550123"}
        )
        assert resp.status_code == 500


async def test_forced_401_carries_the_challenge(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status("/me", 401)
        resp = await w.get(str(link(w.embedded("me"), "self")))
        assert resp.status_code == 401
        assert w.challenge_of(resp).token_url


async def test_forced_status_on_the_event_channel(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status("events", 503, retry_after=1)
        resp = await w.pget()
        assert resp.status_code == 503 and resp.headers.get("retry-after") == "1"
        # The same URL is still valid afterwards: nothing was acknowledged.
        assert (await w.pget()).status_code == 200


async def test_clear_removes_pending_faults(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.force_status("/", 500, count=10)
        sim.faults.add_latency(1.0)
        sim.faults.clear()
        started = time.monotonic()
        assert (await w.get(str(w.app_url))).status_code == 200
        assert time.monotonic() - started < 0.5


async def test_expired_tokens_get_the_challenge_and_a_new_grant_keeps_the_app(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.poll_once()
        ack_url = w.next_url
        old = w.auth
        sim.faults.expire_tokens()
        for href in (str(w.app_url), str(ack_url)):
            resp = await w.get(href)
            assert resp.status_code == 401, href
            challenge = w.challenge_of(resp)
        await w.grant(challenge)
        assert w.auth != old
        # Same application, same event position; calls work again.
        assert (await w.get(str(w.app_url))).status_code == 200
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_for(inv_completed)
        assert first(w.events, "phoneAudioInvitation", "started") is not None
        # The old token stays dead.
        resp = await w.http.get(str(w.app_url), headers={**ACCEPT, "Authorization": str(old)})
        assert resp.status_code == 401


async def test_expired_applications_are_not_found_and_can_be_recreated(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        old_app, old_events = str(w.app_url), str(w.next_url)
        sim.faults.expire_applications()
        for href in (old_app, old_events, w.communication_link("self")):
            resp = await w.get(href)
            assert resp.status_code == 404, href
            err = error_body(resp)
            assert (err["code"], err.get("subcode")) == ("NotFound", "ApplicationNotFound")
        await w.create_application()
        assert w.app_url != old_app
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_for(inv_completed)


async def test_inactive_expiry_is_410_and_never_404(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        poll = asyncio.create_task(w.pget(timeout=180))
        await asyncio.sleep(0.1)
        sim.faults.expire_applications(inactive=True)
        for resp in (await asyncio.wait_for(poll, 3), await w.get(str(w.app_url))):
            assert resp.status_code == 410
            err = error_body(resp)
            assert (err["code"], err.get("subcode")) == ("Gone", "InactiveApplicationExpired")
        await w.create_application()
        assert (await w.get(str(w.app_url))).status_code == 200


async def test_expire_applications_releases_a_parked_poll_with_404(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        poll = asyncio.create_task(w.pget(timeout=180))
        await asyncio.sleep(0.1)
        sim.faults.expire_applications()
        resp = await asyncio.wait_for(poll, 3)
        assert resp.status_code == 404
        assert error_body(resp).get("subcode") == "ApplicationNotFound"


async def test_latency_delays_every_response(sim, sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        sim.faults.add_latency(0.3)
        started = time.monotonic()
        assert (await w.get(str(w.app_url))).status_code == 200
        assert time.monotonic() - started >= 0.29
        sim.faults.add_latency(0)
        started = time.monotonic()
        assert (await w.get(str(w.app_url))).status_code == 200
        assert time.monotonic() - started < 0.2


async def test_stalled_channel_holds_events_then_delivers_them_all(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        sim.faults.stall_events(0.5)
        t0 = time.monotonic()
        assert (await w.start_call()).status_code == 201
        await w.wait_event("phoneAudioInvitation", "started", within=5)
        assert time.monotonic() - t0 >= 0.45, "events were delivered during the stall"
        await w.wait_for(inv_completed)
        # Nothing lost: the whole set-up sequence is there, once.
        started = [e for e in w.events if e.rel == "phoneAudioInvitation" and e.type == "started"]
        assert len(started) == 1


async def test_dropped_channel_fails_the_poll_and_the_same_url_recovers(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.poll_once()
        url = w.next_url
        poll = asyncio.create_task(w.pget(timeout=180))
        await asyncio.sleep(0.1)
        sim.faults.drop_event_channel()
        try:
            resp = await asyncio.wait_for(poll, 3)
        except httpx.TransportError:
            pass  # a dropped connection is the other allowed shape
        else:
            assert resp.status_code == 503
            error_body(resp)
        assert w.next_url == url
        await w.parked()
        assert (await w.start_call()).status_code == 201
        await w.wait_for(inv_completed)


async def test_http_fault_endpoints_mirror_the_python_api(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        base = sim_server.base_url
        resp = await w.http.post(
            f"{base}/_sim/faults",
            json={
                "action": "force_status",
                "path_contains": "/me",
                "status": 503,
                "retry_after": 3,
            },
        )
        assert resp.status_code in (200, 204), resp.text
        me = str(link(w.embedded("me"), "self"))
        got = await w.get(me)
        assert got.status_code == 503 and got.headers.get("retry-after") == "3"
        resp = await w.http.post(
            f"{base}/_sim/faults",
            json={"action": "force_status", "path_contains": "/me", "status": 500},
        )
        assert resp.status_code in (200, 204)
        assert (await w.http.post(f"{base}/_sim/reset", json={})).status_code in (200, 204)
        assert (await w.get(me)).status_code == 200
        log = await w.http.get(f"{base}/_sim/log")
        assert log.status_code == 200
        entries = log.json()
        if isinstance(entries, dict):  # the fault API only promises "the request log as JSON"
            entries = entries.get("requests")
        assert isinstance(entries, list) and entries
        assert any(e.get("status") == 503 for e in entries), entries[-5:]
        bad = await w.http.post(f"{base}/_sim/faults", json={"action": "summon_dragons"})
        assert bad.status_code == 400
        error_body(bad)
