"""CallViewModel: every state in words, actions only from the snapshot, commands to the service."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.reasons import CallReason
from app.ucwa.status import ConnectionState
from app.viewmodel.call import IN_CALL_HINT, CallViewModel
from tests.viewmodel.fakes import FakeCallService

UK = "+442079460000"


@pytest.fixture
def service() -> FakeCallService:
    return FakeCallService()


@pytest.fixture
def vm(service: FakeCallService) -> CallViewModel:
    vm = CallViewModel()
    vm.set_service(service)
    service.add_listener(_Forward(vm))
    return vm


class _Forward:
    def __init__(self, vm: CallViewModel) -> None:
        self.vm = vm

    def on_status(self, status: object) -> None:
        pass

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.vm.apply(snapshot)


@pytest.mark.parametrize(
    ("state", "reason", "text"),
    [
        (CallState.IDLE, None, "Ready to call"),
        (CallState.CALLING_YOU, None, "Calling your phone — pick up"),
        (CallState.CONNECTING, None, "Connecting to +44 20 7946 0000…"),
        (
            CallState.RINGING_THEM,
            None,
            "Your phone is connected, ringing +44 20 7946 0000…",
        ),
        (CallState.CONNECTED, None, "Connected"),
        (CallState.ON_HOLD, None, "On hold"),
        (CallState.ENDING, None, "Hanging up…"),
        (
            CallState.FAILED,
            CallReason("RemoteFailure", "Busy", "The line was busy."),
            "Ended — the line was busy",
        ),
        (
            CallState.ENDED,
            CallReason("Informational", "CallTerminated", "The other side hung up."),
            "Ended — the other side hung up",
        ),
        (CallState.ENDED, None, "Call ended"),
        (
            CallState.FAILED,
            CallReason("X", "Y", "PSTN gateway refused the call."),
            "Ended — PSTN gateway refused the call",
        ),
    ],
)
def test_state_words(
    vm: CallViewModel, state: CallState, reason: CallReason | None, text: str
) -> None:
    vm.apply(CallSnapshot(state, number=UK, reason=reason))
    assert vm.state == state.value
    assert vm.stateText == text
    assert vm.reasonText == (reason.message if reason else "")


def test_actions_come_only_from_the_snapshot(vm: CallViewModel) -> None:
    vm.apply(CallSnapshot(CallState.CALLING_YOU, number=UK, actions=frozenset({CallAction.CANCEL})))
    assert (vm.canHold, vm.canResume, vm.canHangUp, vm.canCancel) == (False, False, False, True)
    assert vm.active and vm.peer == "+44 20 7946 0000"
    vm.apply(CallSnapshot(CallState.CONNECTED, number=UK, connected_at=12.5, actions=frozenset()))
    # Connected but the server offered nothing (yet): nothing is enabled.
    assert (vm.canHold, vm.canResume, vm.canHangUp, vm.canCancel) == (False, False, False, False)
    assert vm.connectedAt == 12.5
    assert vm.inCallHint == IN_CALL_HINT
    vm.apply(
        CallSnapshot(
            CallState.CONNECTED,
            number=UK,
            connected_at=12.5,
            actions=frozenset({CallAction.HOLD, CallAction.HANG_UP}),
        )
    )
    assert (vm.canHold, vm.canResume, vm.canHangUp, vm.canCancel) == (True, False, True, False)


def test_digits_hint_only_while_connected(vm: CallViewModel) -> None:
    assert vm.inCallHint == ""
    vm.apply(CallSnapshot(CallState.ON_HOLD, number=UK))
    assert "desk phone" in vm.inCallHint
    vm.apply(CallSnapshot(CallState.ENDED, number=UK))
    assert vm.inCallHint == ""


def test_whole_call_through_the_service(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, vm: CallViewModel, service: FakeCallService
) -> None:
    service.push(CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0)
    with qtbot.waitSignal(vm.stateChanged, check_params_cb=lambda s: s == "on_hold"):
        vm.toggleHold()
    assert vm.canResume and not vm.canHold
    with qtbot.waitSignal(vm.stateChanged, check_params_cb=lambda s: s == "connected"):
        vm.toggleHold()
    with qtbot.waitSignal(vm.callEnded) as ended:
        vm.hangUp()
        vm.hangUp()  # pressed twice: one request
    assert ended.args == ["ended"]
    assert service.names() == ["hold", "resume", "hang_up"]
    assert not vm.active


def test_commands_not_offered_do_nothing(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, vm: CallViewModel, service: FakeCallService
) -> None:
    service.push(CallState.CALLING_YOU, CallAction.CANCEL)
    vm.hold()
    vm.resume()
    vm.toggleHold()
    qtbot.wait(10)
    assert service.calls == []
    with qtbot.waitSignal(vm.callEnded):
        vm.hangUp()
    assert service.names() == ["hang_up"]


def test_reconnecting_shows_while_a_call_is_up(vm: CallViewModel) -> None:
    vm.apply(CallSnapshot(CallState.CONNECTED, number=UK, connected_at=3.0))
    vm.set_connection(ConnectionState.RECONNECTING)
    assert vm.stateText == "Reconnecting…" and vm.reconnecting
    vm.set_connection(ConnectionState.SIGNED_IN)
    assert vm.stateText == "Connected"
    vm.apply(CallSnapshot(CallState.IDLE))
    vm.set_connection(ConnectionState.RECONNECTING)
    assert vm.stateText == "Ready to call"  # no call: the shell's status line says it


def test_call_ended_is_emitted_once(qtbot: QtBot, vm: CallViewModel) -> None:
    ended: list[str] = []
    vm.callEnded.connect(ended.append)
    vm.apply(CallSnapshot(CallState.CONNECTING, number=UK))
    busy = CallReason("RemoteFailure", "Busy", "The line was busy.")
    vm.apply(CallSnapshot(CallState.FAILED, number=UK, reason=busy))
    vm.apply(CallSnapshot(CallState.FAILED, number=UK, reason=busy))
    assert ended == ["failed"]


def test_unchanged_snapshot_emits_nothing(qtbot: QtBot, vm: CallViewModel) -> None:
    snap = CallSnapshot(CallState.CONNECTED, number=UK, actions=frozenset({CallAction.HOLD}))
    vm.apply(snap)
    with qtbot.assertNotEmitted(vm.stateChanged), qtbot.assertNotEmitted(vm.canHoldChanged):
        vm.apply(snap)


def test_forwarded_call_shows_who_answered(vm: CallViewModel) -> None:
    vm.apply(CallSnapshot(CallState.CONNECTED, number=UK, answered_by="Front desk"))
    assert vm.answeredBy == "Front desk"


def test_toggle_hold_resumes_when_held_even_if_hold_is_offered_too(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, vm: CallViewModel, service: FakeCallService
) -> None:
    # Some servers keep the hold link while the call is held; Ctrl+H then says "Resume".
    service.push(
        CallState.ON_HOLD, CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP, connected_at=1.0
    )
    with qtbot.waitSignal(vm.stateChanged):
        vm.toggleHold()
    assert service.names() == ["resume"] and vm.state == "connected"
