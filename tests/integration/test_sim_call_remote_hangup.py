"""Scenario B: the far end hangs up after connecting (docs/protocol.md §10 B, §11 check 31)."""

from __future__ import annotations

import httpx
import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import REMOTE_HANGUP, error_body, first, index_of, link, walker


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def test_remote_hang_up_ends_the_call_without_client_requests(
    sim, sim_server, sim_credentials
) -> None:
    async with walker(sim_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call(REMOTE_HANGUP)).status_code == 201
        done = await w.wait_event("phoneAudioInvitation", "completed")
        assert done.status == "Success"
        connected = await w.wait_event("phoneAudio", "updated", state="Connected")
        stop = link(connected.body, "stopPhoneAudio")
        assert stop
        await w.wait_event("conversation", "deleted", within=5)
        ev = w.events
        i_connected = ev.index(connected)
        i_off = index_of(ev, "phoneAudio", "updated", state="Disconnected")
        assert i_connected < i_off
        off = ev[i_off]
        assert off.reason is not None, "pa Disconnected must carry the hang-up reason"
        assert (off.reason.get("code"), off.reason.get("subcode")) == (
            "Informational",
            "CallTerminated",
        )
        tail = ev[i_off:]
        assert first(tail, "participant", "deleted") is not None
        i_conv_off = index_of(tail, "conversation", "updated", state="Disconnected")
        assert i_conv_off < index_of(tail, "conversation", "deleted")
        # The client sent nothing after placing the call.
        posts = [r.path for r in sim.request_log if r.method == "POST"]
        assert posts[-1] == httpx.URL(w.url(w.communication_link("startPhoneAudio"))).path
        # A racing stop after the far end left is "already ended", never a 5xx.
        late = await w.request("POST", stop, content=b"")
        assert late.status_code in (404, 409)
        error_body(late)
