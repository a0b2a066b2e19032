"""UcwaSession against the in-process simulator (ASGITransport): sign-in, calls, recovery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.simulator.config import SimConfig
from app.simulator.simulator import Simulator
from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.discovery import MemoryDiscoveryCache
from app.ucwa.errors import (
    AuthenticationError,
    CallFailed,
    InvalidNumber,
    LocalProtocolError,
    UcwaError,
)
from app.ucwa.session import UcwaSession
from app.ucwa.status import ConnectionState, SessionStatus
from tests.helpers.tokens import FakeTokens, PasswordGrant

BASE = "http://127.0.0.1"  # plain http is accepted only on this machine
DISCOVERY = BASE + "/autodiscover/autodiscoverservice.svc/root"
USER, PASSWORD = "alice@contoso.com", "demo-password"


class Recorder:
    def __init__(self) -> None:
        self.statuses: list[SessionStatus] = []
        self.calls: list[CallSnapshot] = []

    def on_status(self, status: SessionStatus) -> None:
        self.statuses.append(status)

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.calls.append(snapshot)

    @property
    def states(self) -> list[str]:
        return [c.state.value for c in self.calls]


class Capture(httpx.AsyncBaseTransport):
    """Records every request body on its way to the in-process simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str, bytes]] = []
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, request.content))
        self.urls.append(str(request.url))
        return await self.inner.handle_async_request(request)


class Rig:
    def __init__(self, sim: Simulator, http: httpx.AsyncClient, capture: Capture) -> None:
        self.sim, self.http, self.capture = sim, http, capture
        self.rec = Recorder()
        self.cache = MemoryDiscoveryCache()
        self.sessions: list[UcwaSession] = []

    def session(self, password: str = PASSWORD, **kwargs: object) -> UcwaSession:
        session = UcwaSession(
            self.http,
            PasswordGrant(self.http, USER, password),
            discovery_url=DISCOVERY,
            endpoint_id="endpoint-1",
            discovery_cache=self.cache,
            **kwargs,  # type: ignore[arg-type]
        )
        session.add_listener(self.rec)
        self.sessions.append(session)
        return session

    def paths(self, contains: str, method: str | None = None) -> list[str]:
        return [
            r.path
            for r in self.sim.request_log
            if contains in r.path and (method is None or r.method == method)
        ]

    async def until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 - several tasks feed the condition
                await asyncio.sleep(0.005)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.5))
    capture = Capture(httpx.ASGITransport(sim.asgi))
    async with httpx.AsyncClient(transport=capture, base_url=BASE) as http:
        rig = Rig(sim, http, capture)
        yield rig
        for session in rig.sessions:  # also after a failed assertion: no task outlives the test
            await session.aclose()


@pytest.mark.anyio
async def test_sign_in_creates_the_application_and_parks_a_poll(rig: Rig) -> None:
    session = rig.session(user_agent="UcwaPhone/test", culture="en-GB")
    await session.sign_in()
    assert [s.state for s in rig.rec.statuses] == [
        ConnectionState.SIGNING_IN,
        ConnectionState.SIGNED_IN,
    ]
    assert session.status.user == USER
    [create] = [c for c in rig.capture.requests if c[0] == "POST" and c[1].endswith("applications")]
    assert json.loads(create[2]) == {
        "userAgent": "UcwaPhone/test",
        "endpointId": "endpoint-1",
        "culture": "en-GB",
    }
    await rig.until(lambda: any(c[1].endswith("/events") for c in rig.capture.requests))
    await session.aclose()
    assert rig.paths("/applications/", "DELETE")
    assert session.status.state is ConnectionState.SIGNED_OUT
    await session.aclose()  # idempotent


@pytest.mark.anyio
async def test_wrong_password_fails_sign_in(rig: Rig) -> None:
    session = rig.session(password="wrong")
    with pytest.raises(AuthenticationError):
        await session.sign_in()
    assert session.status.state is ConnectionState.FAILED
    assert "wrong" not in (session.status.detail or "")
    await session.aclose()


@pytest.mark.anyio
async def test_a_whole_call_hold_resume_hang_up(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    await session.start_call("+1 (425) 555-0100", callback="+14255550123")
    await rig.until(lambda: session.call.state is CallState.CONNECTED)
    await session.hold()
    await rig.until(lambda: session.call.state is CallState.ON_HOLD)
    assert session.call.actions == {CallAction.RESUME, CallAction.HANG_UP}
    await session.resume()
    await rig.until(lambda: session.call.state is CallState.CONNECTED)
    await session.hang_up()
    await rig.until(lambda: session.call.state.is_final)
    assert session.call.state is CallState.ENDED
    states = rig.rec.states
    assert states[0] == "calling_you" and "connecting" in states
    assert states[-2:] == ["ending", "ended"]
    [start] = [c for c in rig.capture.requests if c[1].endswith("phoneAudioInvitations")]
    body = json.loads(start[2])
    assert body["to"] == "tel:+14255550100" and body["phoneNumber"] == "+14255550123"
    assert 0 < len(body["operationId"]) <= 50
    await session.hang_up()  # idempotent once ended
    await session.aclose()


@pytest.mark.parametrize("bad", ["call me", "", "1" * 40, "📞📞📞"])
@pytest.mark.anyio
async def test_bad_numbers_fail_locally_and_send_nothing(rig: Rig, bad: str) -> None:
    session = rig.session()
    await session.sign_in()
    before = len(rig.capture.requests)
    with pytest.raises(InvalidNumber) as caught:
        await session.start_call(bad)
    assert caught.value.user_message
    with pytest.raises(InvalidNumber):
        await session.start_call("+14255550100", callback=bad or "x")
    polls = [c for c in rig.capture.requests[before:] if not c[1].endswith("/events")]
    assert polls == []
    assert session.call.state is CallState.IDLE
    await session.aclose()


@pytest.mark.anyio
async def test_two_quick_dial_requests_make_one_call(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    results = await asyncio.gather(
        session.start_call("+14255550100", callback="+14255550123"),
        session.start_call("+14255550100", callback="+14255550123"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, LocalProtocolError) for r in results) == 1
    assert len(rig.paths("phoneAudioInvitations", "POST")) == 1
    await session.hang_up()
    await rig.until(lambda: session.call.state.is_final)
    await session.aclose()


@pytest.mark.anyio
async def test_events_before_the_201_are_correlated(rig: Rig) -> None:
    # The invitation's `started` event (with its cancel link) arrives before the 201 names the
    # invitation: only its operationId can tie it to our call. Matched, the user can cancel the
    # moment dialling returns; dropped, cancel would appear only with a later event.
    rig.sim.config.events_first = True
    session = rig.session()
    await session.sign_in()
    await session.start_call("+14255550100", callback="+14255550123")
    assert session.call.state is CallState.CALLING_YOU
    assert CallAction.CANCEL in session.call.actions
    await rig.until(lambda: session.call.state is CallState.CONNECTED)
    await session.aclose()


@pytest.mark.anyio
async def test_callback_defaults_to_the_work_phone(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    assert await session.my_phones() == [("+14255550123", "Work"), ("+14255550124", "Mobile")]
    await session.start_call("+14255550100")
    [start] = [c for c in rig.capture.requests if c[1].endswith("phoneAudioInvitations")]
    assert json.loads(start[2])["phoneNumber"] == "+14255550123"
    await session.aclose()


@pytest.mark.anyio
async def test_actions_not_offered_are_refused_locally(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    with pytest.raises(LocalProtocolError):
        await session.hold()
    await session.hang_up()  # no call: nothing to do
    await session.start_call("+14255550100", callback="+14255550123")
    with pytest.raises(LocalProtocolError):
        await session.resume()  # ringing: resume is not offered
    await session.aclose()


@pytest.mark.anyio
async def test_synchronous_rejection_fails_the_call(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    rig.sim.faults.force_status("phoneaudioinvitations", 403, method="POST", code="Forbidden")
    with pytest.raises(CallFailed) as caught:
        await session.start_call("+14255550100", callback="+14255550123")
    assert session.call.state is CallState.FAILED
    assert session.call.reason == caught.value.reason
    assert caught.value.reason.code == "Forbidden"
    await session.aclose()


@pytest.mark.anyio
async def test_activity_is_reported_while_signed_in(rig: Rig) -> None:
    session = rig.session(activity_interval_s=0.05)
    await session.sign_in()
    await rig.until(lambda: len(rig.paths("reportMyActivity", "POST")) >= 2)
    await session.aclose()


@pytest.mark.anyio
async def test_activity_stops_once_another_copy_took_the_session_over(rig: Rig) -> None:
    session = rig.session(activity_interval_s=0.05)
    await session.sign_in()
    await rig.until(lambda: len(rig.paths("reportMyActivity", "POST")) >= 1)
    rig.sim.faults.force_status("/events", 409, count=2, code="Conflict", subcode="PGetReplaced")
    await rig.until(lambda: session.status.state is ConnectionState.TAKEN_OVER)
    reported = len(rig.paths("reportMyActivity", "POST"))
    await asyncio.sleep(0.3)  # six intervals
    # At most one report that was already on its way; none that keeps the other copy's app alive.
    assert len(rig.paths("reportMyActivity", "POST")) <= reported + 1
    assert session.status.state is ConnectionState.TAKEN_OVER
    await session.aclose()


@pytest.mark.anyio
async def test_no_activity_is_reported_before_make_me_available_succeeded(rig: Rig) -> None:
    rig.sim.faults.force_status("makeMeAvailable", 500, count=20, method="POST")
    session = rig.session(activity_interval_s=0.05)
    await session.sign_in()
    assert session.status.state is ConnectionState.SIGNED_IN
    await asyncio.sleep(0.3)  # six intervals
    assert rig.paths("reportMyActivity", "POST") == []
    await session.aclose()


@pytest.mark.anyio
async def test_second_sign_in_uses_the_remembered_url(rig: Rig) -> None:
    first = rig.session()
    await first.sign_in()
    await first.aclose()
    roots = len(rig.paths("autodiscoverservice.svc/root"))
    second = rig.session()
    await second.sign_in()
    assert len(rig.paths("autodiscoverservice.svc/root")) == roots  # no discovery this time
    await second.aclose()


@pytest.mark.anyio
async def test_a_404_on_a_sub_resource_keeps_the_application(rig: Rig) -> None:
    session = rig.session()
    await session.sign_in()
    await session.start_call("+14255550100", callback="+14255550123")
    await rig.until(lambda: session.call.state is CallState.CONNECTED)
    rig.sim.faults.force_status(
        "holdphoneaudio", 404, code="NotFound", subcode="ApplicationNotFound"
    )
    with pytest.raises(Exception, match="no longer knows"):
        await session.hold()
    await rig.until(lambda: session.status.state is ConnectionState.SIGNED_IN)
    creates = [p for p in rig.paths("/applications", "POST") if p.endswith("/applications")]
    assert len(creates) == 1  # not recreated
    assert session.call.state is CallState.CONNECTED
    await session.hold()
    await rig.until(lambda: session.call.state is CallState.ON_HOLD)
    await session.aclose()


@pytest.mark.anyio
async def test_a_cancel_that_crosses_the_answer_stops_the_connected_call(rig: Rig) -> None:
    """409 on cancel: the invitation is over because the call connected, not because it ended.
    The user's "hang up" must still end the real call rather than leave a phone line open."""
    session = rig.session()
    await session.sign_in()
    await session.start_call("+14255550100", callback="+14255550123")
    await rig.until(lambda: CallAction.CANCEL in session.call.actions)
    # The server refuses the cancel (the call is about to connect) and the call goes on.
    rig.sim.faults.force_status("/cancel", 409, method="POST", code="Conflict")
    await session.hang_up()
    await rig.until(lambda: session.call.state.is_final)
    assert rig.paths("/cancel", "POST")
    assert rig.paths("stopPhoneAudio", "POST")  # the connected call was stopped on the server
    assert session.call.state is CallState.ENDED
    assert session.call.reason is not None
    assert session.call.reason.message != "The call had already ended."


@pytest.mark.anyio
async def test_a_restarted_channel_still_resends_its_parameters_after_resume(rig: Rig) -> None:
    # docs/protocol.md §7.2: the server forgets `timeout` on resume; a channel restarted on the same
    # URL (application still alive) must re-send it like the first one, or polls get the default.
    session = rig.session()
    await session.sign_in()
    polls = lambda: [u for u in rig.capture.urls if "/events" in u]  # noqa: E731
    await rig.until(lambda: len(polls()) >= 1)
    rig.sim.faults.force_status("/events", 404, method="GET", subcode="ApplicationNotFound")
    reconnecting = ConnectionState.RECONNECTING
    await rig.until(lambda: any(s.state is reconnecting for s in rig.rec.statuses))
    await rig.until(lambda: session.status.state is ConnectionState.SIGNED_IN)
    creates = [p for p in rig.paths("/applications", "POST") if p.endswith("/applications")]
    assert len(creates) == 1  # the same application, the channel restarted on its URL
    before = len(polls())
    await rig.until(lambda: len(polls()) > before)  # the restarted channel is parked
    mark = len(polls())
    rig.sim.faults.force_resume()
    await rig.until(lambda: len(polls()) >= mark + 2)
    assert any("timeout=180" in u for u in polls()[mark:])
    await session.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(("token_host", "asked"), [("evil.example", 0), ("lyncweb.contoso.com", 1)])
async def test_the_session_sends_credentials_only_to_its_organisation(
    token_host: str, asked: int
) -> None:
    """A user resource whose challenge names a foreign token URL never reaches the provider
    (which would POST the password there); one on the organisation's own host does."""
    user = "https://lyncweb.contoso.com/autodiscover/user"

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.host == "lyncdiscover.contoso.com":
            return httpx.Response(200, json={"_links": {"user": {"href": user}}})
        if "authorization" not in request.headers:
            challenge = f'MsRtcOAuth href="https://{token_host}/token",grant_type="password"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(503)  # far enough: the provider was (or was not) asked

    tokens = FakeTokens()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        session = UcwaSession(
            http,
            tokens,
            discovery_url="https://lyncdiscover.contoso.com/",
            endpoint_id="e",
            discovery_cache=MemoryDiscoveryCache(),
            sleep=_no_sleep,
        )
        with pytest.raises(UcwaError):
            await session.sign_in()
        await session.aclose()
    assert len(tokens.challenges) == asked


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def realistic_rig() -> AsyncIterator[Rig]:
    sim = Simulator(SimConfig(profile="realistic", redirect="none", speed=50, max_poll_s=0.5))
    capture = Capture(httpx.ASGITransport(sim.asgi))
    async with httpx.AsyncClient(transport=capture, base_url=BASE) as http:
        rig = Rig(sim, http, capture)
        yield rig
        for session in rig.sessions:
            await session.aclose()


@pytest.mark.anyio
async def test_make_me_available_has_the_vendor_sample_shape(realistic_rig: Rig) -> None:
    session = realistic_rig.session()
    await session.sign_in()
    [made] = [c for c in realistic_rig.capture.requests if c[1].endswith("/makeMeAvailable")]
    body = json.loads(made[2])
    assert body["audioPreference"] == "PhoneAudio"
    assert "PhoneAudio" in body["supportedModalities"]
    assert body["phoneNumber"] == "+14255550123"  # the Work number of me/phones


@pytest.mark.anyio
async def test_a_failed_make_me_available_is_repeated_when_the_user_dials(
    realistic_rig: Rig,
) -> None:
    realistic_rig.sim.faults.force_status("/makemeavailable", 503, method="POST")
    session = realistic_rig.session()
    await session.sign_in()
    await session.start_call("+14255550100", callback="+14255550123")
    made = [c for c in realistic_rig.capture.requests if c[1].endswith("/makeMeAvailable")]
    assert len(made) == 2
    assert realistic_rig.paths("phoneAudioInvitations", "POST")


@pytest.mark.anyio
async def test_concurrent_reads_of_one_resource_share_one_request(realistic_rig: Rig) -> None:
    session = realistic_rig.session()
    await session.sign_in()
    communication = session._application.communication
    assert communication is not None
    before = len(realistic_rig.paths("/communication", "GET"))
    await asyncio.gather(*(session._get_once(communication.href) for _ in range(5)))
    # Body-less events about one resource may come in bursts: one GET answers them all.
    assert len(realistic_rig.paths("/communication", "GET")) == before + 1
