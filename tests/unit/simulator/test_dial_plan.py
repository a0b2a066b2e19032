"""The realistic server normalises what people dial by a US dial plan, and refuses the rest."""

from __future__ import annotations

import pytest

from app.simulator import SimConfig
from tests.unit.simulator.conftest import Ucwa, assert_ucwa_error


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(profile="realistic", redirect="none", speed=50, max_poll_s=0.2)


@pytest.fixture
async def ready(ucwa: Ucwa) -> Ucwa:
    """Made available (callback number given as a national number), call links learned."""
    body = {"phoneNumber": "425 555 2222", "supportedModalities": ["PhoneAudio"]}
    response = await ucwa.post(ucwa.link("me", "makeMeAvailable"), json=body)
    assert response.status_code == 204, response.text
    ucwa.app = (await ucwa.get(ucwa.link("self"))).json()
    return ucwa


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("5500", "tel:+14255555500"),  # an extension of the company's number range
        ("0101", "tel:+14255550101"),
        ("4255550100", "tel:+14255550100"),  # national, US user
        ("14255550100", "tel:+14255550100"),
        ("1 (425) 555-0100", "tel:+14255550100"),
        ("+44 20 7946 0000", "tel:+442079460000"),
        ("tel:4255551212;phone-context=defaultprofile", "tel:+14255551212"),
        ("tel:+1425554321;ext=54321", "tel:+1425554321"),
        ("sip:bob@contoso.com", "sip:bob@contoso.com"),
        ("SIP:Carol@Contoso.com", "sip:carol@contoso.com"),
    ],
)
async def test_what_people_dial_is_normalised_and_shown_normalised(
    ready: Ucwa, dialled: str, expected: str
) -> None:
    location = await ready.call(dialled, phone="4255552222")
    invitation = (await ready.get(location)).json()
    assert invitation["to"] == expected
    assert invitation["phoneNumber"] == "tel:+14255552222"


@pytest.mark.anyio
async def test_an_extension_reaches_the_same_far_end_as_its_full_number(ready: Ucwa) -> None:
    await ready.call("0101")  # +14255550101: the busy scenario
    done = await ready.until(lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed")
    assert done.raw["status"] == "Failure" and done.raw["reason"]["subcode"] == "Busy"
    await ready.call("sip:bob@contoso.com", op="op-2")
    done = await ready.until(
        lambda e: e.rel == "phoneAudioInvitation" and e.type == "completed",
        since=ready.seen.index(done) + 1,
    )
    assert done.raw["status"] == "Success"
    accepted = done.raw["_embedded"]["phoneAudioInvitation"]["_embedded"]["acceptedByParticipant"]
    assert accepted[0]["uri"] == "sip:bob@contoso.com"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "dialled",
    [
        "55",  # too short for anything
        "555010",  # neither an extension nor a national number
        "0255550100",  # no US area code starts with 0
        "42555501001",  # 11 digits without the leading 1
        "sip:mallory@evil.example",  # not a known user
        "bob@contoso.com",  # an address, but not a sip: URI
        "call bob",
        "+0123456789",
    ],
)
async def test_anything_else_gets_400_normalization_failed(ready: Ucwa, dialled: str) -> None:
    start = ready.link("communication", "startPhoneAudio")
    response = await ready.post(start, json={"to": dialled, "operationId": "op-x"})
    body = assert_ucwa_error(response, 400, "BadRequest", "NormalizationFailed")
    assert body["parameters"] == {"to": "cannot be normalised"}


@pytest.mark.anyio
async def test_a_callback_number_the_dial_plan_cannot_read_is_refused(ready: Ucwa) -> None:
    start = ready.link("communication", "startPhoneAudio")
    response = await ready.post(start, json={"to": "5500", "phoneNumber": "12"})
    assert_ucwa_error(response, 400, "BadRequest", "NormalizationFailed")
    again = {"phoneNumber": "not a number", "supportedModalities": ["PhoneAudio"]}
    refused = await ready.post(ready.link("me", "self") + "/makeMeAvailable", json=again)
    assert_ucwa_error(refused, 400, "BadRequest", "NormalizationFailed")
