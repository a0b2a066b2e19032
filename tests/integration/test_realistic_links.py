"""Against the realistic simulator: links are learned after makeMeAvailable, and the application
is kept alive the way the server expects (callback number, reportMyActivity, 409 → available)."""

from __future__ import annotations

import asyncio

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState, LocalProtocolError
from tests.helpers.clientrig import creates, logged, placed, requests, signed_in_client

# The client's reportMyActivity cadence, in the session's (scaled) seconds: the test rig's sleep
# runs 20x faster, so 6 s here is 0.3 s of real time, well inside the 1.2 s activity limit.
CADENCE_S = 6.0


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(
        profile="realistic",
        speed=50,
        max_poll_s=0.5,
        activity_limit_s=1.2,
        no_phone_audio_users=frozenset({"dave@contoso.com"}),
        users={"alice@contoso.com": "demo-password", "dave@contoso.com": "dave-password"},
    )


def _app(sim: Simulator) -> object:
    (app,) = sim.apps.values()
    return app


@pytest.mark.anyio
async def test_a_call_placed_right_after_sign_in_connects(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(
        sim_server.discovery_url, *sim_credentials, activity_interval_s=CADENCE_S
    ) as c:
        snapshot = await c.connected_call()
        assert snapshot.state is CallState.CONNECTED
    assert placed(sim) == [201]


@pytest.mark.anyio
async def test_sign_in_reads_the_application_again_after_make_me_available(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        app_path = next(iter(sim.apps.values())).aid

        def read_after_available() -> bool:
            log = [(r.method, r.path) for r in sim.request_log]
            made = [i for i, (m, p) in enumerate(log) if p.endswith("/makeMeAvailable")]
            return bool(made) and any(
                m == "GET" and p.endswith("/" + app_path) for m, p in log[made[0] :]
            )

        await logged(sim, read_after_available)
        assert c.session.status.state is ConnectionState.SIGNED_IN


@pytest.mark.anyio
async def test_a_body_less_me_updated_event_makes_the_client_read_me(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials):
        # The server announces `me updated` without a body (Medium priority, seconds later).
        await logged(sim, lambda: any(p.endswith("/me") for p in requests(sim, "/me", "GET")))


@pytest.mark.anyio
async def test_make_me_available_carries_the_callback_number_and_audio_preference(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        app = _app(sim)
        assert app.comm["audioPreference"] == "PhoneAudio"  # type: ignore[attr-defined]
        assert app.comm["phoneNumber"] == "tel:+14255550123"  # type: ignore[attr-defined]
        await c.session.set_callback_number("+14255550124")
        assert app.comm["phoneNumber"] == "tel:+14255550124"  # type: ignore[attr-defined]
    assert len(requests(sim, "/makeMeAvailable", "POST")) == 2


@pytest.mark.anyio
async def test_an_idle_session_keeps_reporting_activity_and_is_never_expired(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(
        sim_server.discovery_url, *sim_credentials, activity_interval_s=CADENCE_S
    ) as c:
        await asyncio.sleep(3.0)  # 2.5x the server's activity limit
        assert c.session.status.state is ConnectionState.SIGNED_IN
        assert len(requests(sim, "/reportMyActivity", "POST")) >= 5
    assert creates(sim) == 1  # never expired, never re-created
    assert not [r for r in sim.request_log if r.status == 410]


@pytest.mark.anyio
async def test_a_long_call_keeps_reporting_activity_and_stays_connected(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(
        sim_server.discovery_url, *sim_credentials, activity_interval_s=CADENCE_S
    ) as c:
        await c.connected_call()
        before = len(requests(sim, "/reportMyActivity", "POST"))
        await asyncio.sleep(3.0)
        assert c.session.call.state is CallState.CONNECTED
        assert len(requests(sim, "/reportMyActivity", "POST")) >= before + 5
    assert creates(sim) == 1
    assert not [r for r in sim.request_log if r.status == 410]


@pytest.mark.anyio
async def test_make_me_available_required_makes_the_client_available_again_and_retry(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        sim.faults.force_status(
            "phoneAudioInvitations", 409, method="POST", subcode="MakeMeAvailableRequired"
        )
        snapshot = await c.connected_call()
        assert snapshot.state is CallState.CONNECTED
    assert len(requests(sim, "/makeMeAvailable", "POST")) == 2
    assert placed(sim) == [409, 201]


@pytest.mark.anyio
async def test_an_account_without_the_link_is_told_how_the_client_knows(
    sim: Simulator, sim_server: SimServer
) -> None:
    async with signed_in_client(sim_server.discovery_url, "dave@contoso.com", "dave-password") as c:
        with pytest.raises(LocalProtocolError) as caught:
            await c.session.start_call("+14255550100", callback="+14255550123")
    message = caught.value.user_message
    assert "not enabled for call via work" in message
    assert "startPhoneAudio" in message and "reading communication again" in message
    assert len(requests(sim, "/communication", "GET")) >= 2
    assert placed(sim) == []


@pytest.mark.anyio
async def test_an_incoming_invitation_during_a_call_is_not_answered_and_changes_nothing(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        shown = len(c.rec.calls)
        assert sim.faults.ring_incoming("sip:bob@contoso.com") == 1
        await asyncio.sleep(1.0)  # the incoming call rings (10 s / speed 50) and gives up
        assert c.session.call.state is CallState.CONNECTED
        assert len(c.rec.calls) == shown
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
    posts = [r.path.lower() for r in sim.request_log if r.method == "POST"]
    assert not [p for p in posts if p.endswith(("/accept", "/decline", "/answer"))]
