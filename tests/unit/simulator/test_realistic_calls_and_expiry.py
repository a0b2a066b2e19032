"""Realistic phoneAudio GET errors, incoming invitations a client must ignore, and expiry when
reportMyActivity stops."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.faults import PHONE_AUDIO_GET_ERRORS
from tests.unit.simulator.conftest import Ucwa, assert_ucwa_error

AVAILABLE = {"phoneNumber": "4255552222", "supportedModalities": ["PhoneAudio"]}


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(
        profile="realistic",
        redirect="none",
        speed=50,
        max_poll_s=0.2,
        activity_limit_s=0.6,
        incoming_ring_s=300,  # 6 s at speed 50: longer than any test here
    )


@pytest.fixture
async def ready(ucwa: Ucwa) -> Ucwa:
    response = await ucwa.post(ucwa.link("me", "makeMeAvailable"), json=AVAILABLE)
    assert response.status_code == 204, response.text
    ucwa.app = (await ucwa.get(ucwa.link("self"))).json()
    return ucwa


async def _connected_phone_audio(ucwa: Ucwa) -> str:
    await ucwa.call("tel:+14255550100")
    await ucwa.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    return ucwa.last("phoneAudio").href


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(PHONE_AUDIO_GET_ERRORS))
async def test_phone_audio_get_answers_the_errors_its_page_lists(
    ready: Ucwa, sim: Simulator, name: str
) -> None:
    href = await _connected_phone_audio(ready)
    status, code, subcode = PHONE_AUDIO_GET_ERRORS[name]
    sim.faults.fail_phone_audio_get(name)
    body = assert_ucwa_error(await ready.get(href), status, code, subcode)
    assert ("subcode" in body) == (subcode is not None)
    assert (await ready.get(href)).json()["state"] == "Connected"  # only once


@pytest.mark.anyio
async def test_phone_audio_of_an_ended_or_unknown_call_is_404(ready: Ucwa) -> None:
    href = await _connected_phone_audio(ready)
    other = href.replace("/conversations/", "/conversations/0")
    assert_ucwa_error(await ready.get(other), 404, "NotFound")
    stop = (await ready.get(href)).json()["_links"]["stopPhoneAudio"]["href"]
    assert (await ready.post(stop)).status_code == 204
    assert_ucwa_error(await ready.get(href), 404, "NotFound")


@pytest.mark.anyio
async def test_phone_audio_errors_can_be_asked_for_over_the_control_api(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    url = "http://127.0.0.1/_sim/faults"
    ok = await http.post(url, json={"action": "fail_phone_audio_get", "error": "CannotRedirect"})
    assert ok.status_code == 200 and ok.json()["faults"]["phone_audio_errors"] == 1
    bad = await http.post(url, json={"action": "fail_phone_audio_get", "error": "Nonsense"})
    assert bad.status_code == 400


@pytest.mark.anyio
async def test_an_incoming_invitation_rings_and_ends_unanswered(
    sim: Simulator, ready: Ucwa
) -> None:
    sim.config.incoming_ring_s = 5  # 0.1 s
    assert sim.faults.ring_incoming("sip:bob@contoso.com") == 1
    started = await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "started")
    invitation = started.body
    assert invitation is not None and invitation["direction"] == "Incoming"
    assert {"accept", "decline"} <= set(invitation["_links"]) and "cancel" not in invitation[
        "_links"
    ]
    assert invitation["to"] == "sip:alice@contoso.com"
    added = await ready.until(lambda e: e.rel == "conversation" and e.type == "added")
    assert added.state == "Incoming"
    done = await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    assert done.raw["reason"]["subcode"] == "Missed" and done.state == "Cancelled"
    await ready.until(lambda e: e.rel == "conversation" and e.type == "deleted")


@pytest.mark.anyio
async def test_an_incoming_invitation_can_be_declined_but_not_accepted(
    sim: Simulator, ready: Ucwa, http: httpx.AsyncClient
) -> None:
    ringing = await http.post(
        "http://127.0.0.1/_sim/faults",
        json={"action": "ring_incoming", "caller": "tel:+14255550199"},
    )
    assert ringing.status_code == 200, ringing.text
    started = await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "started")
    assert started.body is not None
    links = started.body["_links"]
    refused = await ready.post(links["accept"]["href"])
    assert_ucwa_error(refused, 409, "Conflict", "OperationNotSupported")
    cancel = links["self"]["href"] + "/cancel"
    assert_ucwa_error(await ready.post(cancel), 409, "Conflict")
    assert (await ready.post(links["decline"]["href"])).status_code == 204
    done = await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    assert done.state == "Declined"


@pytest.mark.anyio
async def test_only_applications_available_for_phone_audio_are_rung(
    sim: Simulator, ucwa: Ucwa
) -> None:
    assert sim.faults.ring_incoming() == 0
    with pytest.raises(ValueError):
        sim.faults.ring_incoming("bob")


@pytest.mark.anyio
async def test_reporting_activity_keeps_the_application_alive_and_stopping_expires_it(
    ready: Ucwa,
) -> None:
    activity = ready.link("me", "reportMyActivity")
    me = ready.link("me", "self")
    for _ in range(10):  # 1 s, well past the 0.6 s limit, with a report every 0.1 s
        assert (await ready.post(activity)).status_code == 204
        await asyncio.sleep(0.1)
    assert (await ready.get(me)).status_code == 200
    await asyncio.sleep(0.7)
    assert_ucwa_error(await ready.get(me), 410, "Gone", "InactiveApplicationExpired")


@pytest.mark.anyio
async def test_a_call_alone_does_not_keep_a_realistic_application_alive(ready: Ucwa) -> None:
    await ready.call("tel:+14255550100")
    await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    await asyncio.sleep(0.7)
    assert_ucwa_error(await ready.get(ready.next_url), 410, "Gone", "InactiveApplicationExpired")
