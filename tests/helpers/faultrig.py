"""Fault rigs for recovery tests: a session on compressed time, request-rate counting, and an
httpx transport wrapper that injects client-side network faults (DNS, TLS, reset, hostile body)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from app.simulator import Simulator
from app.ucwa import UcwaSession
from app.ucwa.discovery import MemoryDiscoveryCache
from tests.helpers.clientrig import Client, Recorder
from tests.helpers.tokens import PasswordGrant

# Simulated seconds per real second: a simulated minute of backoff takes 0.3 s.
FAST = 200.0


class FastSleeps:
    """Injected sleep on compressed time; ``asked`` is what the client wanted to wait."""

    def __init__(self, speedup: float = FAST) -> None:
        self.speedup = speedup
        self.asked: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.asked.append(delay)
        await asyncio.sleep(delay / self.speedup)


@dataclass
class ClientFaults:
    """Faults the wrapper injects for requests whose URL contains ``path_contains``."""

    path_contains: str = ""
    kind: str | None = None  # "dns" | "tls" | "reset" | "timeout" | "hostile" | "drip"
    remaining: int = 0  # how many requests still get the fault (a big number: persistent)
    seen: list[str] = field(default_factory=list)

    def set(self, kind: str, path_contains: str = "", count: int = 1_000_000) -> None:
        self.kind, self.path_contains, self.remaining = kind, path_contains.lower(), count

    def clear(self) -> None:
        self.kind, self.remaining = None, 0


# A proxy's answer in place of JSON: what a captive portal or a broken gateway sends.
HOSTILE_BODY = b"<html><body>" + b"[" * 100_000 + b"</body></html>"


class FaultyTransport(httpx.AsyncBaseTransport):
    """Wraps a real transport; raises what the network would (never in app/: tests only)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: ClientFaults) -> None:
        self._inner, self.faults = inner, faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        f = self.faults
        if f.kind and f.remaining > 0 and f.path_contains in str(request.url).lower():
            f.remaining -= 1
            f.seen.append(f"{request.method} {request.url.path}")
            if f.kind == "dns":
                raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
            if f.kind == "tls":
                raise httpx.ConnectError(
                    str(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")),
                    request=request,
                )
            if f.kind == "reset":
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
            if f.kind == "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            if f.kind == "drip":
                response = await self._inner.handle_async_request(request)
                return httpx.Response(
                    response.status_code,
                    headers=response.headers,
                    stream=_Drip(response.stream),
                    request=request,
                    extensions=response.extensions,
                )
            if f.kind == "hostile":
                return httpx.Response(
                    200,
                    headers={"content-type": "application/json"},
                    content=HOSTILE_BODY,
                    request=request,
                )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Drip(httpx.AsyncByteStream):
    """A body that arrives a few bytes at a time (a slow or congested server)."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._inner, httpx.AsyncByteStream)
        async for chunk in self._inner:
            for i in range(0, len(chunk), 64):
                await asyncio.sleep(0.001)
                yield chunk[i : i + 64]

    async def aclose(self) -> None:
        if isinstance(self._inner, httpx.AsyncByteStream):
            await self._inner.aclose()


class FastClient(Client):
    faults: ClientFaults


@asynccontextmanager
async def fast_client(
    discovery_url: str,
    user: str,
    password: str,
    *,
    speedup: float = FAST,
    http_timeout_s: float = 2.0,
    **kwargs: object,
) -> AsyncIterator[FastClient]:
    """A signed-out session on compressed time whose HTTP goes through a FaultyTransport."""
    rec, sleeps, faults = Recorder(), FastSleeps(speedup), ClientFaults()
    transport = FaultyTransport(httpx.AsyncHTTPTransport(), faults)
    timeout = httpx.Timeout(http_timeout_s)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
        tokens = PasswordGrant(http, user, password)
        session = UcwaSession(
            http,
            tokens,
            discovery_url=discovery_url,
            endpoint_id="fault-endpoint",
            sleep=sleeps,
            discovery_cache=MemoryDiscoveryCache(),
            **{"event_read_timeout_s": 5.0, **kwargs},  # type: ignore[arg-type]
        )
        session.add_listener(rec)
        c = FastClient(session, rec, tokens, sleeps)  # type: ignore[arg-type]
        c.faults = faults
        try:
            yield c
        finally:
            await session.aclose()


def request_times(sim: Simulator, since: float) -> list[float]:
    """Wall times of the requests the simulator saw after ``since`` (control calls excluded)."""
    return [r.t for r in sim.request_log if r.t > since]


def per_sim_minute(times: list[float], start: float, end: float, speedup: float = FAST) -> float:
    """Requests per simulated minute between two wall times."""
    minutes = (end - start) * speedup / 60.0
    return len([t for t in times if start <= t <= end]) / minutes


async def run_for_sim_seconds(seconds: float, speedup: float = FAST) -> None:
    await asyncio.sleep(seconds / speedup)


def now() -> float:
    return time.time()


def watch_loop_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], list[str]]:
    """Fail-collecting loop exception handler: returns a getter for what went unhandled."""
    errors: list[str] = []

    def handler(_loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        errors.append(str(context.get("message")) + ": " + repr(context.get("exception")))

    loop.set_exception_handler(handler)
    return lambda: errors
