"""Whole calls through the view-models, a real UcwaSession and the loopback simulator."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from tests.integration.gui_stack import (
    Stack,
    collect_qt_garbage,
    dial,
    in_order,
    stack,
    wait_state,
)
from tests.viewmodel.fakes import run

__all__ = ["collect_qt_garbage", "stack"]  # fixtures


def test_dial_hold_resume_hang_up(qtbot: QtBot, stack: Stack) -> None:
    shell, call = stack.shell, stack.shell.call
    assert shell.statusText == "Signed in as alice@contoso.com"
    qtbot.waitUntil(lambda: len(shell.dialer.callbackChoices) == 2)
    assert shell.dialer.callbackChoices[0] == "Work +1 425-555-0123"
    dial(qtbot, stack, "(425) 555-0100")
    wait_state(qtbot, stack, "connected")
    assert in_order(stack.states, ["calling_you", "connecting", "connected"])
    assert in_order(
        stack.texts,
        ["Calling your phone — pick up", "Connecting to +1 425-555-0100…", "Connected"],
    )
    assert call.peer == "+1 425-555-0100"
    assert call.connectedAt > 0 and "desk phone" in call.inCallHint
    qtbot.waitUntil(lambda: call.canHold)
    assert call.canHangUp and not call.canResume and not shell.dialer.canDial
    assert shell.title == "Connected — UCWA Phone"

    call.toggleHold()
    wait_state(qtbot, stack, "on_hold")
    qtbot.waitUntil(lambda: call.canResume)
    assert call.stateText == "On hold" and not call.canHold
    call.toggleHold()
    wait_state(qtbot, stack, "connected")
    qtbot.waitUntil(lambda: call.canHold)

    with qtbot.waitSignal(call.callEnded, timeout=5000):
        call.hangUp()
    assert not call.active and shell.dialer.canDial
    for path in ("/phoneAudioInvitations", "/holdPhoneAudio", "/resumePhoneAudio"):
        assert stack.requests("POST", path), path
    assert stack.requests("POST", "/stopPhoneAudio")
    assert shell.dialer.recentNumbers == ["+1 425-555-0100"]
    assert shell.errorText == ""


def test_cancel_while_your_phone_rings(qtbot: QtBot, stack: Stack) -> None:
    call = stack.shell.call
    dial(qtbot, stack, "+14255550100")
    qtbot.waitUntil(lambda: call.canCancel, timeout=5000)
    assert not call.canHold
    with qtbot.waitSignal(call.callEnded, timeout=5000):
        call.hangUp()
    assert not call.active


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("+14255550101", "Ended — the line was busy"),
        ("+14255550102", "Ended — the call was declined"),
        ("+14255550103", "Ended — there was no answer"),
        ("+14255550104", "Ended — your phone did not answer"),
        ("+14255550107", "Ended — the number could not be reached"),
        ("+14255550108", "Ended — that number does not exist"),
        (
            "+14255550109",
            "Ended — the person you called does not want to be disturbed right now",
        ),
        ("+14255550110", "Ended — the call could not be completed"),
    ],
)
def test_each_failure_says_why(qtbot: QtBot, stack: Stack, number: str, text: str) -> None:
    call = stack.shell.call
    with qtbot.waitSignal(call.callEnded, timeout=5000):
        dial(qtbot, stack, number)
    assert call.state == "failed"
    assert call.stateText == text
    assert call.reasonText and not call.canHangUp and not call.canCancel
    assert stack.shell.errorText == ""  # a failed call is the indicator's business, not a banner
    assert stack.shell.dialer.canDial  # ready for the next call


def test_far_end_hangs_up(qtbot: QtBot, stack: Stack) -> None:
    call = stack.shell.call
    dial(qtbot, stack, "+14255550106")
    wait_state(qtbot, stack, "connected")
    with qtbot.waitSignal(call.callEnded, timeout=5000):
        pass
    assert call.stateText == "Ended — the other party hung up"


def test_forwarded_call_shows_who_answered(qtbot: QtBot, stack: Stack) -> None:
    call = stack.shell.call
    dial(qtbot, stack, "+14255550105")
    wait_state(qtbot, stack, "connected")
    qtbot.waitUntil(lambda: bool(call.answeredBy))
    assert "Front desk" in call.answeredBy or "+14255550199" in call.answeredBy
    call.hangUp()
    wait_state(qtbot, stack, "ended")


def test_reconnects_after_the_event_channel_drops(qtbot: QtBot, stack: Stack) -> None:
    shell, call = stack.shell, stack.shell.call
    dial(qtbot, stack, "+14255550100")
    wait_state(qtbot, stack, "connected")
    qtbot.waitUntil(lambda: call.canHold)
    seen: list[str] = []
    shell.connectionStateChanged.connect(seen.append)
    stack.sim.faults.drop_event_channel()
    qtbot.waitUntil(lambda: "reconnecting" in seen, timeout=5000)
    qtbot.waitUntil(lambda: shell.connectionState == "signed_in", timeout=8000)
    assert shell.statusText == "Signed in as alice@contoso.com"
    call.toggleHold()  # the call survived and still answers
    wait_state(qtbot, stack, "on_hold")
    assert call.stateText == "On hold"


def test_token_expiry_mid_call(qtbot: QtBot, stack: Stack) -> None:
    call = stack.shell.call
    dial(qtbot, stack, "+14255550100")
    wait_state(qtbot, stack, "connected")
    qtbot.waitUntil(lambda: call.canHold)
    stack.sim.faults.expire_tokens()
    call.hold()
    wait_state(qtbot, stack, "on_hold")
    assert any(r.status == 401 for r in stack.sim.request_log)
    assert stack.shell.errorText == ""
    call.resume()
    wait_state(qtbot, stack, "connected")


def test_closing_mid_call_asks_then_hangs_up_and_deletes_the_application(
    qtbot: QtBot, stack: Stack
) -> None:
    shell, call = stack.shell, stack.shell.call
    dial(qtbot, stack, "+14255550100")
    wait_state(qtbot, stack, "connected")
    qtbot.waitUntil(lambda: call.canHangUp)
    with qtbot.waitSignal(shell.confirmHangUpRequested):
        shell.requestQuit()  # what the window's closeEvent does
    with qtbot.waitSignal(shell.quitRequested):
        shell.answerHangUp(True)
    run(qtbot, shell.aclose(), timeout_ms=8000)  # what main's coroutine does next
    assert stack.requests("POST", "/stopPhoneAudio")
    deletes = [r for r in stack.sim.request_log if r.method == "DELETE"]
    assert deletes and deletes[-1].path.startswith("/ucwa/oauth/v1/applications/")
    assert shell.connectionState == "signed_out"


def test_quit_when_idle_deletes_the_application(
    qtbot: QtBot, stack: Stack, aloop: asyncio.AbstractEventLoop
) -> None:
    with qtbot.waitSignal(stack.shell.quitRequested):
        stack.shell.requestQuit()
    run(qtbot, stack.shell.aclose(), timeout_ms=8000)
    deletes = [r.status for r in stack.sim.request_log if r.method == "DELETE"]
    assert len(deletes) == 1 and 200 <= deletes[0] < 300
