"""Ctrl+H and Ctrl+R do what their label says, and only when it makes sense."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ucwa.calls import CallAction, CallState
from app.ui.dialer_view import dial_chars
from tests.ui.real_shell import Real


def test_ctrl_h_labelled_resume_resumes_when_both_links_are_offered(
    qtbot: QtBot, real: Real
) -> None:
    real.connected()
    real.session.push(
        CallState.ON_HOLD, CallAction.HOLD, CallAction.RESUME, CallAction.HANG_UP, connected_at=1.0
    )
    assert real.win.holdAction.text() == "&Resume"
    qtbot.keyClick(real.win.dialer.number, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "resume" in real.session.names())
    assert "hold" not in real.session.names()


def test_redial_only_without_a_call_and_with_a_recent_number(qtbot: QtBot, real: Real) -> None:
    win, dialer = real.win, real.shell.dialer
    assert not win.redialAction.isEnabled()  # nothing called yet
    dialer.setNumber("+14255550100")
    with qtbot.waitSignal(dialer.dialed):
        dialer.dial()
    assert not win.redialAction.isEnabled()  # the call is up
    qtbot.keyClicks(win.dialer.number, "2065550111")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dialer.redial()
    assert dial_chars(win.dialer.number.text()).endswith("2065550111")
    assert [c for c in real.session.calls if c[0] == "start_call"] == [
        ("start_call", "+14255550100", "+14255550123")
    ]
    real.ended()
    assert win.redialAction.isEnabled()
