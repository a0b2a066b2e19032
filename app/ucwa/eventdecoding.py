"""Decoding event channel answers without freezing the loop.

Small answers are decoded at once. A huge one (thousands of events after a long stall) is decoded
in slices that yield to the loop, and its events are kept as JSON text until the consumer handles
them, a chunk at a time (see decode_answer for why).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from app.httpbody import (
    EVENTS_LIMIT,
    MAX_DEPTH,
    BodyError,
    check_json_type,
    checked_text,
    decode_at,
    decode_json,
)
from app.ucwa.errors import RemoteProtocolError, UnreadableBody
from app.ucwa.events import Event, EventBatch, parse_batch

log = logging.getLogger(__name__)

__all__ = [
    "BIG_BODY",
    "SLICE_S",
    "DeferredBatch",
    "decode_answer",
    "decode_yielding",
    "deferred_events",
]

# Longer than this and work on the loop lets other callbacks run (bench target: 20 ms).
SLICE_S: Final = 0.003
# Answers larger than this are decoded in slices and their events kept as text.
BIG_BODY: Final = 128 * 1024


async def decode_answer(
    body: bytes, base: str, *, content_type: str | None = None
) -> tuple[EventBatch, DeferredBatch | None]:
    """An event channel answer's batch; for a huge body also its events, still undecoded.

    Raises RemoteProtocolError for an empty body or a bad envelope, UnreadableBody for a body
    app.httpbody refuses (too large, too deep, not UTF-8, not JSON, malformed).
    """
    if not body:
        raise RemoteProtocolError("The event channel answered with an empty body.")
    what = "The event channel"
    if len(body) <= BIG_BODY:
        try:
            doc = decode_json(body, limit=EVENTS_LIMIT, content_type=content_type, what=what)
        except BodyError as exc:
            raise UnreadableBody(str(exc)) from exc
        return parse_batch(doc, base), None
    # A huge answer (thousands of events after a long stall) is decoded in slices on the loop:
    # json.loads holds the GIL for its whole run, so even a worker thread would freeze the UI for
    # as long as it takes (~150 ms for 10,000 events). Each event is kept as its JSON text and
    # only turned into objects by the consumer right before it is handled: ten thousand parsed
    # events are ~110,000 objects the cyclic GC would scan in 40+ ms pauses, strings are not
    # scanned at all. The envelope is still checked here, so a bad one is re-polled as usual.
    try:
        check_json_type(content_type, what=what)
        text = checked_text(body, limit=EVENTS_LIMIT, what=what, whole_depth=False)
    except BodyError as exc:
        raise UnreadableBody(str(exc)) from exc
    try:
        doc = await decode_yielding(text, raw_events=True)
    except BodyError as exc:  # decode_at, value by value
        raise UnreadableBody(f"{what} sent {exc}.") from exc
    except ValueError as exc:  # the walk's own syntax checks
        raise UnreadableBody(f"{what} sent malformed JSON.") from exc
    return await _split_deferred(doc, base)


@dataclass(slots=True)
class _Part:
    """One sender block of a huge answer: its identity and its events, still as JSON text."""

    meta: dict[str, Any]
    raw: list[str]  # in reverse order: popping from the end frees each text once parsed
    parsed: tuple[Event, ...] = ()  # odd shapes parsed right away, before ``raw``


@dataclass(slots=True)
class DeferredBatch:
    """A huge answer whose events are parsed lazily by the consumer (see decode_answer)."""

    links: Any
    resume: bool
    parts: list[_Part] = field(default_factory=list)


async def _split_deferred(doc: Any, base: str) -> tuple[EventBatch, DeferredBatch | None]:
    senders = doc.get("sender") if isinstance(doc, dict) else None
    if isinstance(senders, dict):
        senders = [senders]  # one block where an array was expected: tolerated like parse_batch
    if not isinstance(senders, list):
        return parse_batch(_decoded(doc), base), None  # odd shapes: the strict parser judges
    links = doc.get("_links")
    head = parse_batch({"_links": links}, base)
    deferred = DeferredBatch(links, bool(head.resume_href))
    for sender in senders:
        if not isinstance(sender, dict):
            raise RemoteProtocolError("A sender block is not an object.")
        raw = sender.get("events")
        meta = {k: v for k, v in sender.items() if k != "events"}
        if isinstance(raw, _RawEvents):
            if raw:
                # The same envelope check parse_batch makes, now rather than per chunk later.
                # (An event of no known type: parsed, then dropped silently.)
                probe = {**meta, "events": [{"link": {"rel": "probe", "href": "/"}, "type": "-"}]}
                parse_batch({"_links": links, "sender": [probe]}, base)
                raw.reverse()
                deferred.parts.append(_Part(meta, raw))
        else:
            events = parse_batch({"_links": links, "sender": [sender]}, base).events
            if events:
                deferred.parts.append(_Part(meta, [], events))
        await asyncio.sleep(0)
    return head, deferred


def _decoded(doc: Any) -> Any:
    """``doc`` with any raw event texts decoded (for the strict parser's odd-shape path)."""
    if isinstance(doc, _RawEvents):
        return [decode_json(text, limit=EVENTS_LIMIT) for text in doc]
    if isinstance(doc, dict):
        return {k: _decoded(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_decoded(v) for v in doc]
    return doc


def deferred_events(deferred: DeferredBatch, base: str) -> Iterator[Event]:
    """The events of a deferred answer in order, parsed a chunk at a time."""
    parts, links = deferred.parts, deferred.links
    parts.reverse()
    while parts:
        part = parts.pop()
        yield from part.parsed
        raw = part.raw
        while raw:
            chunk = [
                decode_json(raw.pop(), limit=EVENTS_LIMIT)
                for _ in range(min(_PARSE_CHUNK, len(raw)))
            ]
            block = {**part.meta, "events": chunk}
            try:
                events = parse_batch({"_links": links, "sender": [block]}, base).events
            except RemoteProtocolError as exc:  # checked in the producer; only a bug gets here
                log.warning("skipping %d unreadable events: %s", len(chunk), exc)
                continue
            del chunk, block
            yield from events
            del events


class _RawEvents(list[str]):
    """An ``events`` array whose members were kept as JSON text (see decode_answer)."""


_WS = re.compile(r"[ \t\n\r]*")
# Containers above this depth are walked piece by piece; deeper values (single events, at depth
# 4: root → sender[] → sender → events[] → event) are decoded whole by the C decoder.
_WALK_DEPTH = 4
# Events parsed together by the consumer. Small, so the parsed objects are gone before the GC's
# young generations see them twice: survivors are what makes full collections (40 ms) happen.
_PARSE_CHUNK = 16


class _Slicer:
    """Yields to the loop once the current slice of work has run longer than SLICE_S."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    async def pause(self) -> None:
        if time.perf_counter() - self.started > SLICE_S:
            await asyncio.sleep(0)
            self.started = time.perf_counter()


async def decode_yielding(text: str, *, raw_events: bool = False) -> Any:
    """The JSON document in an already checked ``text`` (app.httpbody.checked_text), decoded
    piece by piece (app.httpbody.decode_at) so the loop runs between the elements of large
    containers.

    With ``raw_events`` the members of ``sender[*].events`` are returned as their JSON text in a
    _RawEvents list (validated, but not kept as objects).
    """
    slicer = _Slicer()

    def skip(i: int) -> int:
        match = _WS.match(text, i)
        return match.end() if match else i

    async def value(i: int, depth: int, role: str = "") -> tuple[Any, int]:
        i = skip(i)
        opener = text[i : i + 1]
        if depth >= _WALK_DEPTH or opener not in ("{", "["):
            found, end = decode_at(text, i, depth_left=MAX_DEPTH - depth)
            await slicer.pause()
            return found, end
        closer = "]" if opener == "[" else "}"
        keep_raw = raw_events and role == "events" and opener == "["
        items: list[Any] = _RawEvents() if keep_raw else []
        members: dict[str, Any] = {}
        i = skip(i + 1)
        if text[i : i + 1] == closer:
            return (items if opener == "[" else members), i + 1
        while True:
            if opener == "{":
                if text[i : i + 1] != '"':
                    raise ValueError(f"expected a member name at {i}")
                key, i = decode_at(text, i)
                i = skip(i)
                if text[i : i + 1] != ":":
                    raise ValueError(f"expected ':' at {i}")
                members[key], i = await value(i + 1, depth + 1, _member_role(role, key))
            elif keep_raw:
                start = skip(i)
                # Validates; the objects die right here.
                _, i = decode_at(text, start, depth_left=MAX_DEPTH - depth - 1)
                items.append(text[start:i])
                await slicer.pause()
            else:
                item, i = await value(i, depth + 1, "sender" if role == "senders" else "")
                items.append(item)
            i = skip(i)
            separator = text[i : i + 1]
            if separator == closer:
                return (items if opener == "[" else members), i + 1
            if separator != ",":
                raise ValueError(f"expected ',' or {closer!r} at {i}")
            i = skip(i + 1)

    doc, end = await value(0, 0, "root")
    if skip(end) != len(text):
        raise ValueError("extra data after the JSON document")
    return doc


def _member_role(role: str, key: str) -> str:
    # root.sender is the sender array (or one sender object); sender.events holds the events.
    if role == "root" and key == "sender":
        return "senders"
    if role in ("senders", "sender") and key == "events":
        return "events"
    return ""
