"""Parsing resources and error bodies: strict where the protocol needs it, tolerant elsewhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.errors import ApplicationGone, RemoteProtocolError, ServerError
from app.ucwa.models import Link, parse_date, parse_error_body, parse_resource

BASE = "https://pool.contoso.com"


def test_relative_and_absolute_hrefs_resolve() -> None:
    res = parse_resource(
        {
            "rel": "communication",
            "_links": {
                "self": {"href": "/ucwa/app/7/communication"},
                "startPhoneAudio": {"href": "https://other.contoso.com/ucwa/app/7/pai"},
            },
        },
        BASE,
    )
    assert res.rel == "communication"
    assert res.href == BASE + "/ucwa/app/7/communication"
    assert res.link("startPhoneAudio") == "https://other.contoso.com/ucwa/app/7/pai"
    assert res.link("stopPhoneAudio") is None


def test_names_are_case_insensitive() -> None:
    res = parse_resource(
        {
            "rel": "application",
            "UserAgent": "x",
            "_links": {"Self": {"href": "/a"}, "EVENTS": {"href": "/a/events?ack=1"}},
            "_embedded": {
                "Communication": {"rel": "communication", "_links": {"self": {"href": "/c"}}}
            },
        },
        BASE,
    )
    assert res.prop("userAgent") == "x" and res.prop("USERAGENT") == "x"
    assert res.href == BASE + "/a"
    assert res.link("events") == BASE + "/a/events?ack=1"
    communication = res.first("communication")
    assert communication is not None and communication.href == BASE + "/c"
    assert "events" in res.links and "nope" not in res.links


def test_single_or_list_links_and_embedded() -> None:
    res = parse_resource(
        {
            "rel": "conversations",
            "_links": {
                "self": {"href": "/cs"},
                "conversation": [{"href": "/cs/1", "title": "One"}, {"href": "/cs/2"}],
            },
            "_embedded": {
                "acceptedByParticipant": [
                    {"rel": "participant", "uri": "sip:a@b", "_links": {"self": {"href": "/p/1"}}}
                ],
                "from": {"rel": "participant", "_links": {"self": {"href": "/p/2"}}},
            },
        },
        BASE,
    )
    assert res.links["conversation"] == (
        Link("conversation", BASE + "/cs/1", "One"),
        Link("conversation", BASE + "/cs/2"),
    )
    assert res.link_title("conversation") == "One"
    accepted = res.embedded["acceptedByParticipant"]
    assert len(accepted) == 1 and accepted[0].rel == "participant"
    assert accepted[0].text("uri") == "sip:a@b"
    assert res.first("from") is not None


def test_unknown_fields_are_kept_and_ignored() -> None:
    res = parse_resource(
        {
            "rel": "phoneAudio",
            "state": "Connected",
            "3f2f...": "please pass this in a PUT request",
            "etag": "123",
            "_links": {"self": {"href": "/pa", "revision": "2", "whatever": True}},
        },
        BASE,
    )
    assert res.prop("state") == "Connected"
    assert res.prop("etag") == "123"
    assert "_links" not in res.properties and "rel" not in res.properties


def test_text_reads_non_strings_as_absent() -> None:
    res = parse_resource({"rel": "x", "state": 3, "_links": {"self": {"href": "/x"}}}, BASE)
    assert res.text("state") is None and res.prop("state") == 3
    assert res.prop("missing", "dflt") == "dflt"


def test_missing_self_falls_back_to_the_given_identity() -> None:
    doc = {"_links": {"redirect": {"href": "https://contoso.com/Autodiscover/root"}}}
    assert parse_resource(doc, BASE).href == BASE
    assert parse_resource(doc, BASE, href="https://x/y").href == "https://x/y"
    assert parse_resource(doc, BASE, rel="root").rel == "root"
    assert parse_resource(doc, BASE).rel == ""


def test_embedded_items_need_a_self_link_else_are_skipped() -> None:
    # The multi-tab sample embeds "me": {} — a placeholder, not a resource.
    res = parse_resource(
        {"rel": "application", "_links": {"self": {"href": "/a"}}, "_embedded": {"me": {}}}, BASE
    )
    assert "me" not in res.embedded


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        "text",
        42,
        {"rel": 5, "_links": {"self": {"href": "/x"}}},
        {"rel": "x", "_links": []},
        {"rel": "x", "_links": {"self": {"href": 7}}},
        {"rel": "x", "_links": {"self": "/x"}},
        {"rel": "x", "_links": {"self": {"href": "/x"}}, "_embedded": []},
        {"rel": "x", "_links": {"self": {"href": "/x"}}, "_embedded": {"y": "nope"}},
        {"rel": "x", "_links": {"self": {"href": "/x"}, "bad": {"href": "http://[::1"}}},
    ],
)
def test_malformed_documents_raise_remote_protocol_error(doc: object) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_resource(doc, BASE)


def test_absurd_nesting_is_refused_not_recursed() -> None:
    doc: dict[str, Any] = {"rel": "x", "_links": {"self": {"href": "/x"}}}
    for _ in range(200):
        doc = {"rel": "x", "_links": {"self": {"href": "/x"}}, "_embedded": {"x": doc}}
    with pytest.raises(RemoteProtocolError):
        parse_resource(doc, BASE)


def test_resources_are_frozen() -> None:
    res = parse_resource({"rel": "x", "_links": {"self": {"href": "/x"}}}, BASE)
    with pytest.raises(AttributeError):
        res.rel = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1474932024822)/", datetime(2016, 9, 26, 23, 20, 24, 822000, tzinfo=UTC)),
        ("/Date(0)/", datetime(1970, 1, 1, tzinfo=UTC)),
        ("/Date(1474932024822+0000)/", datetime(2016, 9, 26, 23, 20, 24, 822000, tzinfo=UTC)),
        ("2016-09-26T23:20:24Z", datetime(2016, 9, 26, 23, 20, 24, tzinfo=UTC)),
        ("/Date(abc)/", None),
        ("/Date(999999999999999)/", None),
        (1474932024822, None),
        (None, None),
    ],
)
def test_dates(value: object, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_date_property_from_escaped_json() -> None:
    doc = json.loads(
        '{"rel":"conversation","created":"\\/Date(1474932024822)\\/",'
        '"_links":{"self":{"href":"/c"}}}'
    )
    created = parse_resource(doc, BASE).date("created")
    assert created is not None and created.year == 2016


# -- error bodies ---------------------------------------------------------------------------


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_error_body_with_diagnostics_and_retry_after() -> None:
    err = parse_error_body(
        409,
        {"x-ms-diagnostics": '1;source="fe";reason="dup"', "Retry-After": "7"},
        _body(code="Conflict", subcode="AlreadyExists", message="localised", debugInfo={"a": 1}),
    )
    assert type(err) is ServerError
    assert (err.status, err.code, err.subcode) == (409, "Conflict", "AlreadyExists")
    assert err.diagnostics == '1;source="fe";reason="dup"'
    assert err.retry_after == 7.0
    assert "localised" not in err.user_message  # the server's text is logged, not shown


def test_application_not_found_is_application_gone() -> None:
    err = parse_error_body(404, {}, _body(code="NotFound", subcode="ApplicationNotFound"))
    assert isinstance(err, ApplicationGone) and err.status == 404


@pytest.mark.parametrize("subcode", ["InactiveApplicationExpired", None])
def test_410_is_application_gone(subcode: str | None) -> None:
    assert isinstance(
        parse_error_body(410, {}, _body(code="Gone", subcode=subcode)), ApplicationGone
    )


@pytest.mark.parametrize(
    "subcode", ["TooManyApplications", "UserAgentNotAllowed", "CannotRedirect"]
)
def test_fatal_410s_are_not_recreated(subcode: str) -> None:
    err = parse_error_body(410, {}, _body(code="Gone", subcode=subcode))
    assert type(err) is ServerError and err.subcode == subcode


def test_other_404_is_a_plain_server_error() -> None:
    err = parse_error_body(404, {}, _body(code="NotFound"))
    assert type(err) is ServerError


@pytest.mark.parametrize(
    "body", [b"", b"<html>502 Bad Gateway</html>", b"\xff\xfe", b"[1,2]", b'"x"', b"{" * 5000]
)
def test_intermediary_bodies_give_a_status_only_error(body: bytes) -> None:
    err = parse_error_body(503, {"Retry-After": "2"}, body)
    assert (err.status, err.code, err.subcode, err.retry_after) == (503, None, None, 2.0)
    assert err.user_message


def test_subcode_none_means_absent() -> None:
    err = parse_error_body(409, {}, _body(code="Conflict", subcode="None"))
    assert err.subcode is None


def test_unknown_subcode_has_a_plain_message() -> None:
    err = parse_error_body(400, {}, _body(code="BadRequest", subcode="BrandNew"))
    assert err.user_message == "The server rejected the request."


@settings(max_examples=150)
@given(status=st.integers(100, 599), body=st.binary(max_size=200), header=st.text(max_size=30))
def test_error_parser_never_raises(status: int, body: bytes, header: str) -> None:
    err = parse_error_body(status, {"Retry-After": header, "X-Ms-Diagnostics": header}, body)
    assert isinstance(err, ServerError)


def test_error_headers_from_httpx() -> None:
    headers = httpx.Headers({"X-MS-DIAGNOSTICS": '28029;reason="x"', "retry-after": "3"})
    err = parse_error_body(503, headers, b"")
    assert err.diagnostics == '28029;reason="x"' and err.retry_after == 3.0
