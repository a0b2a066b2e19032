"""Conformance: 50 applications with parked long-polls do not stall a 51st request."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from app.simulator import SimConfig
from tests.helpers.ucwa_walker import Walker, walker

pytestmark = pytest.mark.anyio

PARKED = 50


@pytest.fixture
def sim_config() -> SimConfig:
    # Polls stay parked ~2 s: long enough to overlap the 51st request, short enough for CI.
    return SimConfig(speed=50, max_poll_s=2.0)


async def test_fifty_parked_polls_do_not_stall_anyone(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        limits = httpx.Limits(max_connections=PARKED + 20)
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as http:
            apps = []
            for _ in range(PARKED):
                other = Walker(http, w.discovery_url, w.user, w.password)
                other.auth, other.applications_url = w.auth, w.applications_url
                await other.create_application(endpointId=str(uuid.uuid4()))
                apps.append(other)
            t0 = time.monotonic()
            polls = [asyncio.create_task(a.pget(timeout=180)) for a in apps]
            await asyncio.sleep(0.2)
            assert not any(p.done() for p in polls), "polls were not held"

            # The 51st client: a read, an application create and a whole call set-up.
            started = time.monotonic()
            assert (await w.get(str(w.app_url))).status_code == 200
            read_s = time.monotonic() - started
            await w.parked()
            started = time.monotonic()
            assert (await w.start_call()).status_code == 201
            await w.wait_event("phoneAudioInvitation", "completed", within=3)
            call_s = time.monotonic() - started
            assert read_s < 0.25, read_s
            assert call_s < 1.5, call_s
            assert not all(p.done() for p in polls), "parked polls were released early"

            results = await asyncio.wait_for(asyncio.gather(*polls), 5)
            held = time.monotonic() - t0
            assert all(r.status_code == 200 for r in results)
            assert all("next" in r.json()["_links"] for r in results)
            assert held < 4.0, held
