"""Scenario G: a forwarded call answered by someone else (docs/protocol.md §10 G, §11 check 33)."""

from __future__ import annotations

import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import FORWARDED, first, index_of, walker


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def test_forwarded_call_succeeds_with_a_different_acceptor(
    shared_server, sim_credentials
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        assert (await w.start_call(FORWARDED, operation_id="op-fwd")).status_code == 201
        done = await w.wait_event("phoneAudioInvitation", "completed")
        ev = w.events
        i_fwd = index_of(ev, "phoneAudioInvitation", "updated", state="Forwarded")
        forwarded = ev[i_fwd]
        assert forwarded.reason is not None, "Forwarded update without a reason"
        assert (forwarded.reason.get("code"), forwarded.reason.get("subcode")) == (
            "Informational",
            "Forwarded",
        )
        assert i_fwd < ev.index(done)
        assert done.status == "Success"
        assert done.body is not None and done.body["state"] == "Connected"
        assert done.body["to"] == FORWARDED
        accepted = done.body["_embedded"]["acceptedByParticipant"]
        assert isinstance(accepted, list) and len(accepted) == 1
        assert accepted[0]["uri"] == "tel:+14255550199"
        assert accepted[0]["uri"] != done.body["to"]
        assert accepted[0].get("name") == "Front desk"
        joined = first(ev, "participant", "added")
        assert joined is not None
        name = (joined.body or {}).get("name") or joined.raw["link"].get("title")
        assert name == "Front desk", joined.raw
        await w.wait_event("phoneAudio", "updated", state="Connected")
