"""Conformance: configurable modes — lifetimes, redirects, capability gating, events-first."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from tests.helpers.ucwa_walker import (
    ACCEPT,
    Walker,
    error_body,
    link,
    walker,
)

pytestmark = pytest.mark.anyio

USER, PASSWORD = "alice@contoso.com", "demo-password"


@contextmanager
def serving(**overrides: Any) -> Iterator[tuple[Simulator, SimServer]]:
    settings: dict[str, Any] = {"speed": 50, "max_poll_s": 0.5, **overrides}
    sim = Simulator(SimConfig(**settings))
    with SimServer(sim, host="127.0.0.1", port=0, tls=False) as server:
        yield sim, server
    sim.close()


async def test_tls_mode_serves_the_whole_flow_over_https(sim_credentials) -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.5))
    with SimServer(sim, host="127.0.0.1", port=0, tls=True) as server:
        assert server.discovery_url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(server.ca_pem_path))
        async with httpx.AsyncClient(verify=trust) as http:
            w = Walker(http, server.discovery_url, *sim_credentials)
            await w.sign_in()
            assert str(w.app_url).startswith("https://")
            await w.parked()
            assert (await w.start_call()).status_code == 201
            done = await w.wait_event("phoneAudioInvitation", "completed")
            assert done.status == "Success"
            await w.stop_polling()
        async with httpx.AsyncClient() as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(server.discovery_url)
    sim.close()


async def test_short_token_lifetime_expires_mid_session(sim_credentials) -> None:
    with serving(token_lifetime_s=0.3) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            assert (await w.get(str(w.app_url))).status_code == 200
            await asyncio.sleep(0.45)
            resp = await w.get(str(w.app_url))
            assert resp.status_code == 401
            await w.grant(w.challenge_of(resp))
            assert (await w.get(str(w.app_url))).status_code == 200


async def test_token_lifetime_is_reported_in_expires_in(sim_credentials) -> None:
    with serving(token_lifetime_s=120) as (_, server):
        async with httpx.AsyncClient() as http:
            w = Walker(http, server.discovery_url, *sim_credentials)
            await w.sign_in(create=False)
            assert w.token_url
            resp = await http.post(
                w.token_url,
                data={"grant_type": "password", "username": USER, "password": PASSWORD},
            )
            assert 0 < resp.json()["expires_in"] <= 120


async def test_unpolled_application_is_deleted_after_the_idle_limit(sim_credentials) -> None:
    with serving(app_idle_limit_s=0.3, max_poll_s=0.1) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            await w.poll_once()
            await asyncio.sleep(0.5)
            resp = await w.get(str(w.app_url))
            assert resp.status_code in (404, 410), resp.text
            err = error_body(resp)
            assert err.get("subcode") in ("ApplicationNotFound", "InactiveApplicationExpired")


async def test_polling_keeps_the_application_alive(sim_credentials) -> None:
    with serving(app_idle_limit_s=0.3, max_poll_s=0.1) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            w.start_polling()
            await asyncio.sleep(0.9)
            assert (await w.get(str(w.app_url))).status_code == 200
            assert not w.poll_errors


async def test_silence_resets_state_and_the_next_poll_gets_resume(sim_credentials) -> None:
    with serving(state_reset_s=0.25, max_poll_s=0.15) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            await w.parked()
            assert (await w.start_call()).status_code == 201
            done = await w.wait_event("phoneAudioInvitation", "completed")
            await w.stop_polling()
            await asyncio.sleep(0.6)
            resp = await w.pget()
            assert resp.status_code == 200
            assert "resume" in resp.json()["_links"], resp.json()
            conv = link(done.body, "conversation")
            assert (await w.get(str(conv))).status_code == 404
            assert (await w.get(str(w.app_url))).status_code == 200


async def test_activity_expiry_after_make_me_available(sim_credentials) -> None:
    with serving(activity_limit_s=0.3, max_poll_s=0.1) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            w.start_polling()
            mma = str(link(w.embedded("me"), "makeMeAvailable"))
            body = {"supportedModalities": ["PhoneAudio"], "phoneNumber": "+14255550123"}
            assert (await w.post(mma, body)).status_code == 204
            await asyncio.sleep(0.5)
            resp = await w.get(str(w.app_url))
            assert resp.status_code == 410
            err = error_body(resp)
            assert (err["code"], err.get("subcode")) == ("Gone", "InactiveApplicationExpired")


async def test_too_small_timeout_is_clamped_to_180_seconds(sim_credentials) -> None:
    """timeout=1 is clamped up to the 180 s minimum, so the poll stays parked.

    docs/protocol.md §11 check 15.
    """
    with serving(max_poll_s=None) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            poll = asyncio.create_task(w.pget(timeout=1))
            await asyncio.sleep(1.4)
            assert not poll.done(), poll.result() if poll.done() else None
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll


async def test_medium_events_wait_and_then_ride_ahead_of_a_high_one(sim_credentials) -> None:
    """Medium events do not release a parked poll; a High one releases all, in order.

    docs/protocol.md §7.4.
    """
    with serving(max_poll_s=None) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            poll = asyncio.create_task(w.pget(timeout=180, medium=1800))
            await asyncio.sleep(0.1)
            mma = str(link(w.embedded("me"), "makeMeAvailable"))
            body = {"supportedModalities": ["PhoneAudio"], "phoneNumber": "+14255550123"}
            assert (await w.post(mma, body)).status_code == 204
            await asyncio.sleep(0.4)
            assert not poll.done(), "a Medium event released the poll at once"
            assert (await w.start_call()).status_code == 201
            resp = await asyncio.wait_for(poll, 3)
            events = w.absorb(resp.json())
            rels = [e.rel for e in events]
            assert "communication" in rels and "phoneAudioInvitation" in rels, rels
            assert rels.index("communication") < rels.index("phoneAudioInvitation")


async def test_root_redirect_is_followed_to_a_working_pool(sim_credentials) -> None:
    with serving(redirect="root") as (_, server):
        async with httpx.AsyncClient() as http:
            root = await http.get(server.discovery_url, headers=ACCEPT)
            assert root.status_code == 200
            target = link(root.json(), "redirect")
            assert target and link(root.json(), "user") is None, root.json()
            w = Walker(http, str(httpx.URL(server.discovery_url).join(target)), *sim_credentials)
            app = await w.sign_in()
            assert app and link(app, "events")


async def test_user_redirect_needs_a_new_challenge_round(sim_credentials) -> None:
    with serving(redirect="user") as (_, server):
        async with httpx.AsyncClient() as http:
            w = Walker(http, server.discovery_url, *sim_credentials)
            user_url = await w.discover()
            resp = await http.get(user_url, headers=ACCEPT)
            await w.grant(w.challenge_of(resp))
            resp = await http.get(user_url, headers={**ACCEPT, "Authorization": str(w.auth)})
            assert resp.status_code == 200
            target = link(resp.json(), "redirect")
            assert target, resp.json()
            w2 = Walker(http, str(httpx.URL(user_url).join(target)), *sim_credentials)
            assert await w2.sign_in()


async def test_redirect_loop_is_detectable(sim_credentials) -> None:
    with serving(redirect="loop") as (_, server):
        async with httpx.AsyncClient() as http:
            url, seen = server.discovery_url, []
            for _ in range(6):
                resp = await http.get(url, headers=ACCEPT)
                assert resp.status_code == 200
                target = link(resp.json(), "redirect")
                assert target, resp.json()
                url = str(httpx.URL(url).join(target))
                seen.append(url)
            assert len(set(seen)) <= 2


async def test_user_without_phone_audio_has_no_start_link_and_gets_403() -> None:
    users = {USER: PASSWORD, "bob@contoso.com": "bob-password"}
    with serving(users=users, no_phone_audio_users=frozenset({"bob@contoso.com"})) as (_, server):
        async with walker(server.discovery_url, USER, PASSWORD) as alice:
            start = alice.communication_link("startPhoneAudio")
            suffix = alice.url(start).removeprefix(str(alice.app_url))
            assert suffix != alice.url(start), "startPhoneAudio is not under the application"
        async with walker(server.discovery_url, "bob@contoso.com", "bob-password") as bob:
            assert link(bob.embedded("communication"), "startPhoneAudio") is None
            # A client that builds the URL anyway is refused.
            await bob.parked()
            guessed = str(bob.app_url) + suffix
            resp = await bob.post(
                guessed, {"to": "tel:+14255550100", "phoneNumber": "+14255550123"}
            )
            assert resp.status_code == 403, resp.text
            assert error_body(resp)["code"] == "Forbidden"


async def test_events_first_mode_delivers_started_before_the_201(sim_credentials) -> None:
    with serving(events_first=True) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            await w.parked()
            resp = await w.start_call(operation_id="op-early")
            assert resp.status_code == 201
            started = await w.wait_event("phoneAudioInvitation", "started")
            assert started.body and started.body["operationId"] == "op-early"
            assert w.url(resp.headers["location"]) == w.url(str(link(started.body, "self")))


async def test_start_body_mode_answers_201_with_the_invitation(sim_credentials) -> None:
    with serving(start_body=True) as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            await w.parked()
            resp = await w.start_call(operation_id="op-body")
            assert resp.status_code == 201
            body = resp.json()
            assert body["rel"] == "phoneAudioInvitation"
            assert body["operationId"] == "op-body"
            assert w.url(str(link(body, "self"))) == w.url(resp.headers["location"])


async def test_audio_active_modality_mode(sim_credentials) -> None:
    with serving(active_modality="Audio") as (_, server):
        async with walker(server.discovery_url, *sim_credentials) as w:
            await w.parked()
            assert (await w.start_call()).status_code == 201
            conv = await w.wait_event("conversation", "updated", state="Connected")
            assert conv.body and conv.body["activeModalities"] == ["Audio"]
