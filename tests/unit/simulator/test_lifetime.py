"""Applications that are deleted or expire are forgotten (bounded), and idle ones are swept."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator import simulator as simulator_mod
from app.simulator.serve import SimServer
from tests.unit.simulator.conftest import Ucwa, assert_ucwa_error
from tests.unit.simulator.test_serve import sign_in


async def _delete(client: Ucwa) -> None:
    response = await client.http.delete(client.url(client.link("self")), headers=client.auth)
    assert response.status_code == 204


@pytest.mark.anyio
async def test_a_deleted_application_is_forgotten_but_still_answers_404(
    sim: Simulator, ucwa: Ucwa
) -> None:
    await ucwa.call("tel:+14255550100")  # a far end that stays up until hung up
    aid = next(iter(sim.apps))
    conversation = next(iter(sim.apps[aid].conversations.values()))
    me = ucwa.link("me", "self")
    await _delete(ucwa)
    await asyncio.sleep(0)  # let the cancelled far end finish
    assert sim.apps == {}  # its state is gone with it ...
    assert conversation.task is None or conversation.task.done()  # ... and its far end stopped
    assert_ucwa_error(await ucwa.get(me), 404, "NotFound", "ApplicationNotFound")
    assert_ucwa_error(await ucwa.get(me), 404, "NotFound", "ApplicationNotFound")


@pytest.mark.anyio
async def test_expired_applications_keep_their_410_within_a_bounded_record(
    sim: Simulator, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator_mod, "_GONE_LIMIT", 2)
    first = Ucwa(http)
    await first.sign_in()
    sim.faults.expire_applications(inactive=True)
    me = first.link("me", "self")
    assert_ucwa_error(await first.get(me), 410, "Gone", "InactiveApplicationExpired")
    assert sim.apps == {}
    for _ in range(2):
        other = Ucwa(http)
        await other.sign_in()  # a new application each time: the last one was deleted
        await _delete(other)
    assert sim.apps == {}
    # Two later deletions pushed the first out of the record: a plain 404 now, which a client
    # handles the same way (it creates a new application).
    assert_ucwa_error(await first.get(me), 404, "NotFound", "ApplicationNotFound")


def test_an_abandoned_application_is_swept_without_any_request() -> None:
    config = SimConfig(speed=50, max_poll_s=0.1, app_idle_limit_s=0.3, sweep_interval_s=0.1)
    sim = Simulator(config)
    with SimServer(sim) as server, httpx.Client(base_url=server.base_url) as client:
        app, auth = sign_in(client, server.discovery_url)
        client.get(app["_links"]["events"]["href"], headers=auth)  # parked, then released
        start = app["_embedded"]["communication"]["_links"]["startPhoneAudio"]["href"]
        body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123"}
        assert client.post(start, json=body, headers=auth).status_code == 201
        conversation = next(iter(next(iter(sim.apps.values())).conversations.values()))
        # The client goes away without deleting anything; nobody sends another request.
        deadline = time.monotonic() + 5
        while sim.apps and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.apps == {}
        last = sim.request_log[-1]  # still the call: no request woke the server up
        assert (last.method, last.status) == ("POST", 201)
        assert not conversation.alive
        time.sleep(0.05)
        assert conversation.task is None or conversation.task.done()  # the far end stopped
        late = client.get(app["_embedded"]["me"]["_links"]["self"]["href"], headers=auth)
        assert_ucwa_error(late, 404, "NotFound", "ApplicationNotFound")


@pytest.mark.anyio
async def test_the_sweeper_runs_with_the_server_and_stops_with_it() -> None:
    def sweepers() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "ucwa-sim-sweeper"]

    sim = Simulator(SimConfig(max_poll_s=0.2))
    async with SimServer(sim):
        assert len(sweepers()) == 1
    assert sweepers() == []
