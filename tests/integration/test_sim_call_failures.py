"""Conformance scenarios C–F: callback unanswered, busy, declined, no answer and other failures."""

from __future__ import annotations

import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import (
    BUSY,
    CALLBACK_UNANSWERED,
    DECLINED,
    DO_NOT_DISTURB,
    NO_ANSWER,
    NOT_FOUND,
    UNKNOWN_SUBCODE,
    UNREACHABLE,
    Walker,
    first,
    index_of,
    links,
    walker,
)


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


# (number, final invitation state, reason code, reason subcode, far end rang?)
# — docs/protocol.md §10, §12 #5.
FAILURES = [
    pytest.param(CALLBACK_UNANSWERED, "Failed", "RemoteFailure", "PstnCallFailed", False,
                 id="C-callback"),
    pytest.param(BUSY, "Failed", "RemoteFailure", "Busy", True, id="D-busy"),
    pytest.param(DECLINED, "Declined", "RemoteFailure", "Declined", True, id="E-declined"),
    pytest.param(DO_NOT_DISTURB, "Declined", "RemoteFailure", "DoNotDisturb", True, id="E-dnd"),
    pytest.param(NO_ANSWER, "Failed", "RemoteFailure", "Missed", True, id="F-no-answer"),
    pytest.param(UNREACHABLE, "Failed", "RemoteFailure", "Unreachable", None, id="unreachable"),
    pytest.param(NOT_FOUND, "Failed", "NotFound", "DestinationNotFound", None, id="not-found"),
    pytest.param(UNKNOWN_SUBCODE, "Failed", "RemoteFailure", "QuantumFluxOverload", None,
                 id="unknown"),
]  # fmt: skip


async def _failed_call(w: Walker, number: str) -> None:
    await w.parked()
    resp = await w.start_call(number, operation_id=f"op-{number[-3:]}")
    assert resp.status_code == 201, resp.text
    assert resp.headers.get("location")
    await w.wait_event("conversation", "deleted", within=5)


@pytest.mark.parametrize(("number", "state", "code", "subcode", "rang"), FAILURES)
async def test_failed_call_completes_with_reason(
    shared_server,
    sim_credentials,
    number: str,
    state: str,
    code: str,
    subcode: str,
    rang: bool | None,
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await _failed_call(w, number)
        ev = w.events
        done = first(ev, "phoneAudioInvitation", "completed")
        assert done is not None, ev
        assert done.status != "Success"
        assert done.status == "Failure"
        assert done.body is not None
        assert done.body["state"] == state
        assert done.body["operationId"] == f"op-{number[-3:]}"
        assert done.reason is not None, "failed completion without a reason block"
        assert (done.reason.get("code"), done.reason.get("subcode")) == (code, subcode)
        assert isinstance(done.reason.get("message", ""), str)
        assert not (done.body.get("_embedded") or {}).get("acceptedByParticipant")
        assert "cancel" not in links(done.body)
        # The phone audio and the conversation are torn down, in order.
        i_pa_off = index_of(ev, "phoneAudio", "updated", state="Disconnected")
        i_conv_off = index_of(ev, "conversation", "updated", state="Disconnected")
        i_deleted = index_of(ev, "conversation", "deleted")
        assert i_pa_off < i_conv_off < i_deleted
        assert i_pa_off < ev.index(done)
        assert first(ev, "phoneAudio", "updated", state="Connected") is None
        assert first(ev, "participant", "added") is None
        alerting = first(ev, "phoneAudioInvitation", "updated", state="Alerting")
        if rang is not None:
            assert (alerting is not None) == rang, ev


async def test_no_answer_rings_longer_than_busy(shared_server, sim_credentials) -> None:
    """The no-answer scenario rings (~4 s base) before failing; busy fails right away."""
    import time

    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        t0 = time.monotonic()
        await _failed_call(w, BUSY)
        busy = time.monotonic() - t0
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        t0 = time.monotonic()
        await _failed_call(w, NO_ANSWER)
        missed = time.monotonic() - t0
    assert missed > busy
