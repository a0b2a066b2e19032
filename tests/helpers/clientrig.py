"""A UcwaSession wired to a simulator over real loopback HTTP, plus waiting helpers for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from app.simulator import Simulator
from app.ucwa import CallSnapshot, CallState, SessionStatus, UcwaSession
from app.ucwa.discovery import MemoryDiscoveryCache
from tests.helpers.tokens import PasswordGrant

# Backoffs and Retry-After waits run 20x faster; nothing is skipped, only scaled.
SPEEDUP = 20.0


class Recorder:
    def __init__(self) -> None:
        self.statuses: list[SessionStatus] = []
        self.calls: list[CallSnapshot] = []
        self.changed = asyncio.Event()

    def on_status(self, status: SessionStatus) -> None:
        self.statuses.append(status)
        self.changed.set()

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.calls.append(snapshot)
        self.changed.set()

    @property
    def states(self) -> list[str]:
        return [c.state.value for c in self.calls]

    @property
    def connection(self) -> list[str]:
        return [s.state.value for s in self.statuses]


class Sleeps:
    """Injected sleep: records what was asked for and waits a scaled-down real time."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.asked.append(delay)
        await asyncio.sleep(delay / SPEEDUP)


class Client:
    def __init__(
        self, session: UcwaSession, rec: Recorder, tokens: PasswordGrant, sleeps: Sleeps
    ) -> None:
        self.session, self.rec, self.tokens, self.sleeps = session, rec, tokens, sleeps

    async def until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self.rec.changed.clear()
                if condition():
                    return
                await self.rec.changed.wait()

    async def until_state(self, *states: CallState, within: float = 10.0) -> CallSnapshot:
        await self.until(lambda: self.session.call.state in states, within)
        return self.session.call

    async def connected_call(self, number: str = "+14255550100") -> CallSnapshot:
        await self.session.start_call(number, callback="+14255550123")
        return await self.until_state(CallState.CONNECTED)


@asynccontextmanager
async def client(
    discovery_url: str, user: str, password: str, **kwargs: object
) -> AsyncIterator[Client]:
    rec, sleeps = Recorder(), Sleeps()
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        tokens = PasswordGrant(http, user, password)
        session = UcwaSession(
            http,
            tokens,
            discovery_url=discovery_url,
            endpoint_id="it-endpoint",
            sleep=sleeps,
            discovery_cache=MemoryDiscoveryCache(),
            **kwargs,  # type: ignore[arg-type]
        )
        session.add_listener(rec)
        try:
            yield Client(session, rec, tokens, sleeps)
        finally:
            await session.aclose()


@asynccontextmanager
async def signed_in_client(
    discovery_url: str, user: str, password: str, **kwargs: object
) -> AsyncIterator[Client]:
    """``client`` that has already signed in (application created, event channel parked)."""
    async with client(discovery_url, user, password, **kwargs) as c:
        await c.session.sign_in()
        yield c


def requests(sim: Simulator, contains: str, method: str | None = None) -> list[str]:
    """Paths in the simulator's request log containing ``contains`` (case-insensitive)."""
    needle = contains.lower()
    return [
        r.path
        for r in sim.request_log
        if needle in r.path.lower() and (method is None or r.method == method)
    ]


async def logged(sim: Simulator, check: Callable[[], object], within: float = 3.0) -> None:
    """Wait until ``check()`` holds: the simulator logs a request when its handler finishes, on
    its own thread, which can be just after our client already has the answer."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the log lives on another thread
            await asyncio.sleep(0.01)


def placed(sim: Simulator) -> list[int]:
    """Statuses of startPhoneAudio POSTs, without 500 CallbackChannelError refusals (which place
    nothing and are legitimately repeated once the first P-GET is parked)."""
    return [
        r.status
        for r in sim.request_log
        if r.method == "POST" and r.path.endswith("phoneAudioInvitations") and r.status != 500
    ]


def creates(sim: Simulator) -> int:
    return len([p for p in requests(sim, "/applications", "POST") if p.endswith("/applications")])


__all__ = [
    "CallState",
    "Client",
    "Recorder",
    "client",
    "creates",
    "logged",
    "placed",
    "requests",
]
