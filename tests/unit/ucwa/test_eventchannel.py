"""Event channel: next poll before processing, strict order, resync, resume, replaced polls."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.ucwa.errors import ApplicationGone, SessionTakenOver, UcwaError
from app.ucwa.eventchannel import EventChannel
from app.ucwa.events import Event
from app.ucwa.retry import Backoff
from app.ucwa.transport import Transport

BASE = "https://pool.contoso.com"
EVENTS = f"{BASE}/ucwa/oauth/v1/applications/7/events?ack=1"


def body(ack: int | None, *names: str, **links: str) -> dict[str, Any]:
    """A P-GET answer whose events are phoneAudio updates with hrefs named after ``names``."""
    doc_links = {rel: {"href": href} for rel, href in links.items()}
    if ack is not None:
        doc_links["next"] = {"href": f"/ucwa/oauth/v1/applications/7/events?ack={ack}"}
    events = [{"link": {"rel": "phoneAudio", "href": f"/pa/{n}"}, "type": "updated"} for n in names]
    sender = [{"rel": "conversation", "href": "/conv/1", "events": events}] if events else []
    return {"_links": doc_links, "sender": sender}


Reply = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Server:
    """Answers P-GETs from a script keyed by the ack; unknown acks park until released."""

    def __init__(self) -> None:
        self.script: dict[str, list[Any]] = {}
        self.polls: list[str] = []
        self.release = asyncio.Event()

    def on(self, ack: str, *answers: Any) -> None:
        self.script.setdefault(ack, []).extend(answers)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.polls.append(str(request.url))
        ack = request.url.params.get("ack", "")
        queue = self.script.get(ack)
        if not queue:
            await self.release.wait()
            return httpx.Response(200, json=body(int(ack or 0)))
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return await answer(request)
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.marks: list[str] = []
        self.failures: list[UcwaError] = []
        self.sleeps: list[float] = []

    async def handle(self, event: Event) -> None:
        self.events.append(event.link.href.rsplit("/", 1)[-1])

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        await asyncio.sleep(0)


def channel(server: Server, rec: Recorder, **kwargs: Any) -> tuple[httpx.AsyncClient, EventChannel]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    kwargs.setdefault("handle_event", rec.handle)
    ch = EventChannel(
        Transport(http, sleep=rec.sleep),
        EVENTS,
        on_resume=lambda: _mark(rec, "resume"),
        on_reconnecting=lambda detail: rec.marks.append("reconnecting"),
        on_recovered=lambda: rec.marks.append("recovered"),
        on_failure=rec.failures.append,
        sleep=rec.sleep,
        backoff=Backoff(first=1.0, cap=8.0, rng=lambda: 1.0),
        **kwargs,
    )
    return http, ch


async def _mark(rec: Recorder, what: str) -> None:
    rec.marks.append(what)


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        # Polling is fine here: conditions span several tasks and no single Event covers them.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.001)


@pytest.mark.anyio
async def test_first_poll_keeps_ack_and_adds_timeout() -> None:
    server, rec = Server(), Recorder()
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: len(server.polls) == 1)
        await ch.aclose()
    assert server.polls[0] == EVENTS + "&timeout=180"


@pytest.mark.anyio
async def test_next_poll_goes_out_before_events_are_processed_in_order() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(2, "a", "b", "c"))
    gate = asyncio.Event()
    polls_seen_by_first_event: list[int] = []

    async def slow(event: Event) -> None:
        if not rec.events:
            polls_seen_by_first_event.append(len(server.polls))
            await gate.wait()
        await rec.handle(event)

    http, ch = channel(server, rec, handle_event=slow)
    async with http:
        ch.start()
        await until(lambda: len(server.polls) == 2)  # ack=2 is parked while "a" is blocked
        assert rec.events == []
        gate.set()
        await until(lambda: len(rec.events) == 3)
        await ch.aclose()
    assert rec.events == ["a", "b", "c"]
    assert "ack=2" in server.polls[1]


@pytest.mark.anyio
async def test_order_is_kept_across_batches_and_senders() -> None:
    server, rec = Server(), Recorder()
    doc = body(2, "a", "b")
    doc["sender"].append({"rel": "communication", "href": "/comm", "events": []})
    doc["sender"].append(body(None, "c")["sender"][0])
    server.on("1", doc)
    server.on("2", body(3, "d"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: len(rec.events) == 4)
        await ch.aclose()
    assert rec.events == ["a", "b", "c", "d"]


@pytest.mark.anyio
async def test_resync_is_followed() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(None, resync="/ucwa/oauth/v1/applications/7/events?ack=5"))
    server.on("5", body(6, "x"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["x"])
        await ch.aclose()
    assert server.polls[1].endswith("ack=5")  # resync href used verbatim


@pytest.mark.anyio
async def test_resume_flushes_first_and_resends_parameters() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(None, "after", resume="/ucwa/oauth/v1/applications/7/events?ack=9"))

    async def handle(event: Event) -> None:
        rec.marks.append("event")
        await rec.handle(event)

    http, ch = channel(server, rec, handle_event=handle)
    async with http:
        ch.start()
        await until(lambda: len(server.polls) == 2 and rec.events == ["after"])
        await ch.aclose()
    assert rec.marks == ["resume", "event"]
    assert server.polls[1].endswith("ack=9&timeout=180")


def replaced() -> httpx.Response:
    return httpx.Response(409, json={"code": "Conflict", "subcode": "PGetReplaced"})


@pytest.mark.anyio
async def test_one_pget_replaced_repolls_the_same_url() -> None:
    server, rec = Server(), Recorder()
    server.on("1", replaced(), body(2, "a"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["a"])
        await ch.aclose()
    assert server.polls[0] == server.polls[1]
    assert rec.failures == [] and rec.sleeps == []


@pytest.mark.anyio
async def test_pget_replaced_twice_in_a_row_means_taken_over() -> None:
    server, rec = Server(), Recorder()
    server.on("1", replaced(), replaced(), body(2, "never"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: bool(rec.failures))
        await asyncio.sleep(0.01)
        await ch.aclose()
    assert isinstance(rec.failures[0], SessionTakenOver)
    assert len(server.polls) == 2 and not ch.running


@pytest.mark.anyio
async def test_503_with_retry_after_reports_reconnecting_then_recovers() -> None:
    server, rec = Server(), Recorder()
    busy = httpx.Response(503, json={"code": "ServiceUnavailable"}, headers={"Retry-After": "3"})
    server.on("1", busy, body(2, "a"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["a"])
        await ch.aclose()
    assert rec.sleeps == [3.0]
    assert rec.marks == ["reconnecting", "recovered"]
    assert server.polls[0] == server.polls[1]


@pytest.mark.anyio
async def test_network_errors_back_off_exponentially_with_a_cap() -> None:
    server, rec = Server(), Recorder()
    request = httpx.Request("GET", EVENTS)
    errors = [httpx.ConnectError("down", request=request) for _ in range(6)]
    server.on("1", *errors, body(2, "a"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["a"])
        await ch.aclose()
    assert rec.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert rec.marks == ["reconnecting", "recovered"]  # one visible status, not six


@pytest.mark.anyio
async def test_a_stalled_poll_is_abandoned_and_repeated() -> None:
    server, rec = Server(), Recorder()
    hang = asyncio.Event()

    async def stalled(request: httpx.Request) -> httpx.Response:
        await hang.wait()
        raise AssertionError("never answered")

    server.on("1", stalled, body(2, "a"))
    http, ch = channel(server, rec, read_timeout_s=0.05)
    ch._transport._grace_s = 0.01  # in-process transports ignore httpx timeouts
    async with http:
        ch.start()
        await until(lambda: rec.events == ["a"])
        await ch.aclose()
    assert server.polls[0] == server.polls[1]
    assert rec.marks == ["reconnecting", "recovered"]


@pytest.mark.anyio
async def test_application_gone_stops_and_reports() -> None:
    server, rec = Server(), Recorder()
    server.on("1", httpx.Response(404, json={"code": "NotFound", "subcode": "ApplicationNotFound"}))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: bool(rec.failures))
        await asyncio.sleep(0.01)
        await ch.aclose()
    assert isinstance(rec.failures[0], ApplicationGone)
    assert len(server.polls) == 1


@pytest.mark.anyio
async def test_a_failing_handler_does_not_stop_the_channel() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(2, "bad", "good"))

    async def handle(event: Event) -> None:
        if event.link.href.endswith("bad"):
            raise ValueError("boom")
        await rec.handle(event)

    http, ch = channel(server, rec, handle_event=handle)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["good"])
        await ch.aclose()


@pytest.mark.anyio
async def test_wait_parked_reports_an_outstanding_poll() -> None:
    server, rec = Server(), Recorder()
    http, ch = channel(server, rec)
    async with http:
        assert await ch.wait_parked(timeout_s=0.05) is False
        ch.start()
        assert await ch.wait_parked(timeout_s=1.0) is True
        await ch.aclose()


@pytest.mark.anyio
async def test_consumer_yields_to_the_loop_during_a_huge_batch() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(2, *[str(i) for i in range(40)]))
    ticks = 0
    ticks_seen: list[int] = []

    async def busy(event: Event) -> None:
        end = time.perf_counter() + 0.002  # a slow handler: 40 events ≈ 80 ms of CPU
        while time.perf_counter() < end:
            pass
        ticks_seen.append(ticks)
        await rec.handle(event)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    http, ch = channel(server, rec, handle_event=busy)
    async with http:
        tick_task = asyncio.create_task(ticker())
        ch.start()
        await until(lambda: len(rec.events) == 40)
        tick_task.cancel()
        await ch.aclose()
    assert rec.events == [str(i) for i in range(40)]
    # Other tasks ran between events (the loop was never held for the whole batch).
    assert len(set(ticks_seen)) >= 5


@pytest.mark.anyio
async def test_a_huge_answer_leaves_the_garbage_collector_alone() -> None:
    """The UI process shares this loop: its GC must stay on and nothing may stay frozen, even
    when the channel is closed while a huge batch is still queued."""
    frozen_before = gc.get_freeze_count()
    stuck = asyncio.Event()
    server, rec = Server(), Recorder()
    huge = body(2, *[str(i) for i in range(3000)])
    server.on("1", body(2, "first"))
    server.on("2", huge)

    async def handle(event: Event) -> None:
        rec.events.append(event.link.href.rsplit("/", 1)[-1])
        await stuck.wait()  # the consumer is busy with the first batch; the huge one queues

    gc_seen: list[bool] = []

    async def watch() -> None:
        while True:
            gc_seen.append(gc.isenabled())
            await asyncio.sleep(0)

    http, ch = channel(server, rec, handle_event=handle)
    async with http:
        watcher = asyncio.create_task(watch())
        ch.start()
        await until(lambda: len(server.polls) >= 3)  # the huge answer was parsed and queued
        await ch.aclose()
        watcher.cancel()
    assert rec.events == ["first"]
    assert gc.isenabled() and all(gc_seen)
    assert gc.get_freeze_count() == frozen_before


@pytest.mark.anyio
async def test_read_timeout_outlasts_the_timeout_actually_sent() -> None:
    # Asking for 60 s sends the minimum 180; reading for only 90 s would cut every quiet poll.
    server, rec = Server(), Recorder()
    read_timeouts: list[float] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        read_timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json=body(2, "x"))

    server.on("1", answer)
    http, ch = channel(server, rec, poll_timeout_s=60)
    async with http:
        ch.start()
        await until(lambda: rec.events == ["x"])
        await ch.aclose()
    assert server.polls[0].endswith("timeout=180")
    assert read_timeouts == [pytest.approx(210.0)]


@pytest.mark.anyio
async def test_an_unusable_next_link_is_reported_not_swallowed() -> None:
    server, rec = Server(), Recorder()
    bad_next = {"_links": {"next": {"href": "https://pool.contoso.com:ack/events?ack=2"}}}
    server.on("1", bad_next)
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: bool(rec.failures))
        await ch.aclose()
    assert not ch.running
    assert rec.marks[:1] == ["reconnecting"]  # counted as a garbled answer, retried, then failed


@pytest.mark.anyio
async def test_an_unexpected_crash_of_the_producer_is_reported() -> None:
    server, rec = Server(), Recorder()
    server.on("1", RuntimeError("bug in a transport"))
    http, ch = channel(server, rec)
    async with http:
        ch.start()
        await until(lambda: bool(rec.failures))
        await ch.aclose()
    assert "stopped unexpectedly" in rec.failures[0].user_message


@pytest.mark.anyio
async def test_an_unexpected_crash_of_the_consumer_is_reported_and_stops_polling() -> None:
    server, rec = Server(), Recorder()
    server.on("1", body(None, "after", resume="/ucwa/oauth/v1/applications/7/events?ack=9"))

    def broken_resume() -> Awaitable[None]:
        raise RuntimeError("bug while starting the resume handler")

    http, ch = channel(server, rec)
    ch._on_resume = broken_resume  # the injected failure: outside the per-event guard
    async with http:
        ch.start()
        await until(lambda: bool(rec.failures))
        await until(lambda: not ch.running)
        await ch.aclose()
    assert "stopped unexpectedly" in rec.failures[0].user_message
    assert ch.failure is rec.failures[0]


@pytest.mark.anyio
async def test_a_slow_consumer_pauses_polling_and_loses_no_event() -> None:
    server, rec = Server(), Recorder()
    for ack in range(1, 41):
        server.on(str(ack), body(ack + 1, f"e{ack}"))
    gate = asyncio.Event()

    async def stuck(event: Event) -> None:
        await gate.wait()
        await rec.handle(event)

    http, ch = channel(server, rec, handle_event=stuck)
    async with http:
        ch.start()
        await until(lambda: len(server.polls) >= 5)
        await asyncio.sleep(0.05)
        # One answer in the consumer's hands, the queue full, one read answer waiting to be
        # queued: the channel stops polling instead of piling up answers.
        assert len(server.polls) <= 8 + 3
        gate.set()
        await until(lambda: len(rec.events) == 40, within=5.0)
        await ch.aclose()
    assert rec.events == [f"e{n}" for n in range(1, 41)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "ctype", "words"),
    [
        (b"[" * 100_000, "application/json", "nested more than 64 levels deep"),
        (b'{"_links": {"next": {"href": "/\xff"}}}', "application/json", "not valid UTF-8"),
        (b"<html><body>Proxy error</body></html>", "text/html", "web page instead of an answer"),
    ],
)
async def test_a_hostile_answer_is_a_garbled_poll_that_is_repeated(
    content: bytes, ctype: str, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, rec = Server(), Recorder()
    server.on("1", httpx.Response(200, content=content, headers={"Content-Type": ctype}))
    server.on("1", body(2, "a"))
    http, ch = channel(server, rec)
    with caplog.at_level("INFO", logger="app.ucwa.eventchannel"):
        async with http:
            ch.start()
            await until(lambda: rec.events == ["a"])
            await ch.aclose()
    assert rec.failures == []
    assert rec.marks == ["reconnecting", "recovered"]
    assert rec.sleeps == [1.0]  # the usual backoff before polling again
    assert any(words in r.getMessage() for r in caplog.records)
