"""The UCWA event channel: one long-poll producer following ``next``, one strictly ordered consumer.

Theory of operation (spec §7.5, aesthetics §4.4). The producer keeps exactly one P-GET outstanding.
When a response arrives it decides the next URL (``next``, ``resync`` or ``resume`` — never editing
``ack``), puts the parsed batch on a queue and immediately issues the next GET, so the server can
park it before we spend any time on the events. The consumer takes batches off the queue and hands
their events, one by one and in order, to the session's handler; it yields to the loop every few
milliseconds so a response with thousands of events cannot freeze the UI.

Failures: network errors, 5xx and 429 are retried on the same URL (safe: it was not acknowledged)
with capped exponential backoff and jitter, honouring ``Retry-After``; the first one reports
"reconnecting". A 409 PGetReplaced is retried once right away (our own retry may have replaced the
earlier poll); a second one in a row means another client owns the application. 404/410 (the
application is gone), authentication failures and anything we cannot interpret stop the producer
and are handed to ``on_failure``; the session decides what to do. Every wait is bounded with
``asyncio.timeout`` and every sleep goes through the injected ``sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from app.ucwa.errors import (
    AuthenticationError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.events import Event, EventBatch, parse_batch
from app.ucwa.links import origin, with_params
from app.ucwa.retry import Backoff
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = ["EventChannel"]

EventHandler = Callable[[Event], Awaitable[None]]

# Longer than this and the consumer lets the loop run other callbacks (bench target: 20 ms).
_SLICE_S: Final = 0.003
_BIG_BODY: Final = 128 * 1024
_MAX_GARBLED: Final = 3
_SETTLE_S: Final = 0.02


class EventChannel:
    """Long-polls ``events_href`` until closed or failed. Callbacks run on the consumer task."""

    def __init__(
        self,
        transport: Transport,
        events_href: str,
        *,
        handle_event: EventHandler,
        on_resume: Callable[[], Awaitable[None]] | None = None,
        on_reconnecting: Callable[[str], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
        on_failure: Callable[[UcwaError], None] | None = None,
        sleep: Sleep = asyncio.sleep,
        poll_timeout_s: int | None = 180,
        read_timeout_s: float | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._transport = transport
        self._base = origin(events_href)
        self._params: dict[str, str | int] = {}
        if poll_timeout_s is not None:
            # The server clamps to 180..1800; we only send in-range values (spec §7.2).
            self._params["timeout"] = max(180, min(1800, poll_timeout_s))
        self.url = with_params(events_href, **self._params) if self._params else events_href
        self._handle_event = handle_event
        self._on_resume = on_resume
        self._on_reconnecting = on_reconnecting
        self._on_recovered = on_recovered
        self._on_failure = on_failure
        self._sleep = sleep
        # Our read timeout must exceed the `timeout` we actually send (spec §7.2), not the value
        # asked for before clamping; tests shorten it.
        sent_timeout = self._params.get("timeout", 180)
        self._read_timeout_s = read_timeout_s or float(sent_timeout) + 30.0
        self._backoff = backoff or Backoff(first=0.5, cap=30.0)
        self._queue: asyncio.Queue[EventBatch | _Deferred] = asyncio.Queue()
        self._producer: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._sent = asyncio.Event()  # the current P-GET has reached the wire
        self._outstanding = False
        self._generation = 0
        self.reconnecting = False
        self._closing = False
        self.failure: UcwaError | None = None
        self.polls = 0  # P-GETs issued (tests, bench)
        self.events_handled = 0

    # -- lifetime -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._producer is not None:
            return
        self._producer = asyncio.get_running_loop().create_task(
            self._produce(), name="ucwa-events-producer"
        )
        self._consumer = asyncio.get_running_loop().create_task(
            self._consume(), name="ucwa-events-consumer"
        )

    async def aclose(self) -> None:
        """Stop both tasks; idempotent. Events still queued are dropped."""
        self._closing = True
        await cancel_and_wait([t for t in (self._producer, self._consumer) if t is not None])

    @property
    def running(self) -> bool:
        return self._producer is not None and not self._producer.done()

    async def wait_parked(self, timeout_s: float = 5.0) -> bool:
        """Wait until a P-GET is outstanding on the server (spec §6.2: park before calling).

        Real sockets report "request sent" through httpx's trace hook; in-process transports do
        not, so for them an outstanding request that has had a moment to arrive counts.
        """
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    if self._sent.is_set():
                        # Written to the socket is not yet parked on the server; a moment more
                        # avoids most 500 CallbackChannelError answers (the caller still retries).
                        await asyncio.sleep(_SETTLE_S)
                        return True
                    if self._outstanding:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.2):
                                await self._sent.wait()
                        if self._outstanding:
                            return True
                    else:
                        await asyncio.sleep(0.01)
        except TimeoutError:
            return False

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait until every queued batch has been handled (tests, orderly shutdown)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._queue.join()

    # -- producer -------------------------------------------------------------------------------

    async def _produce(self) -> None:
        try:
            await self._produce_until_failure()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug or an error nobody mapped must not end the task silently: the session would
            # show "signed in" while no events arrive. Report it (as a plain UcwaError: the
            # session then shows the failure instead of re-creating the app into the same bug).
            log.exception("event channel producer crashed")
            self._fail(
                exc
                if isinstance(exc, UcwaError)
                else UcwaError("The connection to the server stopped unexpectedly; sign in again.")
            )

    async def _produce_until_failure(self) -> None:
        url = self.url
        replaced = 0
        garbled = 0
        while not self._closing:
            self.url = url
            try:
                batch, deferred = await self._poll(url)
            except ServerError as exc:
                if exc.status == 409 and (exc.subcode or "").lower() == "pgetreplaced":
                    replaced += 1
                    if replaced >= 2:
                        self._fail(
                            SessionTakenOver(
                                "Another copy of the app signed in with this account and took "
                                "over the connection."
                            )
                        )
                        return
                    log.info("P-GET replaced; polling the same URL again once")
                    continue
                if exc.status in (404, 410) or not _transient(exc):
                    self._fail(exc)
                    return
                await self._wait_after(exc, exc.retry_after)
                continue
            except TransportError as exc:
                await self._wait_after(exc, None)
                continue
            except RemoteProtocolError as exc:
                garbled += 1
                if garbled >= _MAX_GARBLED:
                    self._fail(exc)
                    return
                await self._wait_after(exc, None)
                continue
            except AuthenticationError as exc:
                self._fail(exc)
                return
            replaced = garbled = 0
            self._recovered()
            if batch.resync_href:
                # Spec §7.6/§12 #14: the server re-delivers from the first unacknowledged
                # package, so nothing is lost; following the link is all there is to do.
                log.info("event channel: resync")
                url = batch.resync_href
                continue
            if batch.resume_href:
                log.info("event channel: resume (server state was reset)")
                url = (
                    with_params(batch.resume_href, **self._params)
                    if self._params
                    else (batch.resume_href)
                )
            elif batch.next_href:
                url = batch.next_href
            else:
                self._fail(RemoteProtocolError("The event channel answer has no next link."))
                return
            if deferred is not None and (deferred.parts or batch.resume_href):
                self._queue.put_nowait(deferred)  # the loop goes round and re-polls first
            elif batch.events or batch.resume_href:
                self._queue.put_nowait(batch)  # the loop goes round and re-polls before processing
            del batch, deferred  # only the queue may keep it alive while the next P-GET is parked

    async def _poll(self, url: str) -> tuple[EventBatch, _Deferred | None]:
        self._generation += 1
        generation = self._generation
        self._sent.clear()

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            if generation == self._generation and name.endswith("send_request_body.complete"):
                self._sent.set()

        self._outstanding = True
        self.polls += 1
        try:
            response = await self._transport.request(
                "GET",
                url,
                timeout_s=self._read_timeout_s,
                retry=False,
                extensions={"trace": trace},
            )
        finally:
            self._outstanding = False
            self._sent.clear()
        return await _parse_response(response, self._base)

    async def _wait_after(self, exc: UcwaError, retry_after: float | None) -> None:
        delay = self._backoff.next(retry_after)
        log.info("event channel: %s; retrying in %.1f s", exc, delay)
        if not self.reconnecting:
            self.reconnecting = True
            if self._on_reconnecting is not None:
                self._on_reconnecting(f"Connection lost; retrying in {delay:.0f} s")
        await self._sleep(delay)

    def _recovered(self) -> None:
        self._backoff.reset()
        if self.reconnecting:
            self.reconnecting = False
            if self._on_recovered is not None:
                self._on_recovered()

    def _fail(self, exc: UcwaError) -> None:
        log.info("event channel stopped: %r", exc)
        self.failure = exc
        if self._on_failure is not None:
            self._on_failure(exc)

    # -- consumer -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            item: EventBatch | _Deferred | None = await self._queue.get()
            try:
                if isinstance(item, _Deferred):
                    resume, pending = item.resume, _deferred_events(item, self._base)
                    item = None
                    await self._handle_events(resume, pending)
                elif item is not None:
                    resume, events = bool(item.resume_href), deque(item.events)
                    item = None  # from here on each event is freed as soon as it is handled
                    await self._handle_events(resume, _drain_deque(events))
            finally:
                item = None
                self._queue.task_done()

    async def _handle_events(self, resume: bool, pending: Iterator[Event]) -> None:
        if resume and self._on_resume is not None:
            await self._guard(self._on_resume())
        started = time.perf_counter()
        for event in pending:
            await self._guard(self._handle_event(event))
            del event
            self.events_handled += 1
            if time.perf_counter() - started > _SLICE_S:
                await asyncio.sleep(0)  # let the UI breathe; order is kept
                started = time.perf_counter()

    async def _guard(self, work: Awaitable[None]) -> None:
        # One bad event must not stop the channel: log it and go on with the next one.
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handling an event failed")


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], *, within: float = 5.0) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again if a cancellation got swallowed.

    Python 3.11's ``asyncio.wait_for`` can lose a cancellation when its inner future finishes
    at the same moment (an in-process server parked on a long-poll does exactly that), so one
    ``cancel()`` is not always enough. Bounded: a task that refuses to stop is left behind.
    """
    current = asyncio.current_task()
    pending = {t for t in tasks if t is not current and not t.done()}
    for task in tasks:
        if task is not current:
            task.cancel()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while pending and loop.time() < deadline:
        _done, pending = await asyncio.wait(pending, timeout=0.05)
        for task in pending:
            task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: the owner already logged or handled it
    if pending:
        log.warning("%d task(s) did not stop when cancelled", len(pending))


def _transient(exc: ServerError) -> bool:
    return exc.status in (408, 429) or exc.status >= 500


async def _parse_response(
    response: httpx.Response, base: str
) -> tuple[EventBatch, _Deferred | None]:
    body = response.content
    if not body:
        raise RemoteProtocolError("The event channel answered with an empty body.")
    if len(body) <= _BIG_BODY:
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise RemoteProtocolError("The event channel sent malformed JSON.") from exc
        return parse_batch(doc, base), None
    # A huge answer (thousands of events after a long stall) is decoded in slices on the loop:
    # json.loads holds the GIL for its whole run, so even a worker thread would freeze the UI for
    # as long as it takes (~150 ms for 10,000 events). Each event is kept as its JSON text and
    # only turned into objects by the consumer right before it is handled: ten thousand parsed
    # events are ~110,000 objects the cyclic GC would scan in 40+ ms pauses, strings are not
    # scanned at all. The envelope is still checked here, so a bad one is re-polled as usual.
    try:
        text = body.decode("utf-8-sig")
        doc = await _decode_yielding(text, raw_events=True)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RemoteProtocolError("The event channel sent malformed JSON.") from exc
    return await _split_deferred(doc, base)


@dataclass(slots=True)
class _Part:
    """One sender block of a huge answer: its identity and its events, still as JSON text."""

    meta: dict[str, Any]
    raw: list[str]  # in reverse order: popping from the end frees each text once parsed
    parsed: tuple[Event, ...] = ()  # odd shapes parsed right away, before ``raw``


@dataclass(slots=True)
class _Deferred:
    """A huge answer whose events are parsed lazily by the consumer (see _parse_response)."""

    links: Any
    resume: bool
    parts: list[_Part] = field(default_factory=list)


async def _split_deferred(doc: Any, base: str) -> tuple[EventBatch, _Deferred | None]:
    senders = doc.get("sender") if isinstance(doc, dict) else None
    if isinstance(senders, dict):
        senders = [senders]  # one block where an array was expected: tolerated like parse_batch
    if not isinstance(senders, list):
        return parse_batch(_decoded(doc), base), None  # odd shapes: the strict parser judges
    links = doc.get("_links")
    head = parse_batch({"_links": links}, base)
    deferred = _Deferred(links, bool(head.resume_href))
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
        return [json.loads(text) for text in doc]
    if isinstance(doc, dict):
        return {k: _decoded(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_decoded(v) for v in doc]
    return doc


def _deferred_events(deferred: _Deferred, base: str) -> Iterator[Event]:
    """The events of a deferred answer in order, parsed a chunk at a time."""
    parts, links = deferred.parts, deferred.links
    parts.reverse()
    while parts:
        part = parts.pop()
        yield from part.parsed
        raw = part.raw
        while raw:
            chunk = [json.loads(raw.pop()) for _ in range(min(_PARSE_CHUNK, len(raw)))]
            block = {**part.meta, "events": chunk}
            try:
                events = parse_batch({"_links": links, "sender": [block]}, base).events
            except RemoteProtocolError as exc:  # checked in the producer; only a bug gets here
                log.warning("skipping %d unreadable events: %s", len(chunk), exc)
                continue
            del chunk, block
            yield from events
            del events


def _drain_deque(events: deque[Event]) -> Iterator[Event]:
    while events:
        yield events.popleft()


class _RawEvents(list[str]):
    """An ``events`` array whose members were kept as JSON text (see _parse_response)."""


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# Containers above this depth are walked piece by piece; deeper values (single events, at depth
# 4: root → sender[] → sender → events[] → event) are decoded whole by the C decoder.
_WALK_DEPTH = 4
# Events parsed together by the consumer. Small, so the parsed objects are gone before the GC's
# young generations see them twice: survivors are what makes full collections (40 ms) happen.
_PARSE_CHUNK = 16


class _Slicer:
    """Yields to the loop once the current slice of work has run longer than _SLICE_S."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    async def pause(self) -> None:
        if time.perf_counter() - self.started > _SLICE_S:
            await asyncio.sleep(0)
            self.started = time.perf_counter()


async def _decode_yielding(text: str, *, raw_events: bool = False) -> Any:
    """``json.loads(text)`` that lets the loop run between the elements of large containers.

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
            found, end = _DECODER.raw_decode(text, i)
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
                key, i = _DECODER.raw_decode(text, i)
                i = skip(i)
                if text[i : i + 1] != ":":
                    raise ValueError(f"expected ':' at {i}")
                members[key], i = await value(i + 1, depth + 1, _member_role(role, key))
            elif keep_raw:
                start = skip(i)
                _, i = _DECODER.raw_decode(text, start)  # validates; the objects die right here
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
