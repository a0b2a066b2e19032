"""Bounded recovery: under a persistent fault on any endpoint during a call, the request rate stays
under a ceiling derived from the shared backoff, the status says "reconnecting" once, and the call's
final state is the server's."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from app.simulator import Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from tests.helpers.clientrig import placed
from tests.helpers.faultrig import (
    FAST,
    FastClient,
    fast_client,
    now,
    per_sim_minute,
    run_for_sim_seconds,
)

# The shared backoff doubles from ~1 s to a 30 s cap (15–30 s with jitter), so after the first
# simulated minute at most 4 recovery attempts start a minute. One attempt is at most ~8 requests
# (GET application with the transport's 2 repeats, discovery, POST applications, the first P-GET,
# makeMeAvailable, the call's re-read): 4 × 8 = 32, so 40 a minute is the ceiling. The loop this
# replaces made ~1,300 a minute.
CEILING_PER_MIN = 40.0
OUTAGE_SIM_S = 150.0
HTTP_TIMEOUT_S = 0.3
POLL_TIMEOUT_S = 1.0  # the simulator releases parked polls after 0.5 s

ENDPOINTS = {
    "events": "/events",
    "application": "/ucwa/oauth/v1/applications",  # the application and everything under it
    "conversation": "/conversations",  # conversation and phoneAudio
    "communication": "/communication",
    "me": "/me",
}


def _fault(sim: Simulator, kind: str, path: str) -> Callable[[], None]:
    many = 1_000_000

    def start() -> None:
        if kind == "timeout":
            sim.faults.stall_requests(path, POLL_TIMEOUT_S * 1.2, count=many)
        elif kind == "reset":
            sim.faults.reset_connection(path, count=many)
        elif kind == "503-retry-after":
            sim.faults.force_status(path, 503, count=many, retry_after=20)
        else:
            sim.faults.force_status(path, int(kind), count=many)

    return start


async def _outage(sim: Simulator, start: Callable[[], None], trigger: Callable[[], None]) -> float:
    start()
    trigger()
    t0 = now()
    await run_for_sim_seconds(OUTAGE_SIM_S)
    t1 = now()
    sim.faults.clear()
    # Measured after the first simulated minute (the first quick retries).
    return per_sim_minute([r.t for r in sim.request_log], t0 + 60 / FAST, t1)


def _reconnected_once(c: FastClient) -> bool:
    after = c.rec.connection[c.rec.connection.index("signed_in") + 1 :]
    return after == ["reconnecting", "signed_in"]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["404", "500", "503", "503-retry-after", "timeout", "reset"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_request_rate_stays_under_the_ceiling_and_the_call_ends_true(
    sim: Simulator,
    sim_server: SimServer,
    sim_credentials: tuple[str, str],
    endpoint: str,
    kind: str,
) -> None:
    async with fast_client(
        sim_server.discovery_url,
        *sim_credentials,
        http_timeout_s=HTTP_TIMEOUT_S,
        event_read_timeout_s=POLL_TIMEOUT_S,
    ) as c:
        await c.session.sign_in()
        await c.connected_call()
        if endpoint == "events":
            # The application survives: only the channel meets the fault; the call goes on.
            trigger = sim.faults.drop_event_channel
        else:
            # The application is lost (its call ends at the server); recovery meets the fault.
            trigger = sim.faults.expire_applications
        rate = await _outage(sim, _fault(sim, kind, ENDPOINTS[endpoint]), trigger)
        assert rate <= CEILING_PER_MIN, f"{rate:.0f} requests per minute"
        await c.until(lambda: "reconnecting" in c.rec.connection, within=5)
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=10)
        assert _reconnected_once(c), c.rec.connection
        if endpoint == "events":
            assert c.session.call.state is CallState.CONNECTED  # went on during the outage
            await c.session.hang_up()
            await c.until_state(CallState.ENDED)
        else:
            final = await c.until_state(CallState.ENDED, CallState.FAILED)
            assert final.reason is not None  # ended by the server, and the user is told why
        assert len(placed(sim)) == 1  # no second call


@pytest.mark.anyio
async def test_network_faults_through_the_control_endpoint(
    sim: Simulator, sim_server: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    base = sim_server.base_url
    root = sim_server.discovery_url
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as http:
        ok = await http.post(
            f"{base}/_sim/faults",
            json={"action": "reset_connection", "path_contains": "/autodiscover", "count": 1},
        )
        assert ok.status_code == 200, ok.text
        with caplog.at_level(logging.ERROR), pytest.raises(httpx.TransportError):
            await http.get(root)  # the connection is closed mid-answer
        # Asked for, so not reported as the server crashing (no traceback on the console).
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        ok = await http.post(
            f"{base}/_sim/faults",
            json={"action": "stall_requests", "path_contains": "/autodiscover", "seconds": 1},
        )
        assert ok.status_code == 200, ok.text
        with pytest.raises(httpx.TimeoutException):
            await http.get(root)
        assert (await http.get(root)).status_code == 200  # count=1: the next one is served
        too_long = await http.post(
            f"{base}/_sim/faults",
            json={"action": "stall_requests", "path_contains": "/", "seconds": 1e9},
        )
        assert too_long.status_code == 400  # bounded like every other control number
