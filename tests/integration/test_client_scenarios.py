"""Every scripted far-end scenario, through UcwaSession over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.simulator import Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallAction, CallState, CertificateError, InvalidNumber, LocalProtocolError
from tests.helpers.clientrig import client, creates, logged, placed, requests, signed_in_client

FAILURES = [
    ("+14255550101", "Busy", "busy"),
    ("+14255550102", "Declined", "declined"),
    ("+14255550103", "Missed", "no answer"),
    ("+14255550104", "PstnCallFailed", "your phone did not answer"),
    ("+14255550107", "Unreachable", "could not be reached"),
    ("+14255550108", "DestinationNotFound", "does not exist"),
    ("+14255550109", "DoNotDisturb", "disturbed"),
    ("+14255550110", "QuantumFluxOverload", "could not be completed"),
]


@pytest.mark.anyio
async def test_answered_call_hold_resume_hang_up(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        snapshot = await c.connected_call()
        assert snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}
        assert snapshot.connected_at is not None
        await c.session.hold()
        await c.until_state(CallState.ON_HOLD)
        await c.session.resume()
        await c.until_state(CallState.CONNECTED)
        await c.session.hang_up()
        final = await c.until_state(CallState.ENDED, CallState.FAILED)
    assert final.state is CallState.ENDED
    assert c.rec.states[0] == "calling_you"
    assert "connecting" in c.rec.states
    assert c.rec.states[-2:] == ["ending", "ended"]
    await logged(sim, lambda: requests(sim, "/applications/", "DELETE"))  # signed out cleanly
    # Exactly one request per user action beyond sign-in (the protocol's minimum).
    assert placed(sim) == [201]
    assert len(requests(sim, "holdPhoneAudio")) == len(requests(sim, "resumePhoneAudio")) == 1


@pytest.mark.parametrize(("number", "subcode", "words"), FAILURES)
@pytest.mark.anyio
async def test_failure_scenarios_end_with_their_reason(
    sim_server: SimServer,
    sim_credentials: tuple[str, str],
    number: str,
    subcode: str,
    words: str,
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.start_call(number, callback="+14255550123")
        final = await c.until_state(CallState.ENDED, CallState.FAILED)
    assert final.state is CallState.FAILED
    assert final.reason is not None
    assert final.reason.subcode == subcode
    assert words in final.reason.message.lower()
    assert final.actions == frozenset()
    if subcode == "PstnCallFailed":
        assert "connecting" not in c.rec.states  # the far end never rang


@pytest.mark.anyio
async def test_forwarded_call_names_who_answered(
    sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.start_call("+14255550105", callback="+14255550123")
        await c.until(lambda: bool(c.session.call.answered_by))
        assert "Front desk" in (c.session.call.answered_by or "")
        assert c.session.call.state is CallState.CONNECTED
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)


@pytest.mark.anyio
async def test_far_end_hangs_up(sim_server: SimServer, sim_credentials: tuple[str, str]) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call("+14255550106")
        final = await c.until_state(CallState.ENDED, CallState.FAILED)
        assert final.state is CallState.ENDED
        assert final.reason is not None and final.reason.subcode == "CallTerminated"
        await c.session.hang_up()  # nothing left to end: no request, no error


@pytest.mark.anyio
async def test_cancel_while_your_phone_rings(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.session.start_call("+14255550100", callback="+14255550123")
        await c.session.hang_up()  # before the server even offered cancel
        final = await c.until_state(CallState.ENDED, CallState.FAILED)
    assert final.state is CallState.ENDED
    assert final.reason is not None and "cancel" in final.reason.message.lower()
    assert "connected" not in c.rec.states


@pytest.mark.anyio
async def test_two_quick_dial_requests_place_one_call(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        results = await asyncio.gather(
            c.session.start_call("+14255550100", callback="+14255550123"),
            c.session.start_call("+14255550100", callback="+14255550123"),
            return_exceptions=True,
        )
        assert [type(r) for r in results].count(LocalProtocolError) == 1
        await c.until_state(CallState.CONNECTED)
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)
    # A POST refused with 500 CallbackChannelError (first P-GET not yet parked) placed nothing and
    # may be repeated; exactly one was accepted.
    assert placed(sim) == [201]


@pytest.mark.parametrize("bad", ["call-me-maybe", "", "4" * 40, "☎️📞"])
@pytest.mark.anyio
async def test_bad_numbers_are_refused_locally_and_nothing_is_sent(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str], bad: str
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        before = [r for r in sim.request_log if "/events" not in r.path]
        with pytest.raises(InvalidNumber) as caught:
            await c.session.start_call(bad, callback="+14255550123")
        with pytest.raises(InvalidNumber):
            await c.session.start_call("+14255550100", callback=bad or "nope")
        after = [r for r in sim.request_log if "/events" not in r.path]
    assert caught.value.user_message.endswith(".")  # one plain sentence
    assert after == before  # not a single request
    assert c.session.call.state is CallState.IDLE


@pytest.mark.anyio
async def test_events_may_arrive_before_the_201(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    sim.config.events_first = True
    sim.config.start_body = True
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        await c.connected_call()
        await c.session.hang_up()
        await c.until_state(CallState.ENDED)


@pytest.mark.anyio
async def test_sign_in_requests_and_application_body(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        assert c.session.status.state.value == "signed_in"
        assert await c.session.my_phones() == [
            ("+14255550123", "Work"),
            ("+14255550124", "Mobile"),
        ]
    assert creates(sim) == 1
    assert (
        c.tokens.grants == 2
    )  # one per token realm: the realistic pool lives under another host name
    # The P-GET carried the server's ack untouched plus our timeout parameter.
    await logged(sim, lambda: any(r.path.endswith("/events") for r in sim.request_log))
    polls = [r for r in sim.request_log if r.path.endswith("/events")]
    assert polls and polls[0].query.startswith("ack=") and "timeout=180" in polls[0].query
    json.dumps([r.path for r in sim.request_log])  # the log is plain data


@pytest.mark.anyio
async def test_untrusted_certificate_names_the_host(
    sim: Simulator, sim_credentials: tuple[str, str]
) -> None:
    with SimServer(sim, tls=True) as server:
        async with client(server.discovery_url, *sim_credentials) as c:
            with pytest.raises(CertificateError) as caught:
                await c.session.sign_in()
        assert caught.value.host == "127.0.0.1"
        failed = [s for s in c.rec.statuses if s.state.value == "failed"]
        assert failed and "127.0.0.1" in (failed[0].detail or "")
        assert sim.request_log == []  # TLS failed before any request reached the server
