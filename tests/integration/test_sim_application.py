"""Conformance: application, me, phones, makeMeAvailable, communication (docs/protocol.md §4–5)."""

from __future__ import annotations

import uuid

import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import (
    MY_MOBILE_PHONE,
    MY_WORK_PHONE,
    error_body,
    link,
    links,
    walker,
)


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def test_created_application_has_links_and_embedded_resources(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        app = w.app
        assert app is not None
        assert app["rel"] == "application"
        assert {"self", "events", "batch", "policies"} <= links(app)
        assert "ack=1" in str(link(app, "events"))
        assert {"me", "people", "onlineMeetings", "communication"} <= set(app["_embedded"])
        for rel, resource in app["_embedded"].items():
            assert resource["rel"] == rel
            assert link(resource, "self"), rel
        assert link(w.embedded("communication"), "startPhoneAudio")
        assert {"makeMeAvailable", "phones"} <= links(w.embedded("me"))
        again = await w.get_json(str(w.app_url))
        assert link(again, "self") == link(app, "self")
        assert link(again, "events") == link(app, "events")


async def test_create_answers_201_with_etag(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await w.post(
            str(w.applications_url),
            {"userAgent": "T/1", "endpointId": str(uuid.uuid4()), "culture": "en-US"},
        )
        assert resp.status_code == 201
        assert resp.headers.get("etag")


async def test_create_accepts_pascal_case_property_names(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await w.post(
            str(w.applications_url),
            {"UserAgent": "T/1", "EndpointId": str(uuid.uuid4()), "Culture": "en-US"},
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["rel"] == "application"


@pytest.mark.parametrize("missing", ["userAgent", "endpointId", "culture"])
async def test_create_without_required_field_is_parameter_validation_failure(
    shared_server, sim_credentials, missing: str
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        body = {"userAgent": "T/1", "endpointId": str(uuid.uuid4()), "culture": "en-US"}
        del body[missing]
        resp = await w.post(str(w.applications_url), body)
        assert resp.status_code == 400
        err = error_body(resp)
        assert (err["code"], err.get("subcode")) == ("BadRequest", "ParameterValidationFailure")
        assert missing.lower() in {k.lower() for k in err.get("parameters", {})}, err


@pytest.mark.parametrize("field", ["userAgent", "endpointId", "culture"])
async def test_create_with_overlong_field_is_rejected(
    shared_server, sim_credentials, field: str
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        body = {"userAgent": "T/1", "endpointId": str(uuid.uuid4()), "culture": "en-US"}
        body[field] = "x" * 101
        resp = await w.post(str(w.applications_url), body)
        assert resp.status_code == 400
        assert error_body(resp)["code"] == "BadRequest"


async def test_delete_application_then_everything_is_application_not_found(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me = link(w.embedded("me"), "self")
        assert me
        resp = await w.request("DELETE", str(w.app_url))
        assert resp.status_code == 204
        for href in (str(w.app_url), me, str(w.next_url)):
            resp = await w.get(href)
            assert resp.status_code == 404, href
            err = error_body(resp)
            assert (err["code"], err.get("subcode")) == ("NotFound", "ApplicationNotFound")
        # The user is still signed in: a new application can be created right away.
        await w.create_application()
        assert (await w.get(str(w.app_url))).status_code == 200


async def test_me_and_phones_describe_the_demo_user(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me = await w.get_json(str(link(w.embedded("me"), "self")))
        assert me["rel"] == "me"
        assert me["uri"] == "sip:alice@contoso.com"
        assert me.get("name")
        phones = await w.get_json(str(link(me, "phones")))
        assert phones["rel"] == "phones"
        entries = phones["_embedded"]["phone"]
        assert isinstance(entries, list)
        found = {p["type"].strip().lower(): p["number"] for p in entries}
        assert found["work"] in (f"tel:{MY_WORK_PHONE}", MY_WORK_PHONE)
        assert found["mobile"] in (f"tel:{MY_MOBILE_PHONE}", MY_MOBILE_PHONE)
        for p in entries:
            assert p["rel"] == "phone" and link(p, "self")


async def test_make_me_available_then_again_is_already_exists(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        href = str(link(w.embedded("me"), "makeMeAvailable"))
        body = {"supportedModalities": ["PhoneAudio"], "phoneNumber": MY_WORK_PHONE}
        resp = await w.post(href, body)
        assert resp.status_code == 204, resp.text
        resp = await w.post(href, body)
        assert resp.status_code == 409
        err = error_body(resp)
        assert (err["code"], err.get("subcode")) == ("Conflict", "AlreadyExists")


async def test_make_me_available_emits_communication_and_me_updates(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        href = str(link(w.embedded("me"), "makeMeAvailable"))
        resp = await w.post(
            href, {"SupportedModalities": ["PhoneAudio"], "PhoneNumber": MY_WORK_PHONE}
        )
        assert resp.status_code == 204, resp.text
        await w.wait_event("communication", "updated", within=8)
        await w.wait_event("me", "updated", within=8)
        comm = next(e for e in w.events if e.rel == "communication")
        assert comm.sender == "communication"


async def test_presence_links_appear_only_after_make_me_available(
    shared_server, sim_credentials
) -> None:
    """`presence`, `note`, `location` are linked only once the user is available.

    docs/protocol.md §5.1.
    """
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me_href = str(link(w.embedded("me"), "self"))
        before = await w.get_json(me_href)
        assert not links(before) & {"presence", "note", "location"}, links(before)
        await w.parked()
        resp = await w.post(
            str(link(before, "makeMeAvailable")),
            {"supportedModalities": ["PhoneAudio"], "phoneNumber": MY_WORK_PHONE},
        )
        assert resp.status_code == 204
        after = await w.get_json(me_href)
        assert {"presence", "note", "location"} <= links(after), links(after)
        await w.wait_event("me", "updated", within=8)


async def test_make_me_available_with_audio_modality_is_forbidden(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        href = str(link(w.embedded("me"), "makeMeAvailable"))
        resp = await w.post(href, {"supportedModalities": ["Audio"], "phoneNumber": MY_WORK_PHONE})
        assert resp.status_code == 403
        assert error_body(resp)["code"] == "Forbidden"


async def test_report_my_activity_requires_make_me_available(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me = await w.get_json(str(link(w.embedded("me"), "self")))
        activity = link(me, "reportMyActivity") or link(w.embedded("me"), "reportMyActivity")
        assert activity, "me has no reportMyActivity link"
        resp = await w.post(activity)
        assert resp.status_code == 409
        err = error_body(resp)
        assert (err["code"], err.get("subcode")) == ("Conflict", "MakeMeAvailableRequired")
        resp = await w.post(
            str(link(me, "makeMeAvailable")),
            {"supportedModalities": ["PhoneAudio"], "phoneNumber": MY_WORK_PHONE},
        )
        assert resp.status_code == 204
        assert (await w.post(activity)).status_code == 204


async def test_communication_put_needs_if_match_and_the_whole_body(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        href = str(link(w.embedded("communication"), "self"))
        resp = await w.get(href)
        assert resp.status_code == 200
        etag = resp.headers.get("etag")
        assert etag, "communication GET has no Etag"
        body = resp.json()
        body["phoneNumber"] = "tel:" + MY_MOBILE_PHONE
        resp = await w.request("PUT", href, json=body)
        assert resp.status_code == 428
        assert error_body(resp)["code"] == "PreconditionRequired"
        resp = await w.request("PUT", href, json=body, headers={"If-Match": '"stale-etag"'})
        assert resp.status_code == 412
        assert error_body(resp)["code"] == "PreconditionFailed"
        marker = [k for k, v in body.items() if isinstance(v, str) and "PUT request" in v]
        assert marker, "communication has no random-named PUT marker property"
        partial = {k: v for k, v in body.items() if k not in marker}
        resp = await w.request("PUT", href, json=partial, headers={"If-Match": etag})
        assert resp.status_code == 400
        assert error_body(resp)["code"] == "BadRequest"
        resp = await w.request("PUT", href, json=body, headers={"If-Match": etag})
        assert resp.status_code in (200, 204), resp.text
        again = await w.get(href)
        assert again.json()["phoneNumber"].endswith(MY_MOBILE_PHONE)
        assert again.headers.get("etag") != etag


async def test_two_applications_of_one_user_are_independent(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        first_url, first_events = w.app_url, w.next_url
        await w.create_application()
        assert w.app_url != first_url and w.next_url != first_events
        assert (await w.request("DELETE", str(w.app_url))).status_code == 204
        assert (await w.get(str(first_url))).status_code == 200
