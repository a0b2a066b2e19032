"""The call in progress on its own: placing it, the watchdog, refusals, reconciling, retiring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

import app.ucwa.activecall as activecall
from app.ucwa.activecall import HANG_UP_ATTEMPTS, ActiveCall
from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.dialing import dial_target
from app.ucwa.errors import (
    AuthenticationError,
    CallFailed,
    LocalProtocolError,
    ServerError,
    TransportError,
    UcwaError,
)
from app.ucwa.events import Event
from app.ucwa.models import Resource, parse_resource
from app.ucwa.reasons import CallReason
from app.ucwa.transport import Transport
from tests.unit.ucwa.test_calls import ANSWERED, FAR_END, INV, PA, RINGING_YOU, events

BASE = "https://pool.contoso.com"
START = f"{BASE}/ucwa/oauth/v1/applications/7/communication/startPhoneAudio"
Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, code: str, subcode: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "subcode": subcode})


class Rig:
    def __init__(self, handler: Handler, to: str = "+14255550100") -> None:
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        self.http = httpx.AsyncClient(transport=httpx.MockTransport(record))
        self.snapshots: list[CallSnapshot] = []
        self.gone: list[UcwaError] = []
        self.tasks: list[asyncio.Task[None]] = []

        async def no_sleep(_: float) -> None:
            await asyncio.sleep(0)

        def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            task = asyncio.get_running_loop().create_task(coro)
            self.tasks.append(task)
            return task

        transport = Transport(self.http, None, sleep=no_sleep)

        async def read(href: str, rel: str) -> Resource:
            return parse_resource(await transport.get_json(href), BASE, rel=rel, href=href)

        self.call = ActiveCall(
            dial_target(to, "US"),
            transport=transport,
            read=read,
            emit=self.snapshots.append,
            channel=lambda: None,
            spawn=spawn,
            on_application_gone=self.gone.append,
            sleep=no_sleep,
        )

    async def place(self) -> None:
        await self.call.place(
            START,
            "+14255550123",
            pick_callback=_never,
            resolve_href=lambda location: BASE + location,
        )


async def _never() -> str:
    raise AssertionError("the callback was given")


@pytest.mark.anyio
async def test_a_placed_call_knows_its_invitation_and_who_to_ring() -> None:
    rig = Rig(lambda _: httpx.Response(201, headers={"location": "/inv/1"}))
    async with rig.http:
        await rig.place()
    assert rig.call.invitation_href == f"{BASE}/inv/1"
    assert rig.call.live
    assert rig.snapshots and not rig.snapshots[0].state.is_final
    sent = rig.requests[0].read().decode()
    assert "tel:+14255550100" in sent and rig.call.operation_id in sent


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("dialled", "to"),
    [("5500", "tel:5500"), ("bob@contoso.com", "sip:bob@contoso.com")],
)
async def test_dial_strings_and_sip_addresses_are_sent_as_they_are(dialled: str, to: str) -> None:
    rig = Rig(lambda _: httpx.Response(201, headers={"location": "/inv/1"}), to=dialled)
    async with rig.http:
        await rig.place()
    assert json.loads(rig.requests[0].read())["to"] == to


@pytest.mark.anyio
async def test_a_number_the_dial_plan_cannot_complete_is_explained_in_words() -> None:
    rig = Rig(lambda _: error(400, "BadRequest", "NormalizationFailed"), to="12")
    async with rig.http:
        with pytest.raises(CallFailed) as caught:
            await rig.place()
    message = 'The server could not turn "12" into a phone number it can call.'
    assert caught.value.reason.message == message
    assert rig.snapshots[-1].reason is not None and rig.snapshots[-1].reason.message == message


@pytest.mark.anyio
async def test_a_refused_call_fails_with_the_servers_reason() -> None:
    rig = Rig(lambda _: error(403, "Forbidden", "DialOutNotAllowed"))
    async with rig.http:
        with pytest.raises(CallFailed) as caught:
            await rig.place()
    assert caught.value.reason.subcode == "DialOutNotAllowed"
    assert rig.snapshots[-1].state is CallState.FAILED
    assert not rig.call.live
    assert rig.gone == []


@pytest.mark.anyio
async def test_a_lost_application_on_dialling_asks_for_recovery() -> None:
    rig = Rig(lambda _: error(404, "NotFound", "ApplicationNotFound"))
    async with rig.http:
        with pytest.raises(CallFailed):
            await rig.place()
    assert len(rig.gone) == 1


@pytest.mark.anyio
async def test_an_unanswered_dial_is_not_repeated_and_fails_when_nothing_confirms_it() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    rig = Rig(unreachable)
    async with rig.http:
        await rig.place()  # no exception: the call may exist; its events would say so
        assert rig.call.live
        await asyncio.gather(*rig.tasks)
    assert len(rig.requests) == 1
    assert rig.snapshots[-1].state is CallState.FAILED
    assert rig.snapshots[-1].reason is not None
    assert "did not confirm" in rig.snapshots[-1].reason.message


@pytest.mark.anyio
async def test_a_call_that_vanished_with_the_application_is_failed_on_reconcile() -> None:
    answers = iter(
        [httpx.Response(201, headers={"location": "/inv/1"}), error(404, "NotFound", None)]
    )
    rig = Rig(lambda _: next(answers))
    async with rig.http:
        await rig.place()
        await rig.call.reconcile()
    assert rig.requests[-1].method == "GET" and rig.requests[-1].url.path == "/inv/1"
    assert rig.snapshots[-1].state is CallState.FAILED
    assert rig.snapshots[-1].reason is not None
    assert rig.snapshots[-1].reason.subcode == "ApplicationNotFound"


@pytest.mark.anyio
async def test_a_call_still_on_the_server_survives_reconcile() -> None:
    answers = iter([httpx.Response(201, headers={"location": "/inv/1"}), httpx.Response(200)])
    rig = Rig(lambda _: next(answers))
    async with rig.http:
        await rig.place()
        await rig.call.reconcile()
    assert rig.call.live
    assert not rig.snapshots[-1].state.is_final


@pytest.mark.anyio
async def test_a_server_reset_ends_the_call_with_a_reason() -> None:
    rig = Rig(lambda _: httpx.Response(201))
    async with rig.http:
        await rig.place()
    rig.call.server_reset()
    assert not rig.call.live
    assert rig.snapshots[-1].reason is not None
    assert rig.snapshots[-1].reason.subcode == "Resume"


@pytest.mark.anyio
async def test_a_replaced_call_publishes_nothing_and_refuses_actions() -> None:
    rig = Rig(lambda _: httpx.Response(201))
    async with rig.http:
        await rig.place()
        rig.call.current = False  # the session started the next call
        published = len(rig.snapshots)
        rig.call.server_reset()
        rig.call.fail(CallReason(None, None, "late"))
        await rig.call.hang_up()
        with pytest.raises(LocalProtocolError):
            await rig.call.act(CallAction.HOLD)
    assert len(rig.snapshots) == published
    assert len(rig.requests) == 1


@pytest.mark.anyio
async def test_hold_that_the_server_does_not_offer_is_refused_locally() -> None:
    rig = Rig(lambda _: httpx.Response(201))
    async with rig.http:
        await rig.place()
        with pytest.raises(LocalProtocolError):
            await rig.call.act(CallAction.HOLD)
    assert len(rig.requests) == 1


# -- a hang-up that did not happen ---------------------------------------------------------------


def phone_audio(state: str, *links: str) -> httpx.Response:
    hrefs = {"self": {"href": PA}, **{rel: {"href": f"{PA}/{rel}"} for rel in links}}
    return httpx.Response(200, json={"rel": "phoneAudio", "state": state, "_links": hrefs})


class Server:
    """Answers by method and path; the stop, the phoneAudio and the invitation are set per test."""

    def __init__(self) -> None:
        self.stop: Callable[[httpx.Request], httpx.Response] = lambda _: httpx.Response(204)
        self.phone_audio: Callable[[httpx.Request], httpx.Response] = lambda _: phone_audio(
            "Connected", "holdPhoneAudio", "stopPhoneAudio"
        )
        self.invitation: Callable[[httpx.Request], httpx.Response] = lambda _: httpx.Response(200)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == httpx.URL(START).path:
            return httpx.Response(201, headers={"location": INV})
        if path == PA + "/stopPhoneAudio":
            return self.stop(request)
        if path == PA:
            return self.phone_audio(request)
        if path == INV:
            return self.invitation(request)
        return httpx.Response(404)


async def _no_body(event: Event) -> Event:
    raise AssertionError("the events carry their bodies")


async def connected(rig: Rig) -> None:
    await rig.place()
    for event in events(*RINGING_YOU, *FAR_END, *ANSWERED):
        await rig.call.on_event(event, _no_body)
    assert rig.snapshots[-1].state is CallState.CONNECTED


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("down", request=request)


@pytest.mark.anyio
async def test_a_hang_up_refused_with_401_shows_the_call_up_with_hang_up_offered() -> None:
    server = Server()
    server.stop = lambda _: httpx.Response(401)
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        with pytest.raises(AuthenticationError):
            await rig.call.hang_up()
    shown = rig.snapshots[-1]
    assert [s.state for s in rig.snapshots[-2:]] == [CallState.ENDING, CallState.CONNECTED]
    assert shown.actions == {CallAction.HOLD, CallAction.HANG_UP}
    assert shown.reason is not None and "sign in again" in shown.reason.message
    assert shown.reason.message.startswith("Hanging up did not work")
    assert rig.call.live


@pytest.mark.anyio
async def test_a_hang_up_answered_500_while_the_call_stays_up_is_offered_again() -> None:
    server = Server()
    server.stop = lambda _: error(500, "ServiceFailure")
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        with pytest.raises(ServerError):
            await rig.call.hang_up()
    assert rig.requests[-1].method == "GET" and rig.requests[-1].url.path == PA
    assert rig.snapshots[-1].state is CallState.CONNECTED
    assert CallAction.HANG_UP in rig.snapshots[-1].actions


@pytest.mark.anyio
async def test_a_hang_up_of_unknown_outcome_stays_ending_until_the_server_can_be_asked() -> None:
    server = Server()
    server.stop = lambda _: error(500, "ServiceFailure")
    server.phone_audio = unreachable
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        with pytest.raises(ServerError):
            await rig.call.hang_up()
        assert rig.snapshots[-1].state is CallState.ENDING
        # Later (a recovery or signing in again) the server can be asked: the call is still up.
        held = phone_audio("Connected", "resumePhoneAudio", "stopPhoneAudio")
        server.phone_audio = lambda _: held
        await rig.call.reconcile()
    shown = rig.snapshots[-1]
    assert shown.state is CallState.ON_HOLD  # held meanwhile (by the desk phone, say)
    assert shown.actions == {CallAction.RESUME, CallAction.HANG_UP}
    assert shown.reason is not None and "still up" in shown.reason.message


@pytest.mark.anyio
async def test_a_hang_up_through_an_outage_is_sent_a_bounded_number_of_times() -> None:
    server = Server()
    server.stop = lambda _: error(503, "ServiceUnavailable")
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        with pytest.raises(ServerError):
            await rig.call.hang_up()
    stops = [r for r in rig.requests if r.url.path.endswith("/stopPhoneAudio")]
    # The hang-up's own repeats only: the transport adds none of its own to each of them.
    assert len(stops) == HANG_UP_ATTEMPTS
    assert rig.snapshots[-1].state is CallState.CONNECTED  # re-read: still up, offered again


@pytest.mark.anyio
async def test_a_hang_up_the_server_never_answers_stops_ending_after_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(activecall, "HANG_UP_BOUND_S", 0.2)

    async def silent(_: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(204)

    server = Server()
    server.stop = silent  # type: ignore[assignment]
    rig = Rig(server)
    async with rig.http, asyncio.timeout(5):
        await connected(rig)
        with pytest.raises(TransportError, match="did not confirm the hang-up"):
            await rig.call.hang_up()
    # The call was asked for: still connected, so the hang-up is offered again.
    assert rig.snapshots[-1].state is CallState.CONNECTED
    assert CallAction.HANG_UP in rig.snapshots[-1].actions


@pytest.mark.anyio
async def test_reconcile_ends_a_call_whose_phone_audio_is_gone() -> None:
    server = Server()
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        server.phone_audio = lambda _: error(404, "NotFound")
        await rig.call.reconcile()
    assert rig.snapshots[-1].state is CallState.FAILED
    assert not rig.call.live


@pytest.mark.anyio
async def test_reconcile_shows_a_call_that_ended_meanwhile_as_ended() -> None:
    server = Server()
    rig = Rig(server)
    async with rig.http:
        await connected(rig)
        server.phone_audio = lambda _: phone_audio("Disconnected", "addPhoneAudio")
        await rig.call.reconcile()
    assert rig.snapshots[-1].state is CallState.ENDED
