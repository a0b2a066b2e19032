"""Scenario I: startPhoneAudio rejections and input rules (docs/protocol.md §6.2, §10 I, §12)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import (
    ANSWERED,
    MY_WORK_PHONE,
    Walker,
    error_body,
    link,
    walker,
)


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def _no_call_events(w: Walker) -> None:
    """Scenario I: a rejected POST produces no events at all.

    Proven without sleeping: a good call placed afterwards must be the first thing the
    channel reports (its invitation `started` is the first call event, and the only one).
    """
    resp = await w.start_call(ANSWERED, operation_id="op-after-rejection")
    assert resp.status_code == 201, resp.text
    started = await w.wait_event("phoneAudioInvitation", "started")
    calls = [e for e in w.events if e.sender in ("communication", "conversation")]
    assert calls[0] is started, calls
    assert started.body and started.body["operationId"] == "op-after-rejection"
    await w.wait_event("phoneAudioInvitation", "completed")
    invitations = {e.href for e in w.events if e.rel == "phoneAudioInvitation"}
    assert invitations == {started.href}


async def _rejected(w: Walker, status: int, subcode: str | None, **body: object) -> dict:
    href = w.communication_link("startPhoneAudio")
    resp = await w.post(href, {"operationId": uuid.uuid4().hex, **body})
    assert resp.status_code == status, resp.text
    err = error_body(resp)
    assert err.get("subcode") == subcode, err
    assert resp.headers.get("location") is None
    return err


async def test_missing_to_is_parameter_validation_failure(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        err = await _rejected(w, 400, "ParameterValidationFailure", phoneNumber=MY_WORK_PHONE)
        assert err["code"] == "BadRequest"
        assert "to" in {k.lower() for k in err.get("parameters", {})}, err
        await _no_call_events(w)


@pytest.mark.parametrize(
    ("to", "phone"),
    [
        (ANSWERED, "not-a-number"),
        (ANSWERED, "+1 425 555 01x3"),
        ("tel:call-me-maybe", MY_WORK_PHONE),
        ("tel:+", MY_WORK_PHONE),
    ],
)
async def test_unnormalisable_number_is_normalization_failed(
    shared_server, sim_credentials, to: str, phone: str
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        err = await _rejected(w, 400, "NormalizationFailed", to=to, phoneNumber=phone)
        assert err["code"] == "BadRequest"
        await _no_call_events(w)


@pytest.mark.parametrize(
    "extra",
    [{"operationId": "x" * 51}, {"subject": "s" * 251}, {"importance": "Whenever"}],
    ids=["operationId>50", "subject>250", "bad-importance"],
)
async def test_overlong_or_bad_fields_are_rejected(shared_server, sim_credentials, extra) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        href = w.communication_link("startPhoneAudio")
        body = {"to": ANSWERED, "phoneNumber": MY_WORK_PHONE, "operationId": "op", **extra}
        resp = await w.post(href, body)
        assert resp.status_code == 400, resp.text
        err = error_body(resp)
        assert (err["code"], err.get("subcode")) == ("BadRequest", "ParameterValidationFailure")
        await _no_call_events(w)


async def test_without_a_parked_poll_start_is_callback_channel_error(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        err = await _rejected(
            w, 500, "CallbackChannelError", to=ANSWERED, phoneNumber=MY_WORK_PHONE
        )
        assert err["code"] == "ServiceFailure"
        # Once a P-GET is parked the same request succeeds.
        await w.parked()
        assert (await w.start_call()).status_code == 201


async def test_after_the_event_channel_died_start_is_callback_channel_error(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        await w.stop_polling()  # the client's channel dies: no P-GET follows the parked one
        # Its P-GET is released at max_poll_s (0.5 s); then the 1 s grace runs out.
        await asyncio.sleep(0.5 + 1.0 + 0.3)
        err = await _rejected(
            w, 500, "CallbackChannelError", to=ANSWERED, phoneNumber=MY_WORK_PHONE
        )
        assert err["code"] == "ServiceFailure"
        await w.parked()
        assert (await w.start_call()).status_code == 201


async def test_no_callback_number_anywhere_is_parameter_validation_failure(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        await _rejected(w, 400, "ParameterValidationFailure", to=ANSWERED)


async def test_callback_defaults_to_the_number_registered_by_make_me_available(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.post(
            str(link(w.embedded("me"), "makeMeAvailable")),
            {"supportedModalities": ["PhoneAudio"], "phoneNumber": MY_WORK_PHONE},
        )
        assert resp.status_code == 204
        resp = await w.start_call(ANSWERED, phone=None)
        assert resp.status_code == 201, resp.text


@pytest.mark.parametrize(
    "phone", ["tel:+14255550123", "+1 (425) 555-0123", "+1.425.555.0123", "14255550123"]
)
async def test_callback_number_separators_are_tolerated(
    shared_server, sim_credentials, phone: str
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.start_call(ANSWERED, phone=phone)
        assert resp.status_code == 201, resp.text


async def test_to_may_come_as_a_query_parameter(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        href = w.communication_link("startPhoneAudio")
        resp = await w.request(
            "POST", href, params={"to": ANSWERED}, json={"phoneNumber": MY_WORK_PHONE}
        )
        assert resp.status_code == 201, resp.text


async def test_sip_target_is_accepted(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.start_call("sip:bob@contoso.com")
        assert resp.status_code == 201, resp.text
        done = await w.wait_event("phoneAudioInvitation", "completed")
        assert done.status == "Success"


async def test_success_is_201_with_location_and_needs_no_body(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.start_call()
        assert resp.status_code == 201
        location = resp.headers["location"]
        inv = await w.get_json(location)
        assert inv["rel"] == "phoneAudioInvitation"
