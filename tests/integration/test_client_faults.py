"""Faults mid-call over real loopback HTTP: 401, 503, expired application, resync, resume,
PGetReplaced, a restarted server, a stalled event channel."""

from __future__ import annotations

import asyncio

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from app.ucwa.errors import ServerError
from tests.helpers.clientrig import creates, logged, placed, requests, signed_in_client


def _statuses(sim: Simulator, path_end: str) -> list[int]:
    return [r.status for r in sim.request_log if r.path.endswith(path_end)]


@pytest.mark.anyio
async def test_401_mid_call_refreshes_once_and_keeps_the_application(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        before = c.tokens.grants
        sim.faults.expire_tokens()
        await c.session.hold()  # 401 → new token → the same POST once more
        await c.until_state(CallState.ON_HOLD)
        await c.session.resume()
        await c.until_state(CallState.CONNECTED)
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
        assert c.tokens.grants == before + 1
        assert creates(sim) == 1  # tokens and applications are independent (docs/protocol.md §3.3)
        assert ConnectionState.RECONNECTING not in [s.state for s in c.rec.statuses]
    await logged(sim, lambda: len(_statuses(sim, "holdPhoneAudio")) == 2)
    assert _statuses(sim, "holdPhoneAudio") == [401, 204]


@pytest.mark.anyio
async def test_503_with_retry_after_on_the_event_channel(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        sim.faults.force_status("/events", 503, count=2, retry_after=3)
        sim.faults.drop_event_channel()  # release the parked poll so the next one meets the 503s
        await c.until(lambda: c.session.status.state is ConnectionState.RECONNECTING)
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN)
        assert 3.0 in c.sleeps.asked  # Retry-After honoured (through the injected sleep)
        await c.session.hold()
        await c.until_state(CallState.ON_HOLD)
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)


@pytest.mark.anyio
async def test_503_on_a_command_is_reported_not_repeated(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    # docs/protocol.md §8.4: 500/503/504 are repeated for idempotent requests only; the hold may
    # have been half-done, so the user is told and decides. A 429 (nothing was done) is repeated.
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        sim.faults.force_status("holdPhoneAudio", 503, count=1, retry_after=2)
        with pytest.raises(ServerError) as caught:
            await c.session.hold()
        assert caught.value.status == 503
        assert c.session.call.state is CallState.CONNECTED
        sim.faults.force_status("holdPhoneAudio", 429, count=1, retry_after=0)
        await c.session.hold()
        await c.until_state(CallState.ON_HOLD)
    await logged(sim, lambda: len(_statuses(sim, "holdPhoneAudio")) == 3)
    assert _statuses(sim, "holdPhoneAudio") == [503, 429, 204]


@pytest.mark.anyio
async def test_start_phone_audio_is_never_repeated_after_a_503(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.my_phones()
        sim.faults.force_status("phoneAudioInvitations", 503, count=1, retry_after=1)
        with pytest.raises(Exception, match="busy or down"):
            await c.session.start_call("+14255550100", callback="+14255550123")
        assert c.session.call.state is CallState.FAILED
    await logged(sim, lambda: placed(sim))
    assert placed(sim) == [503]


@pytest.mark.anyio
async def test_application_expired_mid_call(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        sim.faults.expire_applications()
        await c.until(lambda: c.session.status.state is ConnectionState.RECONNECTING)
        # While reconnecting the call is shown as it was: nothing is thrown away early.
        assert c.session.call.state is CallState.CONNECTED
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN)
        await logged(sim, lambda: creates(sim) == 2)
        # The server tore the old application's call down; we say so instead of pretending.
        final = await c.until_state(CallState.FAILED, CallState.ENDED)
        assert final.reason is not None and "lost" in final.reason.message
        # The new application works.
        await c.connected_call()
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
    assert c.rec.connection[-3:] == ["reconnecting", "signed_in", "signed_out"]


@pytest.mark.anyio
async def test_inactive_application_410_is_recreated(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        sim.faults.expire_applications(inactive=True)
        await logged(sim, lambda: creates(sim) == 2)
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN)
        await c.connected_call()


@pytest.mark.anyio
async def test_resync_keeps_the_call(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.start_call("+14255550100", callback="+14255550123")
        sim.faults.force_resync()
        await c.until_state(CallState.CONNECTED)
        await c.session.hold()
        await c.until_state(CallState.ON_HOLD)
    assert [r for r in sim.request_log if r.path.endswith("/events")]


@pytest.mark.anyio
async def test_resume_drops_the_call_but_keeps_the_session(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        sim.faults.force_resume()
        final = await c.until_state(CallState.FAILED, CallState.ENDED)
        assert final.reason is not None
        assert c.session.status.state is ConnectionState.SIGNED_IN
        await c.connected_call()  # and the next call works
    assert creates(sim) == 1

    def resent() -> int:
        polls = [r for r in sim.request_log if r.path.endswith("/events")]
        return sum("timeout=180" in r.query for r in polls)

    await logged(sim, lambda: resent() == 2)  # parameters re-sent after resume


@pytest.mark.anyio
async def test_one_pget_replaced_is_harmless(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        sim.faults.force_status("/events", 409, count=1, code="Conflict", subcode="PGetReplaced")
        sim.faults.drop_event_channel()
        await logged(sim, lambda: any(r.status == 409 for r in sim.request_log))
        await c.connected_call()
        assert c.session.status.state is ConnectionState.SIGNED_IN


@pytest.mark.anyio
async def test_pget_replaced_twice_means_taken_over(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        sim.faults.force_status("/events", 409, count=2, code="Conflict", subcode="PGetReplaced")
        sim.faults.drop_event_channel()
        await c.until(lambda: c.session.status.state is ConnectionState.TAKEN_OVER)
        assert "took over" in (c.session.status.detail or "")


@pytest.mark.anyio
async def test_event_channel_stalled(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        sim.faults.stall_events(1.0)
        await c.session.hold()
        await asyncio.sleep(0.3)
        assert c.session.call.state is CallState.CONNECTED  # nothing delivered yet
        await c.until_state(CallState.ON_HOLD, within=5.0)  # delivered after the stall, in order
        assert c.session.status.state is ConnectionState.SIGNED_IN


@pytest.mark.anyio
async def test_simulator_restarted_mid_call(sim_credentials: tuple[str, str]) -> None:
    config = SimConfig(speed=50, max_poll_s=0.5)
    first = Simulator(config)
    server = SimServer(first)
    server.__enter__()
    port = server.port
    second = Simulator(SimConfig(speed=50, max_poll_s=0.5))
    try:
        async with signed_in_client(server.discovery_url, *sim_credentials) as c:
            await c.connected_call()
            await asyncio.to_thread(server.__exit__, None, None, None)
            await c.until(lambda: c.session.status.state is ConnectionState.RECONNECTING)
            assert c.session.call.state is CallState.CONNECTED
            server = SimServer(second, port=port)
            await asyncio.to_thread(server.__enter__)
            await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=15)
            final = await c.until_state(CallState.FAILED, CallState.ENDED)
            assert final.reason is not None and "lost" in final.reason.message
            await c.connected_call()
            await c.session.hang_up()
            await c.until_state(CallState.ENDED)
            assert c.tokens.grants == 2  # the new server knew none of our tokens
            assert creates(second) == 2 - 1
    finally:
        server.__exit__(None, None, None)
        first.close()
        second.close()
    await logged(second, lambda: requests(second, "/applications/", "DELETE"))
