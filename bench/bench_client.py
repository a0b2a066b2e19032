"""Client benchmarks: event-to-state latency, requests per call, a 10,000-event P-GET, memory
under a hostile body."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

import httpx

from app.ucwa import CallSnapshot, CallState, SessionStatus, UcwaSession
from app.ucwa.calls import CallTracker
from app.ucwa.discovery import MemoryDiscoveryCache
from app.ucwa.errors import UcwaError
from app.ucwa.eventchannel import EventChannel
from app.ucwa.events import Event
from app.ucwa.transport import Transport
from bench.bench_simulator import ANSWERED, PASSWORD, USER, Walker, _Probe, _simulator
from tests.helpers.tokens import PasswordGrant

Row = tuple[str, str, str]
TARGET_EXTRA_P99_MS = 5.0
TARGET_STALL_MS = 20.0
TARGET_HOSTILE_MB = 50.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class _Watch:
    """Listener that timestamps every snapshot the moment the session publishes it."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.at: dict[CallState, float] = {}

    def on_status(self, status: SessionStatus) -> None:
        return None

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.at[snapshot.state] = time.perf_counter()
        self.changed.set()


async def _until(session: UcwaSession, watch: _Watch, *states: CallState) -> None:
    async with asyncio.timeout(10):
        while session.call.state not in states:
            watch.changed.clear()
            await watch.changed.wait()


async def _client_latency(discovery: str, events: int) -> tuple[list[float], list[str]]:
    """POST hold/resume → the matching CallSnapshot published (same span the simulator bench
    measures up to the raw P-GET answer, plus parsing, dispatch and the state machine)."""
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        if not request.url.path.endswith("/events"):
            seen.append(f"{request.method} {request.url.path.rsplit('/', 1)[-1]}")

    async with httpx.AsyncClient(timeout=30.0, event_hooks={"request": [hook]}) as http:
        session = UcwaSession(
            http,
            PasswordGrant(http, USER, PASSWORD),
            discovery_url=discovery,
            endpoint_id="bench",
            discovery_cache=MemoryDiscoveryCache(),
        )
        watch = _Watch()
        session.add_listener(watch)
        await session.sign_in()
        try:
            # Warm-up call: the first call may meet one 500 CallbackChannelError (the first
            # P-GET not parked yet), which is not what "requests per call" is about.
            await session.start_call(ANSWERED, callback="+14255550123")
            await _until(session, watch, CallState.CONNECTED)
            await session.hang_up()
            await _until(session, watch, CallState.ENDED, CallState.FAILED)

            seen.clear()
            await session.start_call(ANSWERED, callback="+14255550123")
            await _until(session, watch, CallState.CONNECTED)
            per_call = list(seen)
            latencies: list[float] = []
            for i in range(events + 20):
                holding = session.call.state is CallState.CONNECTED
                target = CallState.ON_HOLD if holding else CallState.CONNECTED
                t0 = time.perf_counter()
                await (session.hold() if holding else session.resume())
                await _until(session, watch, target)
                if i >= 20:  # warm-up
                    latencies.append(watch.at[target] - t0)
            seen.clear()
            if session.call.state is CallState.ON_HOLD:
                await session.resume()
                await _until(session, watch, CallState.CONNECTED)
            seen.clear()
            await session.hang_up()
            await _until(session, watch, CallState.ENDED, CallState.FAILED)
            per_call += seen
        finally:
            await session.aclose()
    return latencies, per_call


async def _raw_latency(discovery: str, events: int) -> list[float]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        walker = Walker(http, discovery, USER, PASSWORD)
        await walker.sign_in()
        probe = _Probe(walker)
        await probe.connect()
        for _ in range(20):
            await probe.one()
        return [await probe.one() for _ in range(events)]


async def _big_batch(count: int) -> tuple[float, float]:
    """One P-GET answer with ``count`` events → (longest loop stall, total processing time)."""
    base = "https://pool.contoso.com"
    conv = f"{base}/ucwa/oauth/v1/applications/1/communication/conversations/c1"
    events = [
        {
            "link": {"rel": "phoneAudio", "href": f"{conv}/phoneAudio"},
            "_embedded": {
                "phoneAudio": {
                    "rel": "phoneAudio",
                    "state": "Connected",
                    "_links": {
                        "self": {"href": f"{conv}/phoneAudio"},
                        "holdPhoneAudio" if i % 2 else "resumePhoneAudio": {
                            "href": f"{conv}/phoneAudio/x{i}"
                        },
                    },
                }
            },
            "type": "updated",
        }
        for i in range(count)
    ]
    body = json.dumps(
        {
            "_links": {"self": {"href": "/e?ack=1"}, "next": {"href": "/e?ack=2"}},
            "sender": [{"rel": "conversation", "href": conv, "events": events}],
        }
    ).encode()
    del events  # the benchmark's own copy must not weigh on the collector either
    parked = asyncio.Event()

    async def server(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("ack") == "1":
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        await parked.wait()
        return httpx.Response(503)

    tracker = CallTracker("+14255550100", "op")
    done = asyncio.Event()
    handled = 0

    async def handle(event: Event) -> None:
        nonlocal handled
        if tracker.wants(event):
            tracker.apply(event)
        handled += 1
        if handled == count:
            done.set()

    stalls: list[float] = []

    async def ticker() -> None:
        # CPU time of this thread between two ticks: what our code held the loop for, without
        # the preemptions a busy machine adds to wall time.
        last = time.thread_time()
        while True:
            await asyncio.sleep(0.001)
            now = time.thread_time()
            stalls.append(now - last)
            last = now

    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        channel = EventChannel(
            Transport(http), f"{base}/e?ack=1", handle_event=handle, poll_timeout_s=None
        )
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        channel.start()
        async with asyncio.timeout(60):
            await done.wait()
        total = time.perf_counter() - t0
        tick.cancel()
        await channel.aclose()
    return max(stalls), total


class _PeakRss:
    """Samples this process's resident memory every 2 ms; ``extra`` is the peak above the start
    (the simulator runs in its own process, so only the client's memory is counted)."""

    _STATM = Path("/proc/self/statm")

    def __enter__(self) -> _PeakRss:
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.start) / 1e6

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    @classmethod
    def _rss(cls) -> int:
        return int(cls._STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _hostile_memory(discovery: str) -> list[tuple[str, float, str]]:
    """Peak extra RSS while one GET of the discovery root is answered normally, then with each
    hostile body; returns (label, MB, outcome)."""
    control = str(httpx.URL(discovery).copy_with(path="/_sim/faults", query=None))
    results: list[tuple[str, float, str]] = []
    async with httpx.AsyncClient() as http:
        transport = Transport(http)
        for label, kind in (
            ("normal answer (baseline)", None),
            ("gzip bomb (256 MiB decoded)", "gzip_bomb"),
            ("100,000 nested '['", "deep"),
            ("24 MiB document", "huge"),
        ):
            if kind is not None:
                fault = {"action": "hostile_body", "path_contains": "/autodiscover", "kind": kind}
                (await http.post(control, json=fault)).raise_for_status()
            with _PeakRss() as rss:
                try:
                    await transport.get_json(discovery, retry=False)
                    outcome = "read"
                except UcwaError as exc:
                    outcome = str(exc)
            results.append((label, rss.extra_mb, outcome))
    return results


def _row(label: str, value: str, target: str = "") -> Row:
    return (label, value, target)


async def _bench(discovery: str, quick: bool) -> list[Row]:
    events = 200 if quick else 1000
    hostile = await _hostile_memory(discovery)  # first: later benchmarks leave the heap grown
    raw = await _raw_latency(discovery, events)
    client, per_call = await _client_latency(discovery, events)
    extra = _pct(client, 0.99) - _pct(raw, 0.99)
    ok = "ok" if extra * 1000 < TARGET_EXTRA_P99_MS else "MISSED"
    minimum = ["POST phoneAudioInvitations", "POST stopPhoneAudio"]
    stall, total = await _big_batch(10_000)
    return [
        _row(f"event → call state p50 ({events} events)", _ms(_pct(client, 0.5))),
        _row(f"event → call state p99 ({events} events)", _ms(_pct(client, 0.99))),
        _row("  simulator's own event → poll p50", _ms(_pct(raw, 0.5))),
        _row("  simulator's own event → poll p99", _ms(_pct(raw, 0.99))),
        _row(
            "client p99 above the simulator's own",
            _ms(extra),
            f"< {TARGET_EXTRA_P99_MS:g} ms {ok}",
        ),
        _row(
            "requests per call (dial, hang up)",
            f"{len(per_call)}: {', '.join(per_call)}",
            f"= {len(minimum)} (protocol minimum) "
            + ("ok" if sorted(per_call) == sorted(minimum) else "MISSED"),
        ),
        _row(
            "10,000-event P-GET: longest loop hold (CPU)",
            _ms(stall),
            f"< {TARGET_STALL_MS:g} ms " + ("ok" if stall * 1000 < TARGET_STALL_MS else "MISSED"),
        ),
        _row("10,000-event P-GET: processed in", _ms(total)),
        *(
            _row(
                f"peak memory under a hostile body: {label}",
                f"+{mb:.1f} MB",
                ""
                if outcome == "read"
                else f"< {TARGET_HOSTILE_MB:g} MB "
                + ("ok" if mb < TARGET_HOSTILE_MB else "MISSED")
                + f" ({outcome[:40]})",
            )
            for label, mb, outcome in hostile
        ),
    ]


def run(quick: bool) -> list[Row]:
    with _simulator() as discovery:
        return asyncio.run(_bench(discovery, quick))
