"""The UCWA event channel: one long-poll producer following ``next``, one strictly ordered consumer.

Theory of operation (docs/protocol.md §7.5; layering in docs/architecture.md). The producer keeps
exactly one P-GET outstanding. When a response arrives it decides the next URL (``next``, ``resync``
or ``resume`` — never editing ``ack``), puts the parsed batch on a queue and immediately issues the
next GET, so the server can park it before we spend any time on the events. The consumer takes
batches off the queue and hands their events, one by one and in order, to the session's handler; it
yields to the loop every few milliseconds so a response with thousands of events cannot freeze the
UI.

Bounded input: each answer is read with a byte cap and decoded by app.httpbody (an answer it
refuses is an UnreadableBody, handled like any garbled poll), and at most _QUEUED_ANSWERS answers
wait for the consumer; past that the producer waits instead of polling.

Failures: network errors, 5xx and 429 are retried on the same URL (safe: it was not acknowledged)
with the session's shared backoff (app/ucwa/retry.py; ``Retry-After`` is a floor, and only a
successful poll resets it, so a restarted channel that fails again waits longer); the first one
reports "reconnecting". A 409 PGetReplaced is retried once right away (our own retry may have
replaced the earlier poll); a second one in a row means another client owns the application.
404/410 (the application is gone), authentication failures and anything we cannot interpret stop
the producer and are handed to ``on_failure``; the session decides what to do. Every wait is
bounded with ``asyncio.timeout`` and every sleep goes through the injected ``sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final

from app.httpbody import EVENTS_LIMIT
from app.ucwa.clockwatch import ClockWatch
from app.ucwa.errors import (
    AuthenticationError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.eventdecoding import SLICE_S, DeferredBatch, decode_answer, deferred_events
from app.ucwa.events import Event, EventBatch
from app.ucwa.links import origin, with_params
from app.ucwa.retry import Backoff, recovery_backoff
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = ["EventChannel"]

EventHandler = Callable[[Event], Awaitable[None]]

_MAX_GARBLED: Final = 3
# Answers read but not yet handled. When the consumer falls this far behind, the producer waits
# before polling again: the server keeps unacknowledged events (docs/protocol.md §7.5), so nothing
# is dropped, and memory stays below this many answers (each at most app.httpbody.EVENTS_LIMIT).
_QUEUED_ANSWERS: Final = 8
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
        clock: ClockWatch | None = None,
    ) -> None:
        self._transport = transport
        self._base = origin(events_href)
        self._params: dict[str, str | int] = {}
        if poll_timeout_s is not None:
            # The server clamps to 180..1800; we only send in-range values (docs/protocol.md §7.2).
            self._params["timeout"] = max(180, min(1800, poll_timeout_s))
        self.url = with_params(events_href, **self._params) if self._params else events_href
        self._handle_event = handle_event
        self._on_resume = on_resume
        self._on_reconnecting = on_reconnecting
        self._on_recovered = on_recovered
        self._on_failure = on_failure
        self._sleep = sleep
        # Our read timeout must exceed the `timeout` we actually send (docs/protocol.md §7.2), not
        # the value asked for before clamping; tests shorten it.
        sent_timeout = self._params.get("timeout", 180)
        self._read_timeout_s = read_timeout_s or float(sent_timeout) + 30.0
        self._backoff = backoff or recovery_backoff()
        self._clock = clock or ClockWatch()
        self._queue: asyncio.Queue[EventBatch | DeferredBatch] = asyncio.Queue(_QUEUED_ANSWERS)
        self._producer: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._sent = asyncio.Event()  # the current P-GET has reached the wire
        self._outstanding = False
        self._generation = 0
        self.reconnecting = False
        self._closing = False
        self.failure: UcwaError | None = None
        self.polls = 0  # P-GETs issued (tests, bench)
        self.answers = 0  # P-GETs answered with a usable batch
        self._outcome = asyncio.Event()  # the first answer, or the channel stopped
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
        """Wait until a P-GET is parked on the server (docs/protocol.md §6.2: park before calling).

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

    async def first_outcome(self) -> bool:
        """Wait for the first usable answer (True) or for the channel to stop (False)."""
        await self._outcome.wait()
        return self.answers > 0

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
            except _ClockJumped as jump:
                # After a suspend or a stall the parked poll may be on a dead connection: ask
                # again at once on the same URL (nothing was acknowledged).
                log.info("event channel: %s; polling again at once", jump)
                continue
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
                # docs/protocol.md §7.6/§12 #14: the server re-delivers from the first
                # unacknowledged package, so nothing is lost; following the link is all there is to
                # do.
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
                await self._queue.put(deferred)  # the loop goes round and re-polls first
            elif batch.events or batch.resume_href:
                await self._queue.put(batch)  # the loop goes round and re-polls before processing
            del batch, deferred  # only the queue may keep it alive while the next P-GET is parked

    async def _poll(self, url: str) -> tuple[EventBatch, DeferredBatch | None]:
        self._generation += 1
        generation = self._generation
        self._sent.clear()

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            if generation == self._generation and name.endswith("send_request_body.complete"):
                self._sent.set()

        self._outstanding = True
        self.polls += 1
        request = asyncio.ensure_future(
            self._transport.request(
                "GET",
                url,
                timeout_s=self._read_timeout_s,
                retry=False,
                extensions={"trace": trace},
                limit=EVENTS_LIMIT,
            )
        )
        watch = asyncio.ensure_future(self._clock.until_jump())
        try:
            await asyncio.wait({request, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not request.done():
                request.cancel()
            await asyncio.wait({request, watch})
            self._outstanding = False
            self._sent.clear()
        if request.cancelled() and watch.done() and not watch.cancelled():
            raise _ClockJumped(watch.result())
        response = request.result()
        return await decode_answer(
            response.content, self._base, content_type=response.headers.get("content-type")
        )

    async def _wait_after(self, exc: UcwaError, retry_after: float | None) -> None:
        delay = self._backoff.next(retry_after)
        log.info("event channel: %s; retrying in %.1f s", exc, delay)
        if not self.reconnecting:
            self.reconnecting = True
            if self._on_reconnecting is not None:
                self._on_reconnecting(f"Connection lost; retrying in {delay:.0f} s")
        await self._sleep(delay)

    def _recovered(self) -> None:
        self.answers += 1
        self._outcome.set()
        self._backoff.reset()
        if self.reconnecting:
            self.reconnecting = False
            if self._on_recovered is not None:
                self._on_recovered()

    def _fail(self, exc: UcwaError) -> None:
        log.info("event channel stopped: %r", exc)
        self.failure = exc
        self._outcome.set()
        if self._on_failure is not None:
            self._on_failure(exc)

    # -- consumer -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        try:
            await self._consume_until_closed()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Handlers are guarded one by one; what escapes here (decoding a deferred answer,
            # starting the resume handler) is a bug. Ending silently would leave the producer
            # blocked on the full queue and the session "signed in" without events: stop the
            # producer and report it, as the producer's own crash handler does.
            log.exception("event channel consumer crashed")
            if self._producer is not None:
                self._producer.cancel()
            self._fail(
                exc
                if isinstance(exc, UcwaError)
                else UcwaError("The connection to the server stopped unexpectedly; sign in again.")
            )

    async def _consume_until_closed(self) -> None:
        while True:
            item: EventBatch | DeferredBatch | None = await self._queue.get()
            try:
                if isinstance(item, DeferredBatch):
                    resume, pending = item.resume, deferred_events(item, self._base)
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
            if time.perf_counter() - started > SLICE_S:
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


class _ClockJumped(Exception):
    """The clocks say the machine slept or the loop stalled while a poll was parked."""


def _transient(exc: ServerError) -> bool:
    return exc.status in (408, 429) or exc.status >= 500


def _drain_deque(events: deque[Event]) -> Iterator[Event]:
    while events:
        yield events.popleft()
