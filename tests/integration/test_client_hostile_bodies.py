"""Hostile bodies mid-call, over real loopback HTTP: the session survives, the call's state stays
true, the error says what was wrong, and reading the body costs a bounded amount of memory."""

from __future__ import annotations

import logging
import time
import tracemalloc

import httpx
import pytest

from app.simulator import Simulator
from app.simulator.hostile import hostile_response
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from app.ucwa.errors import TransportError, UnreadableBody
from app.ucwa.transport import Transport
from tests.helpers.clientrig import signed_in_client

pytestmark = pytest.mark.anyio

# kind -> words the error must contain, so a person (or a log reader) knows what went wrong.
EXPECTED = {
    "deep": "nested more than 64 levels deep",
    "huge": "more than",
    "gzip_bomb": "more than",
    "invalid_utf8": "not valid UTF-8",
    "wrong_type": "text/plain instead of JSON",
    "html": "web page instead of an answer",
}
EXTRA_MEMORY_LIMIT = 50 * 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def _bomb_built() -> None:
    hostile_response("gzip_bomb", 200, 20.0)  # built once, before any memory is measured


class PeakMemory:
    """Peak traced memory above the level when measuring began (every thread, the server's too)."""

    def __enter__(self) -> PeakMemory:
        tracemalloc.start()
        self.base = tracemalloc.get_traced_memory()[0]
        self.extra = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.extra = tracemalloc.get_traced_memory()[1] - self.base
        tracemalloc.stop()


@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_a_hostile_event_answer_is_a_bad_poll_and_the_call_goes_on(
    kind: str,
    sim: Simulator,
    sim_server: SimServer,
    sim_credentials: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.ucwa")
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        with PeakMemory() as memory:
            sim.faults.hostile_body("/events", kind, count=1)
            sim.faults.drop_event_channel()  # the parked poll ends; the next one meets the body
            await c.until(lambda: c.session.status.state is ConnectionState.RECONNECTING)
            await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, 20.0)
        assert memory.extra < EXTRA_MEMORY_LIMIT, f"{memory.extra / 2**20:.0f} MiB"
        assert sim.faults.snapshot()["hostile"] == []  # the hostile answer was really served
        assert any(EXPECTED[kind] in r.getMessage() for r in caplog.records), [
            r.getMessage() for r in caplog.records if "event channel" in r.getMessage()
        ]
        assert c.session.call.state is CallState.CONNECTED
        await c.session.hold()  # events still flow: the hold is seen
        await c.until_state(CallState.ON_HOLD)
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)


@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_a_hostile_resource_answer_is_a_clear_error_and_the_call_goes_on(
    kind: str, sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        with PeakMemory() as memory:
            sim.faults.hostile_body("/phones", kind, count=1, method="GET")
            with pytest.raises(UnreadableBody) as caught:
                await c.session.my_phones()
        assert memory.extra < EXTRA_MEMORY_LIMIT, f"{memory.extra / 2**20:.0f} MiB"
        assert EXPECTED[kind] in caught.value.user_message
        assert c.session.status.state is ConnectionState.SIGNED_IN
        assert c.session.call.state is CallState.CONNECTED
        assert await c.session.my_phones()  # the next answer is read as usual
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)


async def test_a_server_dripping_one_byte_at_a_time_meets_the_request_deadline(
    sim: Simulator, sim_server: SimServer
) -> None:
    sim.faults.hostile_body("/autodiscover", "drip", count=1, drip_ms=50)
    async with httpx.AsyncClient() as http:
        transport = Transport(http, timeout_s=0.5, grace_s=0.3)
        started = time.monotonic()
        with pytest.raises(TransportError, match="did not answer in time"):
            await transport.get_json(sim_server.discovery_url, retry=False)
        assert time.monotonic() - started < 5.0
