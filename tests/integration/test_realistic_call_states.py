"""Against the realistic simulator: the call never shows Connected before the far end answered."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, UcwaSession
from app.ucwa.discovery import MemoryDiscoveryCache
from tests.helpers.clientrig import Recorder, signed_in_client
from tests.helpers.tokens import PasswordGrant

BASE = "http://127.0.0.1"  # plain http only on loopback (docs/protocol.md §3.4)


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(profile="realistic", speed=50, max_poll_s=0.5)


@pytest.mark.anyio
async def test_own_phone_connected_shows_ringing_them_and_the_timer_starts_at_the_answer(
    sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.start_call("+14255550100", callback="+14255550123")
        before = time.monotonic()
        connected = await c.until_state(CallState.CONNECTED)
        ringing = next(s for s in c.rec.calls if s.state is CallState.RINGING_THEM)
        assert ringing.connected_at is None  # no timer while the far end rings
        assert connected.connected_at is not None and connected.connected_at >= before
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
    states = c.rec.states
    assert states.index("ringing_them") < states.index("connected")


class InvitationFirst(httpx.AsyncBaseTransport):
    """Delivers each event answer with the invitation's sender block first: the far end's answer
    (invitation completed, Success) then reaches the client before phoneAudio Connected."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.reordered = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/events") or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        senders = body.get("sender") or []

        def completes(sender: dict[str, Any]) -> bool:
            return any(
                e.get("type") == "completed"
                and e.get("link", {}).get("rel") == "phoneAudioInvitation"
                for e in sender.get("events", [])
            )

        if any(completes(s) for s in senders):
            self.reordered += 1
            body["sender"] = sorted(senders, key=lambda s: not completes(s))
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, json=body)


async def _until(recorder: Recorder, condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            recorder.changed.clear()
            if condition():
                return
            await recorder.changed.wait()


@pytest.mark.anyio
async def test_far_end_answer_before_own_phone_connected_is_connected_at_once() -> None:
    sim = Simulator(SimConfig(profile="realistic", redirect="none", speed=50, max_poll_s=0.5))
    wire = InvitationFirst(httpx.ASGITransport(sim.asgi))
    shown: list[CallState] = []
    try:
        async with httpx.AsyncClient(transport=wire, base_url=BASE) as http:
            session = UcwaSession(
                http,
                PasswordGrant(http, "alice@contoso.com", "demo-password"),
                discovery_url=BASE + "/autodiscover/autodiscoverservice.svc/root",
                endpoint_id="order-test",
                discovery_cache=MemoryDiscoveryCache(),
            )
            recorder = Recorder()
            session.add_listener(recorder)
            try:
                await session.sign_in()
                await session.start_call("+14255550100", callback="+14255550123")
                await _until(recorder, lambda: session.call.state is CallState.CONNECTED)
                await session.hang_up()
                await _until(recorder, lambda: session.call.state.is_final)
            finally:
                await session.aclose()
            shown = [s.state for s in recorder.calls]
    finally:
        sim.close()
    assert wire.reordered >= 1
    assert CallState.RINGING_THEM not in shown  # the answer came first: straight to Connected
    assert shown[-1] is CallState.ENDED
