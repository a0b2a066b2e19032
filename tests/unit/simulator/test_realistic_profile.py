"""The realistic profile starts applications as the vendor's walkthrough traces show: lurker links
first, call links only after makeMeAvailable, announced by held Medium events."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from tests.unit.simulator.conftest import Ucwa, assert_ucwa_error

# The link sets of the vendor's traces (CreateAnApplication walkthrough, then ReceiveAnIM's GET
# of the application after makeMeAvailable).
LURKER_ME = {"self", "makeMeAvailable", "callForwardingSettings", "phones", "photo"}
LURKER_COMMUNICATION = {
    "self",
    "conversations",
    "startMessaging",
    "startOnlineMeeting",
    "joinOnlineMeeting",
}
AVAILABLE_ME = {
    "self",
    "note",
    "presence",
    "location",
    "reportMyActivity",
    "callForwardingSettings",
    "phones",
    "photo",
}
AVAILABLE_COMMUNICATION = LURKER_COMMUNICATION | {"startPhoneAudio"}
# The vendor's makeMeAvailable request sample.
MAKE_ME_AVAILABLE = {
    "audioPreference": "PhoneAudio",
    "phoneNumber": "4255552222",
    "signInAs": "BeRightBack",
    "supportedMessageFormats": ["Plain", "Html"],
    "supportedModalities": ["PhoneAudio", "Messaging"],
}


@pytest.fixture
def sim_config() -> SimConfig:
    # Medium events are held 0.5 s, longer than a P-GET (0.2 s): they come with a later poll.
    return SimConfig(profile="realistic", redirect="none", max_poll_s=0.2, medium_hold_s=0.5)


def _links(doc: dict[str, Any]) -> set[str]:
    return set(doc["_links"])


async def _make_available(ucwa: Ucwa, **changes: object) -> httpx.Response:
    body = dict(MAKE_ME_AVAILABLE, **changes)
    return await ucwa.post(ucwa.link("me", "makeMeAvailable"), json=body)


def test_the_default_profile_is_still_the_permissive_one() -> None:
    config = SimConfig()
    assert config.profile == "permissive"
    assert not config.lurker_start and not config.dial_plan and not config.token_realms
    assert config.redirect == "none" and config.medium_hold_s is None


def test_the_realistic_profile_turns_every_behaviour_on_and_single_knobs_can_be_kept_off() -> None:
    config = SimConfig(profile="realistic")
    assert config.lurker_start and config.dial_plan and config.token_realms
    assert config.link_only_phone_audio and config.repeat_make_me_available
    assert config.redirect == "host" and config.medium_hold_s is not None
    assert not config.calls_keep_alive
    assert not SimConfig(profile="realistic", dial_plan=False).dial_plan
    with pytest.raises(ValueError):
        SimConfig(profile="strict")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_fresh_application_offers_no_call_and_no_activity_link(ucwa: Ucwa) -> None:
    embedded = ucwa.app["_embedded"]
    assert _links(embedded["me"]) == LURKER_ME
    assert _links(embedded["communication"]) == LURKER_COMMUNICATION
    assert embedded["communication"]["supportedModalities"] == []
    communication = (await ucwa.get(ucwa.link("communication", "self"))).json()
    assert "startPhoneAudio" not in communication["_links"]


@pytest.mark.anyio
async def test_calling_or_reporting_activity_before_make_me_available_is_refused_with_409(
    ucwa: Ucwa,
) -> None:
    # A client that guesses the walkthrough's URL shapes instead of following links.
    start = ucwa.link("communication", "self") + "/phoneAudioInvitations"
    response = await ucwa.post(start, json={"to": "tel:+14255550100", "phoneNumber": "4255552222"})
    assert_ucwa_error(response, 409, "Conflict", "MakeMeAvailableRequired")
    activity = ucwa.link("me", "self") + "/reportMyActivity"
    assert_ucwa_error(await ucwa.post(activity), 409, "Conflict", "MakeMeAvailableRequired")


@pytest.mark.anyio
async def test_make_me_available_unlocks_the_links_of_the_trace_announced_by_held_events(
    ucwa: Ucwa,
) -> None:
    response = await _make_available(ucwa)
    assert response.status_code == 204, response.text
    # Medium events are held past this P-GET's timeout: nothing yet ...
    first = await ucwa.poll()
    assert "sender" not in first
    # ... then they arrive together, "seconds later".
    me = await ucwa.until(lambda e: e.rel == "me" and e.type == "updated", limit=3)
    assert "_embedded" not in me.raw  # me updated has no body: GET me to learn its links
    comm = await ucwa.until(lambda e: e.rel == "communication", limit=1)
    assert comm.body is not None and "startPhoneAudio" in comm.body["_links"]
    added = {e.rel for e in ucwa.seen if e.type == "added"}
    assert added == {"presence", "note", "location"}
    app = (await ucwa.get(ucwa.link("self"))).json()
    assert _links(app["_embedded"]["me"]) == AVAILABLE_ME
    assert _links(app["_embedded"]["communication"]) == AVAILABLE_COMMUNICATION
    assert app["_embedded"]["communication"]["phoneNumber"] == "tel:+14255552222"


@pytest.mark.anyio
async def test_make_me_available_again_updates_the_callback_number_in_one_merged_event(
    ucwa: Ucwa, sim: Simulator
) -> None:
    make_me_available = ucwa.link("me", "makeMeAvailable")
    assert (await _make_available(ucwa)).status_code == 204
    await ucwa.until(lambda e: e.rel == "communication", limit=3)
    since = len(ucwa.seen)
    for number in ("+14255550124", "4255550123"):
        body = dict(MAKE_ME_AVAILABLE, phoneNumber=number)
        assert (await ucwa.post(make_me_available, json=body)).status_code == 204
    update = await ucwa.until(lambda e: e.rel == "communication", since=since, limit=3)
    assert update.body is not None and update.body["phoneNumber"] == "tel:+14255550123"
    await ucwa.poll()
    assert [e.rel for e in ucwa.seen[since:]] == ["communication"]  # merged into the latest
    # The remembered number is the default callback of a call that names none.
    start = (await ucwa.get(ucwa.link("communication", "self"))).json()["_links"]
    created = await ucwa.post(start["startPhoneAudio"]["href"], json={"to": "tel:+14255550100"})
    assert created.status_code == 201, created.text
    invitation = (await ucwa.get(created.headers["location"])).json()
    assert invitation["phoneNumber"] == "tel:+14255550123"
    bad = await ucwa.post(make_me_available, json={"audioPreference": "Pigeon"})
    assert_ucwa_error(bad, 400, "BadRequest", "ParameterValidationFailure")
    assert sim.apps[next(iter(sim.apps))].comm["audioPreference"] == "PhoneAudio"


@pytest.mark.anyio
async def test_phone_audio_updated_events_carry_only_the_link(ucwa: Ucwa) -> None:
    assert (await _make_available(ucwa)).status_code == 204
    await ucwa.until(lambda e: e.rel == "communication", limit=3)
    start = (await ucwa.get(ucwa.link("communication", "self"))).json()
    body = {"to": "tel:+14255550100", "operationId": "op-1"}
    created = await ucwa.post(start["_links"]["startPhoneAudio"]["href"], json=body)
    assert created.status_code == 201, created.text
    done = await ucwa.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    assert done.raw["status"] == "Success"
    updates = [e for e in ucwa.seen if e.rel == "phoneAudio"]
    assert updates and all("_embedded" not in e.raw for e in updates)
    phone_audio = (await ucwa.get(updates[-1].href)).json()
    assert phone_audio["state"] == "Connected" and "holdPhoneAudio" in phone_audio["_links"]


@pytest.mark.anyio
async def test_the_permissive_profile_still_offers_everything_at_once(
    http: httpx.AsyncClient,
) -> None:
    # The module's simulator is realistic; this one is built the default way.
    permissive = Simulator(SimConfig(max_poll_s=0.2))
    transport = httpx.ASGITransport(app=permissive.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
            ucwa = Ucwa(client)
            await ucwa.sign_in()
            assert "startPhoneAudio" in ucwa.app["_embedded"]["communication"]["_links"]
            assert "reportMyActivity" in ucwa.app["_embedded"]["me"]["_links"]
            make = ucwa.link("me", "makeMeAvailable")
            assert (await ucwa.post(make, json=MAKE_ME_AVAILABLE)).status_code == 204
            again = await ucwa.post(make, json=MAKE_ME_AVAILABLE)
            assert_ucwa_error(again, 409, "Conflict", "AlreadyExists")
    finally:
        permissive.close()


@pytest.mark.anyio
async def test_held_medium_events_arrive_only_after_their_hold_time(ucwa: Ucwa) -> None:
    assert (await _make_available(ucwa)).status_code == 204
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ucwa.until(lambda e: e.rel == "communication", limit=3)
    assert loop.time() - started >= 0.4
