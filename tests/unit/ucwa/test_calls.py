"""The call state machine driven by wire events only, no sockets or loop (docs/protocol.md §10)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.calls import (
    _PUBLIC,
    TRANSITIONS,
    CallAction,
    CallReason,
    CallSnapshot,
    CallState,
    CallTracker,
    _Phase,
    _Signal,
)
from app.ucwa.events import Event, parse_batch
from app.ucwa.models import parse_resource
from tests.helpers.samples import load_sample

BASE = "https://pool.contoso.com"
APP = "/ucwa/oauth/v1/applications/7"
COMM = APP + "/communication"
INV = COMM + "/phoneAudioInvitations/i1"
CONV = COMM + "/conversations/c1"
PA = CONV + "/phoneAudio"
BOB = CONV + "/participants/bob"
NUMBER = "+14255550100"
OP = "op-1"

Wire = tuple[str, str, dict[str, Any]]  # sender rel, sender href, event JSON


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


# -- JSON builders, shaped like docs/protocol.md §7.3 / §10 ----------------------------------------


def _links(**hrefs: str) -> dict[str, Any]:
    return {rel: {"href": href} for rel, href in hrefs.items()}


def inv(
    kind: str,
    state: str | None = "Connecting",
    *,
    op: str = OP,
    href: str = INV,
    status: str | None = None,
    reason: tuple[str, str] | None = None,
    cancel: bool = True,
    accepted: dict[str, str] | None = None,
    body: bool = True,
) -> Wire:
    event: dict[str, Any] = {"link": {"rel": "phoneAudioInvitation", "href": href}, "type": kind}
    if body:
        links = _links(self=href, conversation=CONV, phoneAudio=PA, to=APP + "/people/bob")
        if cancel:
            links["cancel"] = {"href": href + "/cancel"}
        resource: dict[str, Any] = {
            "rel": "phoneAudioInvitation",
            "direction": "Outgoing",
            "operationId": op,
            "to": "tel:" + NUMBER,
            "_links": links,
        }
        if state is not None:
            resource["state"] = state
        if accepted is not None:
            resource["_embedded"] = {
                "acceptedByParticipant": [
                    {"rel": "participant", **accepted, "_links": _links(self=CONV + "/p/x")}
                ]
            }
        event["_embedded"] = {"phoneAudioInvitation": resource}
    if status is not None:
        event["status"] = status
    if reason is not None:
        event["reason"] = {"code": reason[0], "subcode": reason[1], "message": "server words"}
    return ("communication", COMM, event)


def conv(kind: str, state: str | None = None, *, href: str = CONV) -> Wire:
    event: dict[str, Any] = {"link": {"rel": "conversation", "href": href}, "type": kind}
    if state is not None:
        event["_embedded"] = {
            "conversation": {
                "rel": "conversation",
                "state": state,
                "_links": _links(self=href, phoneAudio=href + "/phoneAudio"),
            }
        }
    return ("communication", COMM, event)


def pa(state: str, *links: str, reason: tuple[str, str] | None = None, conv: str = CONV) -> Wire:
    href = conv + "/phoneAudio"
    resource = {
        "rel": "phoneAudio",
        "state": state,
        "_links": _links(self=href, conversation=conv, **{rel: f"{href}/{rel}" for rel in links}),
    }
    event: dict[str, Any] = {
        "link": {"rel": "phoneAudio", "href": href},
        "_embedded": {"phoneAudio": resource},
        "type": "updated",
    }
    if reason is not None:
        event["reason"] = {"code": reason[0], "subcode": reason[1]}
    return ("conversation", conv, event)


def participant(kind: str, rel: str = "participant", href: str = BOB) -> Wire:
    return (
        "conversation",
        CONV,
        {"link": {"rel": rel, "href": href, "title": "Bob"}, "type": kind},
    )


def events(*wires: Wire) -> list[Event]:
    """Run the wire events through the real batch parser, one sender block per event."""
    doc = {
        "_links": _links(self=APP + "/events?ack=1", next=APP + "/events?ack=2"),
        "sender": [{"rel": r, "href": h, "events": [e]} for r, h, e in wires],
    }
    return list(parse_batch(doc, BASE).events)


def drive(tracker: CallTracker, *wires: Wire) -> list[CallSnapshot]:
    out = []
    for event in events(*wires):
        if tracker.wants(event):
            snapshot = tracker.apply(event)
            if snapshot is not None:
                out.append(snapshot)
    return out


def states(snapshots: list[CallSnapshot]) -> list[CallState]:
    return [s.state for s in snapshots]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def call(clock: Clock) -> CallTracker:
    return CallTracker(NUMBER, OP, now=clock)


RINGING_YOU = (inv("started"), conv("added", "Connecting"), pa("Connecting", "stopPhoneAudio"))
FAR_END = (inv("updated", "Alerting"),)
ANSWERED = (
    conv("updated", "Connected"),
    participant("added"),
    pa("Connected", "holdPhoneAudio", "stopPhoneAudio"),
    inv(
        "completed", "Connected", status="Success", cancel=False, accepted={"uri": "tel:" + NUMBER}
    ),
)


# -- the table itself ---------------------------------------------------------------------------


def test_transition_table_is_a_total_dict_over_phases() -> None:
    assert isinstance(TRANSITIONS, dict)
    assert set(TRANSITIONS) == set(_PUBLIC)
    for row in TRANSITIONS.values():
        assert isinstance(row, dict)
        assert set(row.values()) <= set(_PUBLIC)


def test_final_phases_have_no_way_out() -> None:
    finals = [phase for phase, state in _PUBLIC.items() if state.is_final]
    assert finals and all(TRANSITIONS[phase] == {} for phase in finals)


def test_a_new_call_is_calling_your_phone(call: CallTracker) -> None:
    assert call.snapshot == CallSnapshot(state=CallState.CALLING_YOU, number=NUMBER, call_id=OP)


# -- scenario A: happy path, hold/resume, local hang-up ------------------------------------------


def test_scenario_a_happy_path_hold_resume_hang_up(call: CallTracker, clock: Clock) -> None:
    snaps = drive(call, inv("started"))
    assert states(snaps) == [CallState.CALLING_YOU]  # only the cancel action appeared
    assert call.snapshot.actions == {CallAction.CANCEL}
    assert call.action_href(CallAction.CANCEL) == BASE + INV + "/cancel"

    drive(call, *RINGING_YOU[1:])
    assert call.snapshot.state is CallState.CALLING_YOU

    assert states(drive(call, *FAR_END)) == [CallState.CONNECTING]

    clock.t = 130.0
    snaps = drive(call, *ANSWERED)
    assert states(snaps) == [CallState.RINGING_THEM, CallState.CONNECTED]
    assert call.snapshot.connected_at == 130.0
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}
    assert call.snapshot.answered_by is None  # the dialled number answered
    assert call.action_href(CallAction.HOLD) == BASE + PA + "/holdPhoneAudio"
    assert call.action_href(CallAction.RESUME) is None

    snaps = drive(call, pa("Connected", "resumePhoneAudio", "stopPhoneAudio"))
    assert states(snaps) == [CallState.ON_HOLD]
    assert call.snapshot.actions == {CallAction.RESUME, CallAction.HANG_UP}
    assert call.action_href(CallAction.RESUME) == BASE + PA + "/resumePhoneAudio"

    snaps = drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"))
    assert states(snaps) == [CallState.CONNECTED]

    ending = call.local_ending()
    assert ending.state is CallState.ENDING and ending.actions == frozenset()
    assert call.action_href(CallAction.HANG_UP) is None

    snaps = drive(
        call,
        pa("Disconnecting"),
        pa("Disconnected", "addPhoneAudio"),
        participant("deleted"),
        conv("updated", "Disconnected"),
        conv("deleted"),
    )
    assert states(snaps) == [CallState.ENDED]
    final = call.snapshot
    assert final.reason is not None and final.reason.message == "You hung up."
    assert final.connected_at == 130.0 and final.actions == frozenset()


def test_connected_arrives_from_the_invitation_when_phone_audio_lags(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    snaps = drive(call, inv("completed", "Connected", status="Success", cancel=False))
    assert states(snaps) == [CallState.CONNECTED]
    # Only the links of the last phoneAudio update count: stop (from Connecting), no hold yet.
    assert call.snapshot.actions == {CallAction.HANG_UP}
    drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"))
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}


def test_events_after_the_end_are_not_wanted(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED, pa("Disconnected"))
    assert call.snapshot.state is CallState.ENDED
    assert not any(
        call.wants(e) for e in events(pa("Connected", "holdPhoneAudio"), conv("deleted"))
    )


# -- scenario B: remote hang-up ----------------------------------------------------------------


def test_scenario_b_remote_hang_up_ends_normally(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    snaps = drive(
        call,
        pa("Disconnected", reason=("Informational", "CallTerminated")),
        participant("deleted"),
        conv("updated", "Disconnected"),
        conv("deleted"),
    )
    assert states(snaps) == [CallState.ENDED]
    assert call.snapshot.reason is not None
    assert call.snapshot.reason.subcode == "CallTerminated"
    assert call.snapshot.reason.message == "The other party hung up."


def test_participant_deleted_alone_is_a_remote_hang_up(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    assert states(drive(call, participant("deleted"))) == [CallState.ENDED]
    assert call.snapshot.reason is not None
    assert call.snapshot.reason.message == "The other party hung up."


def test_local_participant_leaving_is_not_a_hang_up(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    assert drive(call, participant("deleted", rel="localParticipant")) == []
    assert call.snapshot.state is CallState.CONNECTED


@pytest.mark.parametrize("end", [conv("updated", "Disconnected"), conv("deleted")])
def test_conversation_end_ends_a_connected_call(call: CallTracker, end: Wire) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    assert states(drive(call, end)) == [CallState.ENDED]


# -- scenarios C–F and an unknown subcode: failures ------------------------------------------


@pytest.mark.parametrize(
    ("state", "code", "subcode", "message"),
    [
        ("Failed", "RemoteFailure", "Busy", "The line was busy."),
        ("Declined", "RemoteFailure", "Declined", "The call was declined."),
        ("Declined", "RemoteFailure", "DoNotDisturb", "does not want to be disturbed"),
        ("Failed", "RemoteFailure", "Missed", "There was no answer."),
        ("Failed", "RemoteFailure", "Timeout", "There was no answer."),
        ("Failed", "RemoteFailure", "Unreachable", "could not be reached"),
        ("Failed", "NotFound", "DestinationNotFound", "That number does not exist."),
        ("Failed", "RemoteFailure", "QuantumFluxOverload", "The call could not be completed."),
    ],
)
def test_far_end_failures_report_the_reason(
    call: CallTracker, state: str, code: str, subcode: str, message: str
) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    snaps = drive(
        call,
        pa("Disconnected"),
        inv("completed", state, status="Failure", reason=(code, subcode), cancel=False),
        conv("updated", "Disconnected"),
        conv("deleted"),
    )
    assert states(snaps) == [CallState.ENDING, CallState.FAILED]
    reason = call.snapshot.reason
    assert reason is not None
    assert (reason.code, reason.subcode) == (code, subcode)
    assert message in reason.message
    assert call.snapshot.connected_at is None and call.snapshot.actions == frozenset()


def test_scenario_c_your_phone_did_not_answer(call: CallTracker) -> None:
    drive(call, *RINGING_YOU)
    snaps = drive(
        call,
        pa("Disconnected"),
        inv("completed", "Failed", reason=("RemoteFailure", "PstnCallFailed"), cancel=False),
        conv("deleted"),
    )
    assert states(snaps) == [CallState.ENDING, CallState.FAILED]
    assert call.snapshot.reason is not None
    assert call.snapshot.reason.message == "Your phone did not answer."


def test_a_failure_state_in_an_update_is_final(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    snaps = drive(call, inv("updated", "Declined", reason=("RemoteFailure", "Declined")))
    assert states(snaps) == [CallState.FAILED]


def test_conversation_gone_before_connecting_fails_with_the_reason_seen(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    snaps = drive(call, pa("Disconnected", reason=("RemoteFailure", "Busy")), conv("deleted"))
    assert states(snaps) == [CallState.ENDING, CallState.FAILED]
    assert call.snapshot.reason is not None and call.snapshot.reason.subcode == "Busy"


def test_completion_without_reason_or_success_is_a_generic_failure(call: CallTracker) -> None:
    drive(call, *RINGING_YOU)
    assert states(drive(call, inv("completed", None, cancel=False))) == [CallState.FAILED]
    assert call.snapshot.reason is not None
    assert call.snapshot.reason.message == "The call could not be completed."


# -- scenario G: forwarding -----------------------------------------------------------------


def test_scenario_g_forwarded_call_shows_who_answered(call: CallTracker) -> None:
    drive(call, *RINGING_YOU)
    snaps = drive(call, inv("updated", "Forwarded", reason=("Informational", "Forwarded")))
    assert states(snaps) == [CallState.CONNECTING]  # informational, not a failure
    snaps = drive(
        call,
        pa("Connected", "holdPhoneAudio", "stopPhoneAudio"),
        inv(
            "completed",
            "Connected",
            status="Success",
            accepted={"uri": "tel:+14255550199", "name": "Front desk"},
        ),
    )
    assert call.snapshot.state is CallState.CONNECTED
    assert call.snapshot.answered_by == "Front desk (+1 425-555-0199)"
    assert snaps[-1].answered_by == "Front desk (+1 425-555-0199)"


@pytest.mark.parametrize("state", ["TeamRing", "Alerting", "Forwarded", "alerting"])
def test_far_end_ringing_states_move_to_connecting(call: CallTracker, state: str) -> None:
    drive(call, inv("started"))
    assert states(drive(call, inv("updated", state))) == [CallState.CONNECTING]


def test_phone_audio_connecting_alone_keeps_calling_your_phone(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, inv("updated", "Connecting"))
    assert call.snapshot.state is CallState.CALLING_YOU


# -- scenario H and other cancellations -------------------------------------------------------


def test_scenario_h_user_cancels_while_your_phone_rings(call: CallTracker) -> None:
    drive(call, *RINGING_YOU)
    assert call.action_href(CallAction.CANCEL) == BASE + INV + "/cancel"
    assert call.local_ending().state is CallState.ENDING
    snaps = drive(
        call,
        pa("Disconnected"),
        inv("completed", "Cancelled", reason=("LocalFailure", "Canceled"), cancel=False),
        conv("deleted"),
    )
    assert states(snaps) == [CallState.ENDED]  # a cancel is not a failure
    assert call.snapshot.reason is not None and call.snapshot.reason.subcode == "Canceled"
    assert "cancelled" in call.snapshot.reason.message


def test_cancel_falls_back_to_stop_phone_audio(call: CallTracker) -> None:
    drive(call, inv("started", cancel=False), pa("Connecting", "stopPhoneAudio"))
    assert call.snapshot.actions == {CallAction.CANCEL}
    assert call.action_href(CallAction.CANCEL) == BASE + PA + "/stopPhoneAudio"


def test_no_cancel_without_a_link(call: CallTracker) -> None:
    drive(call, inv("started", cancel=False), pa("Connecting"))
    assert call.snapshot.actions == frozenset()
    assert call.action_href(CallAction.CANCEL) is None


@pytest.mark.parametrize(
    ("state", "subcode"),
    [("Cancelled", "Canceled"), ("Canceled", "Cancelled"), (None, "CANCELED"), ("cancelled", None)],
)
def test_both_cancel_spellings_end_the_call_not_fail_it(
    call: CallTracker, state: str | None, subcode: str | None
) -> None:
    drive(call, *RINGING_YOU)
    reason = ("LocalFailure", subcode) if subcode else None
    drive(call, inv("completed", state, reason=reason, cancel=False))
    assert call.snapshot.state is CallState.ENDED


def test_answer_racing_a_cancel_still_ends(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    call.local_ending()
    snaps = drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"), pa("Disconnected"))
    # Still ending (no hold offered mid-hang-up), then ended as a hang-up of a connected call.
    assert states(snaps) == [CallState.ENDING, CallState.ENDED]
    assert snaps[0].actions == frozenset()
    assert call.snapshot.connected_at is not None
    assert call.snapshot.reason is not None and call.snapshot.reason.message == "You hung up."


def test_local_ending_is_idempotent_and_final_states_stay(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    first = call.local_ending()
    assert call.local_ending() == first
    drive(call, pa("Disconnected"))
    final = call.snapshot
    assert call.local_ending() == final
    assert call.fail(CallReason(None, None, "late")) == final


# -- a hang-up / cancel the server refused ---------------------------------------------------------

REFUSED = CallReason("Unauthorized", None, "Hanging up did not work: please sign in again.")


def test_only_a_local_ending_can_step_back_and_only_to_a_live_phase() -> None:
    backs = {
        phase: row[_Signal.END_REFUSED]
        for phase, row in TRANSITIONS.items()
        if _Signal.END_REFUSED in row
    }
    assert backs == {_Phase.HANGING_UP: _Phase.RINGING_THEM, _Phase.CANCELLING: _Phase.CALLING_YOU}


def test_a_refused_hang_up_shows_the_call_connected_again_with_hang_up_offered(
    call: CallTracker, clock: Clock
) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    clock.t = 130.0
    drive(call, *ANSWERED)
    assert call.local_ending().state is CallState.ENDING
    clock.t = 140.0
    back = call.end_refused(REFUSED)
    assert back.state is CallState.CONNECTED
    assert back.actions == {CallAction.HOLD, CallAction.HANG_UP}
    assert back.reason == REFUSED  # the user sees why the hang-up failed
    assert back.connected_at == 130.0  # the call's timer goes on from the real answer
    assert not call.ending_locally
    assert call.action_href(CallAction.HANG_UP) == BASE + PA + "/stopPhoneAudio"
    # Hanging up again, this time confirmed: the note gives way to the real outcome.
    assert call.local_ending().reason is None
    drive(call, pa("Disconnected"))
    assert call.snapshot.state is CallState.ENDED
    assert call.snapshot.reason is not None and call.snapshot.reason.message == "You hung up."


def test_a_refused_hang_up_of_a_held_call_shows_it_on_hold(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    drive(call, pa("Connected", "resumePhoneAudio", "stopPhoneAudio"))
    call.local_ending()
    back = call.end_refused(REFUSED)
    assert back.state is CallState.ON_HOLD
    assert back.actions == {CallAction.RESUME, CallAction.HANG_UP}


@pytest.mark.parametrize(
    ("progress", "shown"),
    [
        ((), CallState.CALLING_YOU),
        (FAR_END, CallState.CONNECTING),
        ((*FAR_END, pa("Connected", "stopPhoneAudio")), CallState.RINGING_THEM),
    ],
)
def test_a_refused_cancel_returns_to_the_setup_state_the_call_was_in(
    call: CallTracker, progress: tuple[Wire, ...], shown: CallState
) -> None:
    drive(call, *RINGING_YOU, *progress)
    before = call.snapshot
    assert call.local_ending().state is CallState.ENDING
    back = call.end_refused(REFUSED)
    assert back.state is shown is before.state
    assert back.actions == before.actions == {CallAction.CANCEL}
    assert back.connected_at is None
    assert back.reason == REFUSED


def test_a_refused_cancel_that_crossed_the_phone_leg_is_not_shown_answered(
    call: CallTracker,
) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    call.local_ending()
    drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"))  # now hanging up
    assert call.stop_after_cancel() is not None
    back = call.end_refused(REFUSED)
    assert back.state is CallState.RINGING_THEM  # the far end never answered
    assert back.connected_at is None
    assert back.actions == {CallAction.CANCEL}
    # Its answer arriving later connects it as usual.
    drive(call, inv("completed", "Connected", status="Success", cancel=False))
    assert call.snapshot.state is CallState.CONNECTED
    assert call.snapshot.reason is None


def test_a_refusal_changes_nothing_unless_the_call_is_ending_locally(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    connected = call.snapshot
    assert call.end_refused(REFUSED) == connected
    drive(call, pa("Disconnected"))
    final = call.snapshot
    assert call.end_refused(REFUSED) == final


# -- aggregation tolerance (docs/protocol.md §11 check 34) -----------------------------------------


def test_only_a_success_completion_connects(call: CallTracker) -> None:
    snaps = drive(call, inv("completed", "Connected", status="Success", cancel=False))
    assert states(snaps) == [CallState.CONNECTED]


def test_only_a_failure_completion_fails(call: CallTracker) -> None:
    snaps = drive(call, inv("completed", "Failed", reason=("RemoteFailure", "Busy"), cancel=False))
    assert states(snaps) == [CallState.FAILED]
    assert call.snapshot.reason is not None and call.snapshot.reason.subcode == "Busy"


def test_phone_audio_jumping_from_connecting_to_disconnected(call: CallTracker) -> None:
    drive(call, inv("started"), pa("Connecting", "stopPhoneAudio"))
    snaps = drive(
        call,
        pa("Disconnected"),
        inv("completed", "Failed", reason=("RemoteFailure", "Missed"), cancel=False),
    )
    assert states(snaps) == [CallState.ENDING, CallState.FAILED]


def test_conversation_events_before_the_invitation_are_replayed(call: CallTracker) -> None:
    """A merging server may send the conversation and phoneAudio before the only inv event."""
    snaps = drive(
        call,
        conv("added", "Connecting"),
        pa("Connected", "holdPhoneAudio", "stopPhoneAudio"),
        inv("completed", "Connected", status="Success", cancel=False),
    )
    assert states(snaps) == [CallState.CONNECTED]
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}


def test_other_conversations_are_not_replayed(call: CallTracker) -> None:
    other = COMM + "/conversations/im"
    drive(call, pa("Connected", "holdPhoneAudio", conv=other), pa("Disconnected", conv=other))
    drive(call, inv("started"))
    assert call.snapshot.state is CallState.CALLING_YOU
    assert not any(call.wants(e) for e in events(pa("Disconnected", conv=other)))


def test_merged_remote_hang_up_before_the_success_is_still_ended(call: CallTracker) -> None:
    drive(call, inv("started"))
    snaps = drive(
        call,
        pa("Disconnected", reason=("Informational", "CallTerminated")),
        inv("completed", "Connected", status="Success", cancel=False),
    )
    assert states(snaps) == [CallState.ENDING, CallState.ENDED]
    assert call.snapshot.connected_at is not None


def test_a_leftover_forwarded_note_is_not_the_outcome(call: CallTracker) -> None:
    drive(call, inv("started"), inv("updated", "Forwarded", reason=("Informational", "Forwarded")))
    drive(
        call,
        pa("Disconnected", reason=("Informational", "CallTerminated")),
        inv(
            "completed",
            "Connected",
            status="Success",
            reason=("Informational", "Forwarded"),
            cancel=False,
        ),
    )
    assert call.snapshot.state is CallState.ENDED
    assert call.snapshot.reason is not None and call.snapshot.reason.subcode == "CallTerminated"


def test_informational_notes_never_explain_a_failure(call: CallTracker) -> None:
    drive(call, inv("started"), inv("updated", "Forwarded", reason=("Informational", "Forwarded")))
    drive(call, conv("deleted"))
    assert call.snapshot.state is CallState.FAILED
    assert call.snapshot.reason is not None
    assert call.snapshot.reason.message == "The call could not be completed."


# -- links, not states, drive hold (docs/protocol.md §6.4, §12 #1) ---------------------------------


def test_unknown_phone_audio_state_keeps_state_and_rereads_links(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    snaps = drive(call, pa("OnHold", "resumePhoneAudio", "stopPhoneAudio"))
    assert states(snaps) == [CallState.ON_HOLD]
    snaps = drive(call, pa("SomethingNew", "holdPhoneAudio", "stopPhoneAudio"))
    assert states(snaps) == [CallState.CONNECTED]
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}


def test_unknown_state_while_connecting_changes_nothing(call: CallTracker) -> None:
    drive(call, *RINGING_YOU)
    before = call.snapshot
    assert drive(call, pa("Ringing", "stopPhoneAudio")) == []
    assert call.snapshot == before


def test_no_hold_without_the_link(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED, pa("Connected", "stopPhoneAudio"))
    assert call.snapshot.actions == {CallAction.HANG_UP}
    assert call.action_href(CallAction.HOLD) is None


def test_transferring_with_every_link_offers_what_the_links_say(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    drive(call, pa("Transferring", "holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio"))
    assert call.snapshot.state is CallState.ON_HOLD  # resume offered ⇒ held
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP}


# -- matching events to this call (docs/protocol.md §11 check 23) ----------------------------------


def test_invitation_events_before_the_201_are_matched_by_operation_id(call: CallTracker) -> None:
    drive(call, inv("started"))
    call.bind_invitation(BASE + INV)
    assert call.snapshot.actions == {CallAction.CANCEL}


def test_other_operations_are_ignored(call: CallTracker) -> None:
    other = inv("started", op="someone-else", href=COMM + "/phoneAudioInvitations/i9")
    (event,) = events(other)
    assert not call.wants(event)
    call.bind_invitation(BASE + INV)
    assert not call.wants(event)


def test_body_less_invitation_events_are_fetched_then_applied(call: CallTracker) -> None:
    (bare,) = events(inv("updated", body=False))
    assert call.wants(bare) and call.needs_body(bare)
    call.bind_invitation(BASE + INV)
    assert call.needs_body(bare)
    (full,) = events(inv("updated", "Alerting"))
    assert full.resource is not None
    snapshot = call.apply(bare.with_resource(full.resource))
    assert snapshot is not None and snapshot.state is CallState.CONNECTING


def test_body_less_events_for_another_invitation_are_not_fetched(call: CallTracker) -> None:
    call.bind_invitation(BASE + INV)
    (bare,) = events(inv("updated", href=COMM + "/phoneAudioInvitations/i9", body=False))
    assert not call.wants(bare) and not call.needs_body(bare)


def test_bodies_are_requested_only_where_needed(call: CallTracker) -> None:
    drive(call, inv("started"))
    bare_pa = ("conversation", CONV, {"link": {"rel": "phoneAudio", "href": PA}, "type": "updated"})
    deleted, bare_pa_event, bare_conv = events(conv("deleted"), bare_pa, conv("updated"))
    assert call.wants(deleted) and not call.needs_body(deleted)
    assert call.needs_body(bare_pa_event)
    assert call.needs_body(bare_conv)
    unrelated = events(
        ("me", APP + "/me", {"link": {"rel": "me", "href": APP + "/me"}, "type": "updated"})
    )
    assert not call.wants(unrelated[0]) and not call.needs_body(unrelated[0])


def test_apply_ignores_events_it_does_not_want(call: CallTracker) -> None:
    (event,) = events(inv("started", op="x", href=COMM + "/phoneAudioInvitations/x"))
    assert call.apply(event) is None


# -- fail / reset --------------------------------------------------------------------------


def test_fail_before_connecting(call: CallTracker) -> None:
    reason = CallReason("ServiceFailure", "CallbackChannelError", "boom", diagnostics="1;x")
    snapshot = call.fail(reason)
    assert snapshot.state is CallState.FAILED and snapshot.reason == reason


def test_fail_while_connected_is_a_failure(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    assert call.fail(CallReason(None, None, "Lost")).state is CallState.FAILED


def test_reset_drops_the_call(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    snapshot = call.reset(CallReason(None, None, "The server reset the session."))
    assert snapshot.state is CallState.FAILED
    assert snapshot.reason is not None and snapshot.reason.message.startswith("The server")


def test_reset_while_hanging_up_ends(call: CallTracker) -> None:
    drive(call, *RINGING_YOU, *FAR_END, *ANSWERED)
    call.local_ending()
    assert call.reset(CallReason(None, None, "reset")).state is CallState.ENDED


# -- vendor sample bodies (docs/protocol.md §11 checks 22, 42) -------------------------------------


def test_vendor_started_event_then_fetched_invitation_body() -> None:
    """The reference 'started' event has no body; the session GETs the invitation (§11 check 22)."""
    sample_base = "https://fe1.contoso.com:443"
    tracker = CallTracker("+14255551234", "74cb7404e0a247d5a2d4eb0376a47dbf")
    (started,) = parse_batch(load_sample("phoneAudioInvitation__started_event.json"), BASE).events
    assert tracker.wants(started) and tracker.needs_body(started)
    body = parse_resource(load_sample("phoneAudioInvitation__get_response.json"), sample_base)
    snapshot = tracker.apply(started.with_resource(body))
    assert snapshot is not None and snapshot.state is CallState.CONNECTED  # state Connected
    assert snapshot.answered_by == "Joe Smith (john@contoso.com)"


def test_a_sip_address_answered_by_that_person_names_nobody_else() -> None:
    sample_base = "https://fe1.contoso.com:443"
    tracker = CallTracker("sip:John@contoso.com", "74cb7404e0a247d5a2d4eb0376a47dbf")
    (started,) = parse_batch(load_sample("phoneAudioInvitation__started_event.json"), BASE).events
    body = parse_resource(load_sample("phoneAudioInvitation__get_response.json"), sample_base)
    snapshot = tracker.apply(started.with_resource(body))
    assert snapshot is not None and snapshot.state is CallState.CONNECTED
    assert snapshot.answered_by is None  # john@contoso.com was dialled and answered


def test_vendor_phone_audio_body_with_all_links() -> None:
    sample_base = "https://fe1.contoso.com:443"
    tracker = CallTracker(NUMBER, OP)
    invitation = parse_resource(load_sample("phoneAudioInvitation__get_response.json"), sample_base)
    (started,) = events(inv("started", op="x"))
    tracker.bind_invitation(started.link.href)
    tracker.apply(started.with_resource(invitation))  # links conversation 137 and its phoneAudio
    (updated,) = parse_batch(load_sample("phoneAudio__updated_event.json"), BASE).events
    assert tracker.needs_body(updated)
    body = parse_resource(load_sample("phoneAudio__get_response.json"), sample_base)
    tracker.apply(updated.with_resource(body))
    assert tracker.snapshot.state is CallState.ON_HOLD
    assert tracker.snapshot.actions == {CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP}


# -- any order of events: the machine's invariants hold (hypothesis) --------------------------

POOL: list[Wire | str] = [
    *RINGING_YOU,
    *FAR_END,
    *ANSWERED,
    inv("updated", "Forwarded", reason=("Informational", "Forwarded")),
    inv("updated", "TeamRing"),
    inv("completed", "Failed", reason=("RemoteFailure", "Busy"), cancel=False),
    inv("completed", "Cancelled", reason=("LocalFailure", "Canceled"), cancel=False),
    inv("completed", None, cancel=False),
    inv("started", op="other", href=COMM + "/phoneAudioInvitations/other"),
    inv("updated", body=False),
    pa("Connected", "resumePhoneAudio", "stopPhoneAudio"),
    pa("Connected", "holdPhoneAudio", "stopPhoneAudio"),
    pa("OnHold", "resumePhoneAudio"),
    pa("Disconnecting"),
    pa("Disconnected", reason=("Informational", "CallTerminated")),
    pa("Disconnected"),
    pa("Connected", "holdPhoneAudio", conv=COMM + "/conversations/other"),
    conv("updated", "Disconnected"),
    conv("deleted"),
    conv("added", "Connecting", href=COMM + "/conversations/other"),
    participant("deleted"),
    participant("deleted", rel="localParticipant"),
    "local_ending",
    "fail",
    "reset",
]

SETUP_ACTIONS = {CallAction.CANCEL}
UP_ACTIONS = {CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(POOL))), max_size=25))
def test_invariants_under_any_event_order(indices: list[int]) -> None:
    tracker = CallTracker(NUMBER, OP, now=Clock())
    final: CallSnapshot | None = None
    connected_at: float | None = None
    for index in indices:
        step = POOL[index]
        if step == "local_ending":
            tracker.local_ending()
        elif step == "fail":
            tracker.fail(CallReason(None, None, "lost"))
        elif step == "reset":
            tracker.reset(CallReason(None, None, "reset"))
        else:
            assert not isinstance(step, str)
            for event in events(step):
                if tracker.wants(event):
                    tracker.apply(event)
        snap = tracker.snapshot
        if final is not None:
            assert snap == final  # final states absorb everything
        if snap.state.is_final:
            final = snap
            assert snap.reason is not None and snap.actions == frozenset()
        if snap.state is CallState.ENDING:
            assert snap.actions == frozenset()
        if snap.state in (CallState.CALLING_YOU, CallState.CONNECTING):
            assert snap.actions <= SETUP_ACTIONS
        if snap.state in (CallState.CONNECTED, CallState.ON_HOLD):
            assert snap.actions <= UP_ACTIONS and snap.connected_at is not None
        if snap.state is CallState.ON_HOLD:
            assert CallAction.RESUME in snap.actions  # held is read from the resume link
        if connected_at is not None:
            assert snap.connected_at == connected_at  # first connection time never moves
        connected_at = snap.connected_at
        for action in CallAction:
            assert (tracker.action_href(action) is not None) == (action in snap.actions)


def test_own_phone_connected_before_the_far_end_answers_is_not_connected(
    call: CallTracker, clock: Clock
) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    clock.t = 120.0
    snaps = drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"))
    assert states(snaps) == [CallState.RINGING_THEM]
    assert call.snapshot.connected_at is None  # no timer while the far end still rings
    assert call.snapshot.actions == {CallAction.CANCEL}  # no hold before anyone answered
    clock.t = 135.0
    snaps = drive(call, inv("completed", "Connected", status="Success", cancel=False))
    assert states(snaps) == [CallState.CONNECTED]
    assert call.snapshot.connected_at == 135.0  # the timer starts when the far end answered
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}


def test_invitation_success_before_phone_audio_connected_is_connected_at_once(
    call: CallTracker, clock: Clock
) -> None:
    drive(call, *RINGING_YOU, *FAR_END)
    clock.t = 140.0
    snaps = drive(call, inv("completed", "Connected", status="Success", cancel=False))
    assert states(snaps) == [CallState.CONNECTED]
    assert call.snapshot.connected_at == 140.0
    clock.t = 141.0
    snaps = drive(call, pa("Connected", "holdPhoneAudio", "stopPhoneAudio"))
    assert call.snapshot.state is CallState.CONNECTED  # the late media event changes nothing
    assert call.snapshot.connected_at == 140.0
    assert call.snapshot.actions == {CallAction.HOLD, CallAction.HANG_UP}


def test_far_end_not_answering_after_own_phone_connected_fails_with_the_reason(
    call: CallTracker,
) -> None:
    drive(call, *RINGING_YOU, *FAR_END, pa("Connected", "stopPhoneAudio"))
    assert call.snapshot.state is CallState.RINGING_THEM
    snaps = drive(
        call,
        pa("Disconnected"),
        inv("completed", "Failed", status="Failure", reason=("RemoteFailure", "Missed")),
    )
    assert states(snaps)[-1] is CallState.FAILED
    assert call.snapshot.connected_at is None
