"""Scenario A: answered, held, resumed, hung up (docs/protocol.md §10 A, §11 checks 27–29)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import (
    ANSWERED,
    MY_WORK_PHONE,
    Event,
    Walker,
    error_body,
    first,
    index_of,
    link,
    links,
    walker,
)


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def _connected_call(w: Walker, operation_id: str = "op-answered-1") -> tuple[str, Event]:
    """Places a call to the answered number; returns (invitation href, completed event)."""
    await w.parked()
    resp = await w.start_call(ANSWERED, operation_id=operation_id)
    assert resp.status_code == 201, resp.text
    location = resp.headers.get("location")
    assert location, "201 without Location"
    done = await w.wait_event("phoneAudioInvitation", "completed")
    await w.wait_event("phoneAudio", "updated", state="Connected")
    return w.url(location), done


def _latest_pa(w: Walker) -> dict:
    pa = [e for e in w.events if e.rel == "phoneAudio" and e.body]
    assert pa, w.events
    return pa[-1].body  # type: ignore[return-value]


async def _empty_post(w: Walker, href: str) -> httpx.Response:
    # Hold/resume/stop are bodiless POSTs with no Content-Type requirement
    # (docs/protocol.md §11 check 29).
    return await w.request("POST", href, content=b"")


async def test_call_reaches_connected_in_the_documented_order(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        location, done = await _connected_call(w)
        ev = w.events
        started = ev[index_of(ev, "phoneAudioInvitation", "started")]
        inv = started.body
        assert inv is not None
        assert inv["state"] == "Connecting"
        assert inv["direction"] == "Outgoing"
        assert inv["operationId"] == "op-answered-1"
        assert {"self", "conversation", "phoneAudio", "to", "from", "cancel"} <= links(inv)
        assert w.url(str(link(inv, "self"))) == location
        assert started.sender == "communication"

        i_started = index_of(ev, "phoneAudioInvitation", "started")
        i_added = index_of(ev, "conversation", "added")
        i_pa_connecting = index_of(ev, "phoneAudio", "updated", state="Connecting")
        i_alerting = index_of(ev, "phoneAudioInvitation", "updated", state="Alerting")
        i_conv_connected = index_of(ev, "conversation", "updated", state="Connected")
        i_participant = index_of(ev, "participant", "added")
        i_pa_connected = index_of(ev, "phoneAudio", "updated", state="Connected")
        i_completed = index_of(ev, "phoneAudioInvitation", "completed")
        assert i_started < i_added < i_pa_connecting < i_alerting
        assert i_alerting < i_conv_connected < i_pa_connected < i_completed
        assert i_alerting < i_participant < i_completed
        assert first(ev, "localParticipant", "added") is not None

        conv_added = ev[i_added].body
        assert conv_added is not None and conv_added["state"] == "Connecting"
        assert conv_added.get("activeModalities") == []
        conv_connected = ev[i_conv_connected].body
        assert conv_connected is not None
        assert conv_connected.get("activeModalities") == ["PhoneAudio"]
        # Both sides' participantAudio, each tied to its participant by an `in` link (E8).
        audio = [e for e in ev if e.rel == "participantAudio" and e.type == "added"]
        assert {e.raw.get("in", {}).get("rel") for e in audio} == {
            "participant",
            "localParticipant",
        }, audio
        assert link(conv_added, "phoneAudio")
        pa_connecting = ev[i_pa_connecting].body
        assert pa_connecting is not None
        assert links(pa_connecting) - {"self", "conversation"} == {"stopPhoneAudio"}
        pa_connected = ev[i_pa_connected].body
        assert pa_connected is not None
        assert links(pa_connected) - {"self", "conversation"} == {
            "holdPhoneAudio",
            "stopPhoneAudio",
        }

        assert done.status == "Success"
        assert done.body is not None and done.body["state"] == "Connected"
        assert done.body["operationId"] == "op-answered-1"
        accepted = done.body["_embedded"]["acceptedByParticipant"]
        assert isinstance(accepted, list) and accepted[0]["uri"] == ANSWERED
        assert "cancel" not in links(done.body)


async def test_hold_and_resume_swap_the_links(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await _connected_call(w)
        pa = _latest_pa(w)
        pa_href = w.url(str(link(pa, "self")))
        hold = link(pa, "holdPhoneAudio")
        assert hold
        seen = len(w.events)

        assert (await _empty_post(w, hold)).status_code == 204
        await w.wait_for(
            lambda evs: any(e.rel == "phoneAudio" and "resumePhoneAudio" in links(e.body)
                            for e in evs[seen:])
        )  # fmt: skip
        held = _latest_pa(w)
        assert held["state"] == "Connected"
        assert links(held) - {"self", "conversation"} == {"resumePhoneAudio", "stopPhoneAudio"}
        got = await w.get_json(pa_href)
        assert "resumePhoneAudio" in links(got) and "holdPhoneAudio" not in links(got)

        # Hold is no longer offered: a second hold is a 409 Conflict.
        again = await _empty_post(w, hold)
        assert again.status_code == 409
        assert error_body(again)["code"] == "Conflict"

        resume = link(held, "resumePhoneAudio")
        assert resume
        seen = len(w.events)
        assert (await _empty_post(w, resume)).status_code == 204
        await w.wait_for(
            lambda evs: any(e.rel == "phoneAudio" and "holdPhoneAudio" in links(e.body)
                            for e in evs[seen:])
        )  # fmt: skip
        resumed = _latest_pa(w)
        assert resumed["state"] == "Connected"
        assert links(resumed) - {"self", "conversation"} == {"holdPhoneAudio", "stopPhoneAudio"}
        again = await _empty_post(w, resume)
        assert again.status_code == 409


async def test_double_clicked_hold_is_executed_once(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await _connected_call(w)
        hold = link(_latest_pa(w), "holdPhoneAudio")
        assert hold
        one, two = await asyncio.gather(_empty_post(w, hold), _empty_post(w, hold))
        assert sorted([one.status_code, two.status_code]) == [204, 409]
        loser = one if one.status_code == 409 else two
        assert error_body(loser).get("subcode") in (None, "AnotherOperationPending")
        await w.wait_for(lambda evs: "resumePhoneAudio" in links(_latest_pa(w)))
        await asyncio.sleep(0.1)
        swaps = [
            e for e in w.events if e.rel == "phoneAudio" and "resumePhoneAudio" in links(e.body)
        ]
        assert len(swaps) == 1


async def test_local_hang_up_ends_conversation(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        _, done = await _connected_call(w)
        conv_href = w.url(str(link(done.body, "conversation")))
        stop = link(_latest_pa(w), "stopPhoneAudio")
        assert stop
        seen = len(w.events)
        assert (await _empty_post(w, stop)).status_code == 204
        await w.wait_event("conversation", "deleted")
        tail = w.events[seen:]
        i_pa_off = index_of(tail, "phoneAudio", "updated", state="Disconnected")
        i_conv_off = index_of(tail, "conversation", "updated", state="Disconnected")
        i_deleted = index_of(tail, "conversation", "deleted")
        assert i_pa_off < i_conv_off < i_deleted
        assert first(tail, "participant", "deleted") is not None
        assert first(tail, "localParticipant", "deleted") is not None
        assert len([e for e in tail if e.rel == "participantAudio" and e.type == "deleted"]) == 2
        pa_off = tail[i_pa_off].body
        assert pa_off is not None
        assert not links(pa_off) & {"holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio"}
        assert tail[i_deleted].sender == "communication"
        # Nothing to stop any more: 404 or 409 means "already ended" (docs/protocol.md §6.5).
        late = await _empty_post(w, stop)
        assert late.status_code in (404, 409)
        error_body(late)
        assert (await w.get(conv_href)).status_code == 404
        # No invitation events after the call was set up.
        assert first(tail, "phoneAudioInvitation") is None


async def test_cancel_after_connecting_disconnects_the_call(shared_server, sim_credentials) -> None:
    # docs/protocol.md §6.3: cancel on an invitation that already connected disconnects the
    # modality, so a cancel that loses the race with the answer still hangs up.
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.start_call(ANSWERED, operation_id="op-cancel-late")
        assert resp.status_code == 201, resp.text
        started = await w.wait_event("phoneAudioInvitation", "started")
        cancel = link(started.body, "cancel")
        assert cancel
        await w.wait_event("phoneAudioInvitation", "completed")
        await w.wait_event("phoneAudio", "updated", state="Connected")
        seen = len(w.events)
        assert (await _empty_post(w, cancel)).status_code == 204
        await w.wait_event("conversation", "deleted")
        tail = w.events[seen:]
        i_pa_off = index_of(tail, "phoneAudio", "updated", state="Disconnected")
        i_conv_off = index_of(tail, "conversation", "updated", state="Disconnected")
        assert i_pa_off < i_conv_off < index_of(tail, "conversation", "deleted")
        assert first(tail, "participant", "deleted") is not None
        assert first(tail, "phoneAudioInvitation") is None  # the invitation stays a success
        late = await _empty_post(w, cancel)
        assert late.status_code == 404
        error_body(late)


async def test_delete_conversation_also_hangs_up(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        _, done = await _connected_call(w)
        conv = str(link(done.body, "conversation"))
        assert (await w.request("DELETE", conv)).status_code == 204
        await w.wait_event("conversation", "deleted")
        assert first(w.events, "phoneAudio", "updated", state="Disconnected") is not None


async def test_invitation_and_phone_audio_can_be_read_back(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        location, done = await _connected_call(w)
        inv = await w.get_json(location)
        assert inv["rel"] == "phoneAudioInvitation"
        assert inv["state"] == "Connected"
        assert inv["to"] == ANSWERED
        assert str(inv.get("phoneNumber", "")).endswith(MY_WORK_PHONE)
        pa = await w.get_json(str(link(inv, "phoneAudio")))
        assert pa["rel"] == "phoneAudio" and pa["state"] == "Connected"
        conv = await w.get_json(str(link(inv, "conversation")))
        assert conv["rel"] == "conversation" and conv["state"] == "Connected"
        assert w.url(str(link(conv, "phoneAudio"))) == w.url(str(link(pa, "self")))
        listed = await w.get_json(w.communication_link("conversations"))
        hrefs = listed["_links"].get("conversation")
        assert isinstance(hrefs, list)
        assert w.url(str(link(conv, "self"))) in {w.url(h["href"]) for h in hrefs}
        assert done.body and done.body["_embedded"]["acceptedByParticipant"]
