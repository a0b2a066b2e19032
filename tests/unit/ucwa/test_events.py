"""Event-channel bodies: strict order, bodies and reasons, next/resync/resume, and fuzzing."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ucwa.errors import RemoteProtocolError
from app.ucwa.events import EventType, parse_batch, parse_reason
from app.ucwa.models import parse_resource

BASE = "https://pool.contoso.com"
APP = "/ucwa/oauth/v1/applications/7"
LINKS = {"self": {"href": APP + "/events?ack=1"}, "next": {"href": APP + "/events?ack=2"}}


def ev(rel: str, href: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"link": {"rel": rel, "href": href}, "type": kind, **extra}


def one_sender(rel: str, href: str, *events: dict[str, Any]) -> dict[str, Any]:
    """An event-channel body with one sender block holding ``events``."""
    return {"_links": LINKS, "sender": [{"rel": rel, "href": href, "events": list(events)}]}


def test_order_is_kept_across_repeated_senders() -> None:
    doc = {
        "_links": LINKS,
        "sender": [
            {
                "rel": "communication",
                "href": APP + "/communication",
                "events": [
                    ev("phoneAudioInvitation", "/i1", "started"),
                    ev("conversation", "/c1", "added"),
                ],
            },
            {
                "rel": "conversation",
                "href": APP + "/c1",
                "events": [ev("phoneAudio", "/c1/pa", "updated")],
            },
            {
                "rel": "communication",
                "href": APP + "/communication",
                "events": [ev("phoneAudioInvitation", "/i1", "completed", status="Success")],
            },
        ],
    }
    batch = parse_batch(doc, BASE)
    assert batch.next_href == BASE + APP + "/events?ack=2"
    assert batch.resync_href is None and batch.resume_href is None
    assert [(e.sender_rel, e.link.rel, e.type) for e in batch.events] == [
        ("communication", "phoneAudioInvitation", EventType.STARTED),
        ("communication", "conversation", EventType.ADDED),
        ("conversation", "phoneAudio", EventType.UPDATED),
        ("communication", "phoneAudioInvitation", EventType.COMPLETED),
    ]
    assert batch.events[2].sender_href == BASE + APP + "/c1"
    assert batch.events[3].status == "Success"
    assert batch.events[0].link.href == BASE + "/i1"


def test_embedded_body_keyed_by_rel_and_reason() -> None:
    body = {
        "rel": "phoneAudioInvitation",
        "state": "Failed",
        "operationId": "op",
        "_links": {"self": {"href": "/i1"}},
    }
    doc = one_sender(
        "communication",
        "/comm",
        ev(
            "phoneAudioInvitation",
            "/i1",
            "completed",
            _embedded={"phoneAudioInvitation": body},
            status="Failure",
            reason={"code": "RemoteFailure", "subcode": "Busy", "message": "x"},
        ),
    )
    (event,) = parse_batch(doc, BASE).events
    assert event.resource is not None and event.resource.prop("operationId") == "op"
    assert event.resource.href == BASE + "/i1"
    assert event.reason is not None
    assert (event.reason.code, event.reason.subcode) == ("RemoteFailure", "Busy")
    assert event.reason.message == "The line was busy."


def test_body_without_self_takes_the_event_link_and_reason_inside_the_body() -> None:
    doc = one_sender(
        "conversation",
        "/c1",
        ev(
            "phoneAudio",
            "/c1/pa",
            "updated",
            _embedded={
                "PhoneAudio": {
                    "state": "Disconnected",
                    "reason": {"code": "Informational", "subcode": "CallTerminated"},
                }
            },
        ),
    )
    (event,) = parse_batch(doc, BASE).events
    assert event.resource is not None
    assert event.resource.href == BASE + "/c1/pa" and event.resource.rel == "phoneAudio"
    assert event.reason is not None and event.reason.subcode == "CallTerminated"


def test_in_link_and_titles() -> None:
    doc = one_sender(
        "conversation",
        "/c1",
        {
            "link": {"rel": "participantAudio", "href": "/c1/p/bob/audio"},
            "in": {"rel": "participant", "href": "/c1/p/bob", "title": "Bob"},
            "type": "added",
        },
    )
    (event,) = parse_batch(doc, BASE).events
    assert event.in_link is not None and event.in_link.title == "Bob"


def test_with_resource_adds_a_fetched_body_and_its_reason() -> None:
    doc = {
        "_links": LINKS,
        "sender": [
            {
                "rel": "communication",
                "href": "/comm",
                "events": [ev("phoneAudioInvitation", "/i1", "updated")],
            }
        ],
    }
    (event,) = parse_batch(doc, BASE).events
    assert event.resource is None and event.reason is None
    body = parse_resource(
        {
            "rel": "phoneAudioInvitation",
            "state": "Declined",
            "reason": {"code": "RemoteFailure", "subcode": "Declined"},
            "_links": {"self": {"href": "/i1"}},
        },
        BASE,
    )
    fetched = event.with_resource(body)
    assert fetched.resource is body and fetched.reason is not None
    assert fetched.reason.subcode == "Declined"
    assert event.resource is None  # events are immutable


@pytest.mark.parametrize("rel", ["resync", "resume"])
def test_resync_and_resume_bodies(rel: str) -> None:
    batch = parse_batch({"_links": {rel: {"href": APP + "/events?ack=9"}}}, BASE)
    assert getattr(batch, f"{rel}_href") == BASE + APP + "/events?ack=9"
    assert batch.next_href is None and batch.events == ()


def test_timeout_release_has_no_events() -> None:
    assert parse_batch({"_links": LINKS}, BASE).events == ()
    assert parse_batch({"_links": LINKS, "sender": []}, BASE).events == ()
    assert parse_batch({"_links": LINKS, "sender": None}, BASE).events == ()


def test_unknown_event_types_are_skipped_case_is_ignored() -> None:
    doc = {
        "_links": LINKS,
        "sender": [
            {
                "rel": "conversation",
                "href": "/c1",
                "events": [ev("phoneAudio", "/pa", "morphed"), ev("phoneAudio", "/pa", "Updated")],
            }
        ],
    }
    (event,) = parse_batch(doc, BASE).events
    assert event.type is EventType.UPDATED


def test_single_objects_where_arrays_belong_are_tolerated() -> None:
    doc = {
        "_links": LINKS,
        "sender": {
            "rel": "conversation",
            "href": "/c1",
            "events": ev("phoneAudio", "/pa", "updated"),
        },
    }
    assert len(parse_batch(doc, BASE).events) == 1


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {},
        {"_links": {}},
        {"_links": {"self": {"href": "/e"}}},
        {"_links": {"next": {}}},
        {"_links": LINKS, "sender": "x"},
        {"_links": LINKS, "sender": [{"rel": "c", "events": [ev("x", "/x", "added")]}]},
    ],
)
def test_malformed_batches_raise_remote_protocol_error(doc: object) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_batch(doc, BASE)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "added"},
        {"link": {"rel": "x"}, "type": "added"},
        {"link": {"rel": "x", "href": "/x"}},
        "x",
        ev("x", "/x", "added", _embedded=[1]),
        {"link": {"rel": "x", "href": "http://[::1/x"}, "type": "added"},
    ],
)
def test_one_malformed_event_is_skipped_and_the_rest_of_the_package_kept(bad: object) -> None:
    # Refusing the package would re-poll it forever, fail the channel and drop the call.
    good = [ev("phoneAudio", "/pa/1", "updated"), ev("phoneAudio", "/pa/2", "updated")]
    doc = {
        "_links": LINKS,
        "sender": [{"rel": "c", "href": "/c", "events": [good[0], bad, good[1]]}],
    }
    batch = parse_batch(doc, BASE)
    assert [e.link.href for e in batch.events] == [BASE + "/pa/1", BASE + "/pa/2"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"code": "RemoteFailure", "subcode": "None"}, ("RemoteFailure", None)),
        ({"subcode": "Busy"}, (None, "Busy")),
        ({"message": "only words"}, None),
        ("Busy", None),
        ({"code": 3, "subcode": ["x"]}, None),
    ],
)
def test_parse_reason(doc: object, expected: tuple[str | None, str | None] | None) -> None:
    reason = parse_reason(doc)
    assert (None if reason is None else (reason.code, reason.subcode)) == expected


# -- fuzzing: nothing but RemoteProtocolError, ever ------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=40,
)
names = st.sampled_from(
    [
        "_links",
        "_embedded",
        "sender",
        "events",
        "link",
        "rel",
        "href",
        "type",
        "next",
        "resync",
        "resume",
        "self",
        "status",
        "reason",
        "in",
        "code",
        "subcode",
        "title",
        "phoneAudio",
        "added",
        "updated",
        "completed",
    ]
)
protocolish = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | names
    | st.text(max_size=8)
    | st.sampled_from(["/x", "https://h/y", "http://[::1", "", "//z", "data:,a"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(names | st.text(max_size=4), children, max_size=6)
    ),
    max_leaves=60,
)
odd_keys = st.dictionaries(st.integers() | st.none() | st.text(max_size=3), json_values, max_size=4)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(json_values)
def test_fuzz_parse_batch_arbitrary_json(doc: object) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_batch(doc, BASE)


@FUZZ
@given(protocolish)
def test_fuzz_parse_batch_protocol_shaped(doc: object) -> None:
    for candidate in (doc, {"_links": LINKS, "sender": doc}, {"_links": doc, "sender": [doc]}):
        with contextlib.suppress(RemoteProtocolError):
            parse_batch(candidate, BASE)


@FUZZ
@given(st.lists(protocolish, max_size=4), st.lists(odd_keys, max_size=3))
def test_fuzz_parse_batch_events_and_odd_dicts(events: list[Any], odd: list[Any]) -> None:
    doc = {
        "_links": LINKS,
        "sender": [{"rel": "conversation", "href": "/c", "events": events}, *odd],
    }
    try:
        batch = parse_batch(doc, BASE)
    except RemoteProtocolError:
        return
    for event in batch.events:
        assert event.link.href.startswith(("https://", "http://", "data:"))


@FUZZ
@given(protocolish)
def test_fuzz_parse_resource(doc: object) -> None:
    for candidate in (doc, {"rel": "x", "_links": doc, "_embedded": doc}):
        with contextlib.suppress(RemoteProtocolError):
            parse_resource(candidate, BASE)


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_json_text_roundtrip(text: str) -> None:
    try:
        doc = json.loads(text)
    except ValueError:
        return
    with contextlib.suppress(RemoteProtocolError):
        parse_batch(doc, BASE)


def test_events_are_frozen_and_keep_their_own_reason() -> None:
    doc = one_sender(
        "communication",
        "/comm",
        ev(
            "phoneAudioInvitation",
            "/i1",
            "completed",
            reason={"code": "RemoteFailure", "subcode": "Busy"},
        ),
    )
    (event,) = parse_batch(doc, BASE).events
    body = parse_resource(
        {
            "rel": "phoneAudioInvitation",
            "reason": {"subcode": "Declined"},
            "_links": {"self": {"href": "/i1"}},
        },
        BASE,
    )
    fetched = event.with_resource(body)
    assert fetched.reason is not None and fetched.reason.subcode == "Busy"  # event-level wins
    with pytest.raises(AttributeError):
        event.status = "x"  # type: ignore[misc]


@FUZZ
@given(odd_keys, odd_keys)
def test_fuzz_parse_resource_with_non_string_keys(
    odd: dict[Any, Any], links: dict[Any, Any]
) -> None:
    doc: dict[Any, Any] = {**odd, "_links": {**links, "self": {"href": "/x"}}, "_embedded": odd}
    with contextlib.suppress(RemoteProtocolError):
        resource = parse_resource(doc, BASE)
        assert all(isinstance(name, str) for name in resource.properties)
