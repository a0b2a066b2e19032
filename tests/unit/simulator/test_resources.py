"""applications, me, makeMeAvailable, phones, communication PUT and startPhoneAudio input."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from tests.unit.simulator.conftest import ORIGIN, Ucwa, assert_ucwa_error

pytestmark = pytest.mark.anyio


async def applications_url(ucwa: Ucwa) -> str:
    root = (await ucwa.http.get("/autodiscover/autodiscoverservice.svc/root")).json()
    user = (await ucwa.get(root["_links"]["user"]["href"])).json()
    href: str = user["_links"]["applications"]["href"]
    return href


async def test_application_accepts_pascal_case_and_embeds_everything(ucwa: Ucwa) -> None:
    apps = await applications_url(ucwa)
    body = {"UserAgent": "UCWA Samples", "EndpointId": "e-2", "Culture": "en-US"}
    created = await ucwa.post(apps, json=body)
    assert created.status_code == 201
    assert created.headers["etag"]
    doc = created.json()
    assert doc["rel"] == "application"
    assert set(doc["_embedded"]) == {"me", "people", "onlineMeetings", "communication"}
    assert doc["_links"]["events"]["href"].endswith("/events?ack=1")
    assert {"self", "policies", "batch"} <= set(doc["_links"])
    comm = doc["_embedded"]["communication"]
    assert comm["_links"]["startPhoneAudio"]["href"].endswith(
        "/communication/phoneAudioInvitations"
    )
    assert "please pass this in a PUT request" in comm.values()
    me = doc["_embedded"]["me"]
    assert me["_links"]["makeMeAvailable"]["href"].endswith("/me/makeMeAvailable")
    # Same identity again -> the same application (200), not a second one.
    again = await ucwa.post(apps, json=body)
    assert again.status_code == 200
    assert again.json()["_links"]["self"] == doc["_links"]["self"]


async def test_application_validation_names_every_missing_field(ucwa: Ucwa) -> None:
    apps = await applications_url(ucwa)
    body = assert_ucwa_error(
        await ucwa.post(apps, json={"culture": "en-US", "endpointId": ""}),
        400,
        "BadRequest",
        "ParameterValidationFailure",
    )
    assert set(body["parameters"]) == {"userAgent", "endpointId"}
    long = {"userAgent": "x" * 101, "endpointId": "e", "culture": "en-US"}
    assert (await ucwa.post(apps, json=long)).status_code == 400


async def test_delete_application_then_404(ucwa: Ucwa) -> None:
    self_href = ucwa.app["_links"]["self"]["href"]
    assert (await ucwa.http.delete(ucwa.url(self_href), headers=ucwa.auth)).status_code == 204
    for href in (self_href, ucwa.link("me", "self"), ucwa.next_url):
        assert_ucwa_error(await ucwa.get(href), 404, "NotFound", "ApplicationNotFound")


async def test_phones_and_policies(ucwa: Ucwa) -> None:
    phones = (await ucwa.get(ucwa.link("me", "phones"))).json()
    numbers = [(p["type"], p["number"]) for p in phones["_embedded"]["phone"]]
    assert numbers == [("work", "tel:+14255550123"), ("mobile", "tel:+14255550124")]
    policies = (await ucwa.get(ucwa.app["_links"]["policies"]["href"])).json()
    assert policies["telephonyMode"] == "AudioVideo"


async def test_make_me_available_rules(ucwa: Ucwa) -> None:
    activity = ucwa.link("me", "reportMyActivity")
    assert_ucwa_error(await ucwa.post(activity), 409, "Conflict", "MakeMeAvailableRequired")
    mma = ucwa.link("me", "makeMeAvailable")
    audio = await ucwa.post(mma, json={"SupportedModalities": ["Audio"]})
    assert_ucwa_error(audio, 403, "Forbidden")
    bad_number = await ucwa.post(mma, json={"supportedModalities": [], "phoneNumber": "call me"})
    assert_ucwa_error(bad_number, 400, "BadRequest", "NormalizationFailed")
    ok = await ucwa.post(
        mma, json={"SupportedModalities": ["PhoneAudio"], "phoneNumber": "4255550123"}
    )
    assert ok.status_code == 204
    assert_ucwa_error(await ucwa.post(mma, json={}), 409, "Conflict", "AlreadyExists")
    assert (await ucwa.post(activity)).status_code == 204
    me = (await ucwa.get(ucwa.link("me", "self"))).json()
    assert {"presence", "note", "location"} <= set(me["_links"])
    comm = (await ucwa.get(ucwa.link("communication", "self"))).json()
    assert comm["phoneNumber"] == "tel:+14255550123"


async def test_communication_put_needs_if_match_and_the_whole_body(ucwa: Ucwa) -> None:
    url = ucwa.url(ucwa.link("communication", "self"))
    got = await ucwa.http.get(url, headers=ucwa.auth)
    doc, etag = got.json(), got.headers["etag"]
    doc["phoneNumber"] = "tel:+1 (425) 555-0124"
    assert_ucwa_error(
        await ucwa.http.put(url, json=doc, headers=ucwa.auth), 428, "PreconditionRequired"
    )
    stale = ucwa.auth | {"If-Match": '"123"'}
    assert_ucwa_error(await ucwa.http.put(url, json=doc, headers=stale), 412, "PreconditionFailed")
    partial = {k: v for k, v in doc.items() if v != "please pass this in a PUT request"}
    quoted = ucwa.auth | {"If-Match": f'"{etag}"'}
    assert_ucwa_error(
        await ucwa.http.put(url, json=partial, headers=quoted),
        400,
        "BadRequest",
        "ParameterValidationFailure",
    )
    ok = await ucwa.http.put(url, json=doc, headers=ucwa.auth | {"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    assert (await ucwa.http.get(url, headers=ucwa.auth)).json()["phoneNumber"] == "tel:+14255550124"
    unchanged = await ucwa.http.get(url, headers=ucwa.auth | {"If-None-Match": ok.headers["etag"]})
    assert unchanged.status_code == 304
    # The registered number is the default callback for startPhoneAudio.
    start = ucwa.link("communication", "startPhoneAudio")
    created = await ucwa.post(start, json={"to": "tel:+14255550100"})
    assert created.status_code == 201
    invitation = (await ucwa.http.get(created.headers["location"], headers=ucwa.auth)).json()
    assert invitation["phoneNumber"] == "tel:+14255550124"


@pytest.mark.parametrize(
    ("body", "subcode"),
    [
        ({"phoneNumber": "+14255550123"}, "ParameterValidationFailure"),
        ({"to": "", "phoneNumber": "+14255550123"}, "ParameterValidationFailure"),
        ({"to": ["tel:+1"], "phoneNumber": "+14255550123"}, "ParameterValidationFailure"),
        ({"to": "tel:not-a-number", "phoneNumber": "+14255550123"}, "NormalizationFailed"),
        ({"to": "tel:+14255550100", "phoneNumber": "12"}, "NormalizationFailed"),
        ({"to": "tel:+14255550100"}, "ParameterValidationFailure"),  # no callback anywhere
        ({"to": "sip:bob@contoso.com", "phoneNumber": "+14255550123", "operationId": "x" * 51},
         "ParameterValidationFailure"),
        ({"to": "sip:bob@contoso.com", "phoneNumber": "+14255550123", "subject": "s" * 251},
         "ParameterValidationFailure"),
        ({"to": "sip:bob@contoso.com", "phoneNumber": "+14255550123", "importance": "Meh"},
         "ParameterValidationFailure"),
    ],
)  # fmt: skip
async def test_start_phone_audio_rejects_bad_input(
    ucwa: Ucwa, body: dict[str, object], subcode: str
) -> None:
    response = await ucwa.post(ucwa.link("communication", "startPhoneAudio"), json=body)
    assert_ucwa_error(response, 400, "BadRequest", subcode)
    assert not any(e.type == "started" for e in ucwa.seen)


async def test_start_phone_audio_takes_query_parameters_and_loose_numbers(ucwa: Ucwa) -> None:
    start = ucwa.url(ucwa.link("communication", "startPhoneAudio"))
    params = {"to": "tel : +1 425 555 0100", "phoneNumber": "(425) 555-0123", "operationId": "q"}
    response = await ucwa.http.post(start, params=params, headers=ucwa.auth)
    assert response.status_code == 201
    assert response.content == b""
    invitation = (await ucwa.http.get(response.headers["location"], headers=ucwa.auth)).json()
    assert (invitation["to"], invitation["phoneNumber"]) == ("tel:+14255550100", "tel:+14255550123")


async def test_start_phone_audio_needs_a_parked_poll_first(http: httpx.AsyncClient) -> None:
    ucwa = Ucwa(http)
    await ucwa.sign_in()
    body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123"}
    response = await ucwa.post(ucwa.link("communication", "startPhoneAudio"), json=body)
    assert_ucwa_error(response, 500, "ServiceFailure", "CallbackChannelError")


async def test_start_phone_audio_needs_a_live_event_channel_not_just_an_old_one() -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.05, callback_channel_grace_s=0.2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        await ucwa.poll()  # one P-GET, then this client's channel "dies": no next one
        await asyncio.sleep(0.3)
        start = ucwa.link("communication", "startPhoneAudio")
        body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123"}
        response = await ucwa.post(start, json=body)
        assert_ucwa_error(response, 500, "ServiceFailure", "CallbackChannelError")
        assert not [a for a in sim.apps.values() if a.conversations]  # nothing was placed
        # Parking again is all it takes: the same request then places the call.
        parked = asyncio.ensure_future(ucwa.poll())
        async with asyncio.timeout(2):
            # Polled: the server's channel state offers nothing for a test to await.
            while not any(a.channel.parked for a in sim.apps.values()):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        assert (await ucwa.post(start, json=body)).status_code == 201
        await parked


async def test_user_without_phone_audio_gets_no_link_and_403() -> None:
    sim = Simulator(SimConfig(no_phone_audio_users=frozenset({"alice@contoso.com"})))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        comm = ucwa.app["_embedded"]["communication"]
        assert "startPhoneAudio" not in comm["_links"]
        forced = comm["_links"]["self"]["href"] + "/phoneAudioInvitations"
        response = await ucwa.post(forced, json={"to": "tel:+14255550100"})
        assert_ucwa_error(response, 403, "Forbidden")
    sim.close()


async def test_start_body_mode_returns_the_invitation() -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.1, start_body=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        await ucwa.poll()
        start = ucwa.link("communication", "startPhoneAudio")
        body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123", "operationId": "o"}
        response = await ucwa.post(start, json=body)
        assert response.status_code == 201
        assert response.json()["operationId"] == "o"
    sim.close()


async def test_browser_origin_and_version_requirements(ucwa: Ucwa) -> None:
    me = ucwa.url(ucwa.link("me", "self"))
    foreign = await ucwa.http.get(me, headers=ucwa.auth | {"X-Ms-Origin": "https://evil.example"})
    body = assert_ucwa_error(foreign, 403, "Forbidden")
    assert "cross domain" in body["message"]
    newer = ucwa.auth | {"X-MS-RequiresMinResourceVersion": "3"}
    assert_ucwa_error(
        await ucwa.http.get(me, headers=newer), 404, "NotFound", "APIVersionNotSupported"
    )
    ok = ucwa.auth | {"X-MS-RequiresMinResourceVersion": "2"}
    assert (await ucwa.http.get(me, headers=ok)).status_code == 200


async def test_no_activity_report_after_make_me_available_expires_the_app() -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.1, activity_limit_s=0.2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        ucwa = Ucwa(h)
        await ucwa.sign_in()
        body = {"supportedModalities": ["PhoneAudio"]}
        assert (await ucwa.post(ucwa.link("me", "makeMeAvailable"), json=body)).status_code == 204
        await ucwa.poll()
        assert (await ucwa.post(ucwa.link("me", "reportMyActivity"))).status_code == 204
        await ucwa.poll()
        await ucwa.poll()
        response = await ucwa.get(ucwa.link("me", "self"))
        assert_ucwa_error(response, 410, "Gone", "InactiveApplicationExpired")
    sim.close()
