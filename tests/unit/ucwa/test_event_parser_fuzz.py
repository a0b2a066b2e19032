"""Fuzzing the event parser: any answer body becomes events or a protocol error, nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ucwa.errors import RemoteProtocolError
from app.ucwa.eventdecoding import BIG_BODY, decode_answer, deferred_events

BASE = "https://pool.contoso.com"

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_link = st.fixed_dictionaries({"href": st.text(max_size=30) | st.just("/e?ack=2")})
_event = st.fixed_dictionaries(
    {"link": st.fixed_dictionaries({"rel": st.text(max_size=12), "href": st.text(max_size=20)})},
    optional={"type": st.sampled_from(["added", "updated", "deleted", "started", "x"]) | _json},
)
_envelope = st.fixed_dictionaries(
    {"_links": st.dictionaries(st.sampled_from(["next", "resync", "resume"]), _link | _json)},
    optional={
        "sender": st.lists(
            st.fixed_dictionaries(
                {"rel": st.text(max_size=12), "href": st.text(max_size=20)},
                optional={"events": st.lists(_event | _json, max_size=5)},
            )
            | _json,
            max_size=3,
        )
    },
)


def _parse(body: bytes) -> list[Any]:
    async def run() -> list[Any]:
        batch, deferred = await decode_answer(body, BASE, content_type="application/json")
        events = list(batch.events)
        if deferred is not None:
            events.extend(deferred_events(deferred, BASE))
        return events

    try:
        return asyncio.run(run())
    except RemoteProtocolError:
        return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_events_or_a_protocol_error(body: bytes) -> None:
    _parse(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_envelope | _json)
def test_arbitrary_json_documents_are_events_or_a_protocol_error(doc: Any) -> None:
    _parse(json.dumps(doc).encode())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_envelope, st.integers(min_value=0, max_value=3))
def test_huge_answers_take_the_sliced_path_and_still_end_well(doc: Any, nesting: int) -> None:
    # Padding pushes the body past BIG_BODY, where it is decoded piece by piece.
    deep: Any = []
    for _ in range(nesting):
        deep = [deep]
    doc = dict(doc, pad="x" * BIG_BODY, deep=deep)
    _parse(json.dumps(doc).encode())


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=60, max_value=5000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_a_protocol_error_not_a_crash(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    body = '{"_links": {"next": {"href": "/e"}}, "x": ' + opener * depth + "1" + closer * depth
    body += "}"
    events = _parse(body.encode())
    assert events == []


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=61, max_value=3000))
def test_deep_nesting_in_a_huge_answer_is_refused_value_by_value(depth: int) -> None:
    event = {"link": {"rel": "phoneAudio", "href": "/pa"}, "type": "updated"}
    deep = "[" * depth + "]" * depth
    sender = '{"rel": "conversation", "href": "/c", "events": [' + json.dumps(event) + ", " + deep
    body = '{"_links": {"next": {"href": "/e"}}, "pad": "' + "x" * BIG_BODY + '", "sender": ['
    body += sender + "]}]}"

    async def run() -> str:
        try:
            await decode_answer(body.encode(), BASE, content_type="application/json")
        except RemoteProtocolError as exc:
            return str(exc)
        return "accepted"

    assert "nested more than 64 levels deep" in asyncio.run(run())
