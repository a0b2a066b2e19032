"""Bounded recovery: under a persistent fault on any endpoint during a call, the request rate stays
under a ceiling derived from the shared backoff, the status says "reconnecting" once, and the call's
final state is the server's."""

from __future__ import annotations

import pytest

from app.simulator import Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from tests.helpers.clientrig import placed
from tests.helpers.faultrig import FAST, fast_client, now, per_sim_minute, run_for_sim_seconds

# The backoff doubles from ~1 s to a 30 s cap (15–30 s with jitter): after the first simulated
# minute at most 4 waits a minute end; each wait is followed by one attempt of at most ~4 requests
# (GET application, POST applications, GET/POST of the channel, reconcile) and the transport's own
# bounded repeats. 40 a minute leaves room for that, and is ~30x below the loop this replaces.
CEILING_PER_MIN = 40.0
OUTAGE_SIM_S = 240.0


def _connections(c: object) -> list[str]:
    return [s for s in c.rec.connection]  # type: ignore[attr-defined]


async def _outage(sim: Simulator, c: object, start_fault: object, clear: object) -> float:
    start_fault()  # type: ignore[operator]
    t0 = now()
    await run_for_sim_seconds(OUTAGE_SIM_S)
    t1 = now()
    clear()  # type: ignore[operator]
    # Measured after the first simulated minute (the first burst of quick retries).
    return per_sim_minute([r.t for r in sim.request_log], t0 + 60 / FAST, t1)


@pytest.mark.anyio
async def test_persistent_404_on_the_event_channel_is_paced_and_ends_reconnected(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with fast_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.sign_in()
        await c.connected_call()
        rate = await _outage(
            sim,
            c,
            lambda: (
                sim.faults.force_status("/events", 404, count=1_000_000),
                sim.faults.drop_event_channel(),
            ),
            sim.faults.clear,
        )
        assert rate <= CEILING_PER_MIN
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=10)
        assert _connections(c)[-3:] == ["signed_in", "reconnecting", "signed_in"]
        # The call went on at the server during the outage: it is still shown live.
        assert c.session.call.state is CallState.CONNECTED
        assert len(placed(sim)) == 1
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
