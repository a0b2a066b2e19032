"""The three hostile-server reports, end to end during a call: a persistent 404 on the event channel
while the application answers 200, a 200 event answer of 100,000 '[', and a gzip event answer that
expands to hundreds of megabytes. Each ends in the server's true final state, with a bounded number
of requests and bounded memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from app.simulator import Simulator
from app.simulator.hostile import hostile_response
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from tests.helpers.clientrig import placed
from tests.helpers.faultrig import fast_client, now, run_for_sim_seconds

pytestmark = pytest.mark.anyio

MANY = 1_000_000  # the fault lasts as long as the outage
OUTAGE_SIM_S = 150.0
# The first simulated minute (quick first retries, ~60 requests at most) and then the recovery's
# ceiling of 40 a minute (tests/integration/test_recovery_rate.py): 60 + 40 × 1.5. The loop of
# the report made ~22 a second, ~3,300 in the same time.
OUTAGE_REQUESTS = 120
EXTRA_MEMORY_LIMIT = 50 * 1024 * 1024  # the report's gzip body cost 945 MB


def _persistent_404(sim: Simulator) -> None:
    sim.faults.force_status("/events", 404, count=MANY)


def _deep(sim: Simulator) -> None:
    sim.faults.hostile_body("/events", "deep", count=MANY)


def _gzip_bomb(sim: Simulator) -> None:
    sim.faults.hostile_body("/events", "gzip_bomb", count=MANY)


SCENARIOS: dict[str, Callable[[Simulator], None]] = {
    "persistent-404-on-events-while-the-application-answers": _persistent_404,
    "100000-open-brackets": _deep,
    "gzip-bomb": _gzip_bomb,
}


@pytest.fixture(scope="module", autouse=True)
def _bomb_built() -> None:
    hostile_response("gzip_bomb", 200, 20.0)  # built once, before any memory is measured


def _live_at_server(sim: Simulator) -> bool:
    for _ in range(5):
        try:
            return any(c for app in list(sim.apps.values()) for c in app.live_conversations())
        except RuntimeError:  # changed under us by the server thread: look again
            continue
    raise AssertionError("could not read the simulator's state")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_hostile_event_channel_during_a_call_is_survived_with_bounded_cost(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str], scenario: str
) -> None:
    async with fast_client(
        sim_server.discovery_url, *sim_credentials, http_timeout_s=0.3, event_read_timeout_s=1.0
    ) as c:
        await c.session.sign_in()
        await c.connected_call()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            t0 = now()
            SCENARIOS[scenario](sim)
            sim.faults.drop_event_channel()  # the parked poll ends; the next ones meet the fault
            await run_for_sim_seconds(OUTAGE_SIM_S)
            during = len([r for r in sim.request_log if r.t >= t0])
            polls = len([r for r in sim.request_log if r.t >= t0 and "/events" in r.path])
            sim.faults.clear()
            extra = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        assert polls >= 2  # the fault was met again and again, not just once
        assert 0 < during <= OUTAGE_REQUESTS, f"{during} requests in {OUTAGE_SIM_S:.0f} sim s"
        assert extra < EXTRA_MEMORY_LIMIT, f"{extra / 2**20:.0f} MiB"
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=10)
        assert "reconnecting" in c.rec.connection  # the user was told while it lasted
        # The truth: the call never ended at the server, so it is shown connected, not ending.
        assert _live_at_server(sim)
        assert c.session.call.state is CallState.CONNECTED
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
        await c.until(lambda: not _live_at_server(sim))
        assert len(placed(sim)) == 1  # never a second call
