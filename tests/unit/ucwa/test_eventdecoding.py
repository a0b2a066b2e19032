"""Event channel answers: huge ones decoded in slices to exactly what json.loads would give."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.errors import RemoteProtocolError
from app.ucwa.eventdecoding import BIG_BODY, decode_answer, decode_yielding, deferred_events
from app.ucwa.events import parse_batch

BASE = "https://pool.contoso.com"


def body(ack: int | None, *names: str, **links: str) -> dict[str, Any]:
    """A P-GET answer whose events are phoneAudio updates with hrefs named after ``names``."""
    doc_links = {rel: {"href": href} for rel, href in links.items()}
    if ack is not None:
        doc_links["next"] = {"href": f"/ucwa/oauth/v1/applications/7/events?ack={ack}"}
    events = [{"link": {"rel": "phoneAudio", "href": f"/pa/{n}"}, "type": "updated"} for n in names]
    sender = [{"rel": "conversation", "href": "/conv/1", "events": events}] if events else []
    return {"_links": doc_links, "sender": sender}


def hrefs(events: Any) -> list[str]:
    return [event.link.href.rsplit("/", 1)[-1] for event in events]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]))
def test_sliced_json_decoding_equals_json_loads(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert asyncio.run(decode_yielding(text)) == json.loads(text)


@pytest.mark.parametrize("bad", ["", "{", '{"a" 1}', "[1 2]", "[1,]", '{"a":1}x', "{1:2}"])
def test_sliced_json_decoding_rejects_what_json_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        asyncio.run(decode_yielding(bad))


@pytest.mark.anyio
async def test_a_huge_answer_is_parsed_in_slices_to_the_same_events() -> None:
    doc = body(2, *[str(i) for i in range(3000)])
    doc["sender"].append({"rel": "communication", "href": "/comm", "events": []})
    doc["sender"].append(body(None, "tail")["sender"][0])
    raw = json.dumps(doc).encode()
    assert len(raw) > 128 * 1024
    expected = parse_batch(json.loads(raw), BASE)
    head, deferred = await decode_answer(raw, BASE)
    assert deferred is not None
    assert head.next_href == expected.next_href
    assert tuple(deferred_events(deferred, BASE)) == expected.events


@pytest.mark.anyio
async def test_a_huge_answer_with_a_bad_envelope_is_refused_whole() -> None:
    doc = body(2, *[str(i) for i in range(3000)])
    del doc["sender"][0]["href"]  # events without a sender: nothing can be matched to a call
    raw = json.dumps(doc).encode()
    with pytest.raises(RemoteProtocolError):
        await decode_answer(raw, BASE)


@pytest.mark.anyio
async def test_a_small_answer_is_decoded_at_once() -> None:
    raw = json.dumps(body(2, "a", "b")).encode()
    head, deferred = await decode_answer(raw, BASE)
    assert deferred is None
    assert hrefs(head.events) == ["a", "b"]
    assert head.next_href is not None and head.next_href.endswith("ack=2")


@pytest.mark.anyio
@pytest.mark.parametrize("size", [10, BIG_BODY + 10])
async def test_empty_or_malformed_answers_are_protocol_errors(size: int) -> None:
    with pytest.raises(RemoteProtocolError):
        await decode_answer(b"", BASE)
    garbled = b'{"sender": [' + b" " * size + b"}"
    with pytest.raises(RemoteProtocolError):
        await decode_answer(garbled, BASE)


@pytest.mark.anyio
async def test_a_huge_answer_keeps_its_events_as_text_until_they_are_handled() -> None:
    doc = body(2, *[str(i) for i in range(3000)])
    raw = ("\ufeff" + json.dumps(doc)).encode()  # a byte-order mark is tolerated too
    head, deferred = await decode_answer(raw, BASE)
    assert deferred is not None
    assert head.events == ()  # nothing decoded up front
    assert all(isinstance(text, str) for part in deferred.parts for text in part.raw)
    assert hrefs(deferred_events(deferred, BASE)) == [str(i) for i in range(3000)]


@pytest.mark.anyio
async def test_a_huge_answer_with_a_resume_link_says_so() -> None:
    doc = body(None, *[str(i) for i in range(3000)], resume="/ucwa/oauth/v1/applications/7/r")
    head, deferred = await decode_answer(json.dumps(doc).encode(), BASE)
    assert deferred is not None and deferred.resume
    assert head.resume_href == f"{BASE}/ucwa/oauth/v1/applications/7/r"


@pytest.mark.anyio
async def test_a_huge_answer_with_one_sender_object_is_read_like_an_array() -> None:
    doc = body(2, *[str(i) for i in range(3000)])
    doc["sender"] = doc["sender"][0]
    _head, deferred = await decode_answer(json.dumps(doc).encode(), BASE)
    assert deferred is not None
    assert hrefs(deferred_events(deferred, BASE)) == [str(i) for i in range(3000)]


@pytest.mark.anyio
async def test_slicing_lets_other_tasks_run_while_a_huge_text_is_decoded() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    text = json.dumps(body(2, *[str(i) for i in range(20000)]))
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = ticks
    assert await decode_yielding(text) == json.loads(text)
    task.cancel()
    assert ticks - started >= 2
