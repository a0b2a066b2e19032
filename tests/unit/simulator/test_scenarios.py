"""The scripted far end: each dialled number produces its docs/protocol.md §10 event sequence."""

from __future__ import annotations

import pytest

from tests.unit.simulator.conftest import Ucwa

pytestmark = pytest.mark.anyio


def done(ev: object) -> bool:
    from tests.unit.simulator.conftest import Ev

    assert isinstance(ev, Ev)
    if ev.rel == "conversation" and ev.type == "deleted":
        return True
    return (
        ev.rel == "phoneAudioInvitation"
        and ev.type == "completed"
        and ev.raw.get("status") == "Success"
    )


async def test_happy_path_events_follow_scenario_a(ucwa: Ucwa) -> None:
    location = await ucwa.call("tel:+14255550100")
    completed = await ucwa.until(done)
    sequence = [(e.sender, e.rel, e.type, e.state) for e in ucwa.seen]
    assert sequence == [
        ("communication", "phoneAudioInvitation", "started", "Connecting"),
        ("communication", "conversation", "added", "Connecting"),
        ("conversation", "localParticipant", "added", None),
        ("conversation", "phoneAudio", "updated", "Connecting"),
        ("communication", "phoneAudioInvitation", "updated", "Alerting"),
        ("communication", "conversation", "updated", "Connected"),
        ("conversation", "participant", "added", None),
        ("conversation", "participantAudio", "added", None),
        ("conversation", "participantAudio", "added", None),
        ("conversation", "phoneAudio", "updated", "Connected"),
        ("communication", "phoneAudioInvitation", "completed", "Connected"),
    ]
    invitation = completed.body
    assert invitation is not None
    assert invitation["operationId"] == "op-1"
    assert invitation["_embedded"]["acceptedByParticipant"][0]["uri"] == "tel:+14255550100"
    assert location.endswith(invitation["_links"]["self"]["href"])
    started = ucwa.seen[0].body
    assert started is not None and "cancel" in started["_links"]
    assert "cancel" not in invitation["_links"]
    pa = ucwa.last("phoneAudio").body
    assert pa is not None
    assert set(pa["_links"]) == {"self", "conversation", "holdPhoneAudio", "stopPhoneAudio"}


async def test_hold_resume_swap_links_and_stop_ends_the_call(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550100")
    await ucwa.until(done)
    pa = ucwa.last("phoneAudio").body
    assert pa is not None
    assert (await ucwa.post(pa["_links"]["holdPhoneAudio"]["href"])).status_code == 204
    held = (
        await ucwa.until(
            lambda e: (
                e.rel == "phoneAudio"
                and e.body is not None
                and "resumePhoneAudio" in e.body["_links"]
            )
        )
    ).body
    assert held is not None and held["state"] == "Connected"
    assert "holdPhoneAudio" not in held["_links"]
    # The hold link is no longer offered: 409, and nothing changes.
    assert (await ucwa.post(pa["_links"]["holdPhoneAudio"]["href"])).status_code == 409
    assert (await ucwa.post(held["_links"]["resumePhoneAudio"]["href"])).status_code == 204
    seen_before = len(ucwa.seen)
    resumed = (
        await ucwa.until(
            lambda e: (
                e.rel == "phoneAudio"
                and e.body is not None
                and "holdPhoneAudio" in e.body["_links"]
            ),
            since=seen_before,
        )
    ).body
    assert resumed is not None and "resumePhoneAudio" not in resumed["_links"]
    stop = resumed["_links"]["stopPhoneAudio"]["href"]
    assert (await ucwa.post(stop)).status_code == 204
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")
    tail = [(e.rel, e.type, e.state) for e in ucwa.seen[-8:]]
    assert tail == [
        ("phoneAudio", "updated", "Disconnecting"),
        ("phoneAudio", "updated", "Disconnected"),
        ("participantAudio", "deleted", None),
        ("participantAudio", "deleted", None),
        ("participant", "deleted", None),
        ("localParticipant", "deleted", None),
        ("conversation", "updated", "Disconnected"),
        ("conversation", "deleted", None),
    ]
    # The conversation is gone: its actions and resources answer 404.
    assert (await ucwa.post(stop)).status_code == 404
    assert (await ucwa.get(pa["_links"]["self"]["href"])).status_code == 404


FAILURES = [
    ("+14255550101", "Failed", "RemoteFailure", "Busy", True),
    ("+14255550102", "Declined", "RemoteFailure", "Declined", True),
    ("+14255550103", "Failed", "RemoteFailure", "Missed", True),
    ("+14255550104", "Failed", "RemoteFailure", "PstnCallFailed", False),
    ("+14255550107", "Failed", "RemoteFailure", "Unreachable", False),
    ("+14255550108", "Failed", "NotFound", "DestinationNotFound", False),
    ("+14255550109", "Declined", "RemoteFailure", "DoNotDisturb", True),
    ("+14255550110", "Failed", "RemoteFailure", "QuantumFluxOverload", True),
]


@pytest.mark.parametrize(("number", "state", "code", "subcode", "alerting"), FAILURES)
async def test_failing_numbers_complete_with_their_reason(
    ucwa: Ucwa, number: str, state: str, code: str, subcode: str, alerting: bool
) -> None:
    await ucwa.call(f"tel:{number}")
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")
    completed = ucwa.last("phoneAudioInvitation")
    assert completed.type == "completed"
    assert completed.raw["status"] == "Failure"
    assert completed.raw["reason"]["code"] == code
    assert completed.raw["reason"]["subcode"] == subcode
    assert completed.state == state
    states = [e.state for e in ucwa.seen if e.rel == "phoneAudioInvitation"]
    assert ("Alerting" in states) is alerting
    tail = [(e.rel, e.type, e.state) for e in ucwa.seen[-4:]]
    assert tail == [
        ("phoneAudio", "updated", "Disconnected"),
        ("phoneAudioInvitation", "completed", state),
        ("conversation", "updated", "Disconnected"),
        ("conversation", "deleted", None),
    ]


async def test_forwarded_call_is_answered_by_someone_else(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550105")
    completed = await ucwa.until(done)
    forwarded = [e for e in ucwa.seen if e.state == "Forwarded"]
    assert forwarded and forwarded[0].raw["reason"]["subcode"] == "Forwarded"
    assert completed.body is not None
    accepted = completed.body["_embedded"]["acceptedByParticipant"][0]
    assert (accepted["uri"], accepted["name"]) == ("tel:+14255550199", "Front desk")
    assert completed.body["to"] == "tel:+14255550105"


async def test_far_end_hangs_up(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550106")
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")
    hangup = next(e for e in ucwa.seen if e.rel == "phoneAudio" and e.state == "Disconnected")
    assert hangup.raw["reason"] == {
        "code": "Informational",
        "subcode": "CallTerminated",
        "message": hangup.raw["reason"]["message"],
    }
    assert any(e.rel == "participant" and e.type == "deleted" for e in ucwa.seen)


async def test_stop_while_connecting_cancels(ucwa: Ucwa) -> None:
    await ucwa.call("sip:bob@contoso.com")
    pa = (await ucwa.until(lambda e: e.rel == "phoneAudio")).body
    assert pa is not None and pa["state"] == "Connecting"
    assert set(pa["_links"]) == {"self", "conversation", "stopPhoneAudio"}
    assert (await ucwa.post(pa["_links"]["stopPhoneAudio"]["href"])).status_code == 204
    completed = await ucwa.until(lambda e: e.type == "completed")
    assert completed.state == "Cancelled"
    assert completed.raw["reason"]["code"] == "LocalFailure"
    assert completed.raw["reason"]["subcode"] == "Canceled"
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")
    assert not [e for e in ucwa.seen if e.state == "Connected"]


async def test_cancel_link_on_the_invitation(ucwa: Ucwa) -> None:
    location = await ucwa.call("tel:+14255550100")
    invitation = (await ucwa.get(location)).json()
    assert invitation["state"] == "Connecting"
    cancel = invitation["_links"]["cancel"]["href"]
    assert (await ucwa.post(cancel)).status_code == 204
    completed = await ucwa.until(lambda e: e.type == "completed")
    assert completed.state == "Cancelled"
    assert (await ucwa.post(cancel)).status_code == 404  # the conversation is gone with it
    after = (await ucwa.get(location)).json()
    assert after["state"] == "Cancelled" and "cancel" not in after["_links"]


async def test_cancel_after_the_call_connected_hangs_up(ucwa: Ucwa) -> None:
    # A client that pressed "cancel" just as the far end answered still ends the call
    # (docs/protocol.md §6.3).
    location = await ucwa.call("tel:+14255550100")
    cancel = (await ucwa.get(location)).json()["_links"]["cancel"]["href"]
    await ucwa.until(done)
    seen_before = len(ucwa.seen)
    assert (await ucwa.post(cancel)).status_code == 204
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted", since=seen_before)
    tail = [(e.rel, e.type, e.state) for e in ucwa.seen[seen_before:]]
    assert tail == [  # exactly what stopPhoneAudio sends (scenario A step 9)
        ("phoneAudio", "updated", "Disconnecting"),
        ("phoneAudio", "updated", "Disconnected"),
        ("participantAudio", "deleted", None),
        ("participantAudio", "deleted", None),
        ("participant", "deleted", None),
        ("localParticipant", "deleted", None),
        ("conversation", "updated", "Disconnected"),
        ("conversation", "deleted", None),
    ]
    assert (await ucwa.get(location)).json()["state"] == "Connected"  # it did succeed
    assert (await ucwa.post(cancel)).status_code == 404  # nothing left to disconnect


async def test_delete_conversation_hangs_up(ucwa: Ucwa) -> None:
    await ucwa.call("tel:+14255550100")
    await ucwa.until(done)
    conv = ucwa.last("conversation").body
    assert conv is not None
    response = await ucwa.http.delete(ucwa.url(conv["_links"]["self"]["href"]), headers=ucwa.auth)
    assert response.status_code == 204
    await ucwa.until(lambda e: e.rel == "conversation" and e.type == "deleted")


async def test_resources_are_readable_while_the_call_is_up(ucwa: Ucwa) -> None:
    await ucwa.call("sip:bob@contoso.com")
    await ucwa.until(done)
    conv = ucwa.last("conversation").body
    assert conv is not None
    got = (await ucwa.get(conv["_links"]["self"]["href"])).json()
    assert got["state"] == "Connected" and got["activeModalities"] == ["PhoneAudio"]
    part = ucwa.last("participant")
    remote = (await ucwa.get(part.href)).json()
    assert remote["uri"] == "sip:bob@contoso.com" and remote["name"] == "Bob"
    audio = (await ucwa.get(remote["_links"]["participantAudio"]["href"])).json()
    assert audio["rel"] == "participantAudio"
    listing = (await ucwa.get(ucwa.link("communication", "conversations"))).json()
    assert [c["href"] for c in listing["_links"]["conversation"]] == [
        conv["_links"]["self"]["href"]
    ]


async def test_events_first_mode_delivers_started_before_201() -> None:
    import asyncio

    import httpx

    from app.simulator import SimConfig, Simulator
    from tests.unit.simulator.conftest import ORIGIN

    sim = Simulator(SimConfig(speed=50, max_poll_s=2, events_first=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN) as h:
        client = Ucwa(h)
        await client.sign_in()
        parked = asyncio.create_task(client.poll())
        await asyncio.sleep(0.05)
        location = await client.call("tel:+14255550100", op="early")
        assert parked.done(), "the P-GET answered before the 201"
        started = client.seen[0]
        assert started.type == "started" and started.body is not None
        assert started.body["operationId"] == "early"
        assert location.endswith(started.href)
    sim.close()
