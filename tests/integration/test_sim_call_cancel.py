"""Scenario H: the user cancels while the call connects (docs/protocol.md §10 H, §11 check 30)."""

from __future__ import annotations

import pytest

from app.simulator import SimConfig
from tests.helpers.ucwa_walker import (
    ANSWERED,
    NO_ANSWER,
    Walker,
    error_body,
    first,
    index_of,
    link,
    links,
    walker,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def sim_config() -> SimConfig:
    # Slower than the default so the connecting phase (~150 ms) outlasts our reaction time.
    return SimConfig(speed=10, max_poll_s=0.5)


async def _assert_cancelled(w: Walker) -> None:
    await w.wait_event("conversation", "deleted", within=5)
    ev = w.events
    done = first(ev, "phoneAudioInvitation", "completed")
    assert done is not None and done.body is not None
    assert done.status != "Success"
    assert done.body["state"] == "Cancelled"
    assert done.reason is not None
    assert (done.reason.get("code"), done.reason.get("subcode")) == ("LocalFailure", "Canceled")
    i_pa_off = index_of(ev, "phoneAudio", "updated", state="Disconnected")
    assert i_pa_off < index_of(ev, "conversation", "deleted")
    assert first(ev, "phoneAudio", "updated", state="Connected") is None
    assert first(ev, "participant", "added") is None


async def test_stop_phone_audio_while_calling_my_phone_cancels(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call(ANSWERED)).status_code == 201
        connecting = await w.wait_event("phoneAudio", "updated", state="Connecting")
        stop = link(connecting.body, "stopPhoneAudio")
        assert stop, connecting.body
        assert (await w.request("POST", stop, content=b"")).status_code == 204
        await _assert_cancelled(w)


async def test_invitation_cancel_link_cancels_while_connecting(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        resp = await w.start_call(ANSWERED)
        assert resp.status_code == 201
        started = await w.wait_event("phoneAudioInvitation", "started")
        cancel = link(started.body, "cancel")
        assert cancel
        assert (await w.request("POST", cancel, content=b"")).status_code == 204
        await _assert_cancelled(w)
        inv = await w.get(str(resp.headers["location"]))
        if inv.status_code == 200:
            assert "cancel" not in links(inv.json())
        again = await w.request("POST", cancel, content=b"")
        assert again.status_code in (404, 409)
        error_body(again)


async def test_cancel_while_the_far_end_rings(sim_server, sim_credentials) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call(NO_ANSWER)).status_code == 201
        alerting = await w.wait_event("phoneAudioInvitation", "updated", state="Alerting")
        cancel = link(alerting.body, "cancel")
        assert cancel, "cancel must stay offered while the far end rings"
        assert (await w.request("POST", cancel, content=b"")).status_code == 204
        await _assert_cancelled(w)
