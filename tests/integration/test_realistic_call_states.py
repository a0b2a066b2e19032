"""Against the realistic simulator: the call never shows Connected before the far end answered."""

from __future__ import annotations

import time

import pytest

from app.simulator import SimConfig
from app.simulator.serve import SimServer
from app.ucwa import CallState
from tests.helpers.clientrig import signed_in_client


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
