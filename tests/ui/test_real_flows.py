"""Whole calls through the real widgets, the real view-models and the loopback simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

from app.ui.mainwindow import MainWindow
from tests.integration.gui_stack import Stack, collect_qt_garbage, stack

__all__ = ["collect_qt_garbage", "stack"]  # fixtures used by name


@pytest.fixture
def win(qtbot: QtBot, stack: Stack) -> Iterator[MainWindow]:
    window = MainWindow(stack.shell)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: len(stack.shell.dialer.callbackChoices) == 2)
    yield window
    window.hide()


class Seen(QObject):
    """Every headline the state indicator showed, in order (recorded after each refresh).

    A child of the window, so Qt drops the connections when the window goes.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.headlines: list[str] = []
        self.kinds: list[str] = []
        shell = window._shell
        for signal in (shell.call.stateTextChanged, shell.connectionStateChanged):
            signal.connect(self._record)  # connected after CallView's own refresh slot

    def _record(self, *_: object) -> None:
        indicator = self.window.callView.indicator
        text = indicator.look.headline
        if not self.headlines or self.headlines[-1] != text:
            self.headlines.append(text)
            self.kinds.append(indicator.look.kind)


def _headline(window: MainWindow) -> str:
    # The label keeps phone numbers whole with no-break spaces; compare the words.
    return window.callView.indicator.headline.text().replace("\u00a0", " ")


def _wait_headline(qtbot: QtBot, window: MainWindow, text: str, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: _headline(window) == text, timeout=timeout)


def test_keyboard_call_hold_resume_hang_up(qtbot: QtBot, stack: Stack, win: MainWindow) -> None:
    seen = Seen(win)
    number = win.dialer.number
    assert number.hasFocus()
    qtbot.keyClicks(number, "(425) 555-0100")
    assert number.text() == stack.shell.dialer.number  # the VM's formatting, shown as-is
    qtbot.keyClick(number, Qt.Key.Key_Return)

    _wait_headline(qtbot, win, "Connected")
    # The simulator connects the user's phone before the far end answers: never "Connected" early.
    assert seen.headlines[:4] == [
        "Calling your phone — pick up",
        "Connecting to +1 425-555-0100…",
        "Your phone is connected, ringing +1 425-555-0100…",
        "Connected",
    ]
    assert seen.kinds[:4] == ["progress", "progress", "progress", "good"]
    assert win.windowTitle() == "Connected — UCWA Phone"
    assert win.callView.ticker.isActive()
    assert win.callView.indicator.timer.text().startswith("00:0")
    qtbot.waitUntil(win.controls.holdButton.isEnabled)

    qtbot.keyClick(number, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    _wait_headline(qtbot, win, "On hold")
    qtbot.waitUntil(win.controls.resumeButton.isEnabled)
    assert win.controls.resumeButton.isVisibleTo(win)
    assert not win.controls.holdButton.isVisibleTo(win)

    qtbot.keyClick(number, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    _wait_headline(qtbot, win, "Connected")
    qtbot.waitUntil(win.controls.hangUpButton.isEnabled)

    qtbot.keyClick(number, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)
    assert not win.callView.ticker.isActive()
    assert win.controls.callButton.isVisibleTo(win) and win.controls.callButton.isEnabled()
    for path in ("/phoneAudioInvitations", "/holdPhoneAudio", "/resumePhoneAudio"):
        assert stack.requests("POST", path), path
    assert stack.requests("POST", "/stopPhoneAudio")

    # Ctrl+R calls the last number again.
    qtbot.keyClick(win.controls.callButton, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    _wait_headline(qtbot, win, "Connected")
    assert len(stack.requests("POST", "/phoneAudioInvitations")) == 2
    qtbot.mouseClick(win.controls.hangUpButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)


def test_mouse_call_hold_resume_hang_up(qtbot: QtBot, stack: Stack, win: MainWindow) -> None:
    for key in "4255550100":
        qtbot.mouseClick(win.dialer.keys[key], Qt.MouseButton.LeftButton)
    assert stack.shell.dialer.canDial
    qtbot.mouseClick(win.controls.callButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(win.controls.holdButton.isEnabled, timeout=5000)
    qtbot.mouseClick(win.controls.holdButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(win.controls.resumeButton.isEnabled, timeout=5000)
    assert _headline(win) == "On hold"
    qtbot.mouseClick(win.controls.resumeButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(win.controls.holdButton.isEnabled, timeout=5000)
    qtbot.mouseClick(win.controls.hangUpButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)
    assert stack.requests("POST", "/stopPhoneAudio")


def test_esc_cancels_while_your_phone_rings(qtbot: QtBot, stack: Stack, win: MainWindow) -> None:
    qtbot.keyClicks(win.dialer.number, "+14255550100")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stack.shell.call.canCancel, timeout=5000)
    assert win.controls.hangUpButton.text() == "Cancel"
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)
    assert win.callView.indicator.look.kind in ("neutral", "bad")


FAILURES = ["4255550101", "4255550102", "4255550103", "4255550104"]
FAILURES += ["4255550107", "4255550108", "4255550109", "4255550110"]


@pytest.mark.parametrize("number", FAILURES)
def test_each_failure_shows_its_reason(
    qtbot: QtBot, stack: Stack, win: MainWindow, number: str
) -> None:
    qtbot.keyClicks(win.dialer.number, number)
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stack.shell.call.state == "failed", timeout=8000)
    indicator = win.callView.indicator
    assert _headline(win).startswith("Ended — ")
    assert _headline(win) == stack.shell.call.stateText
    assert indicator.look.kind == "bad" and indicator.look.icon == "state-failed"
    assert indicator.accessibleDescription().startswith(stack.shell.call.stateText)
    assert not win.errorBanner.isVisibleTo(win)
    assert win.controls.callButton.isEnabled()  # ready for the next call


def test_forwarded_call_names_who_answered(qtbot: QtBot, stack: Stack, win: MainWindow) -> None:
    qtbot.keyClicks(win.dialer.number, "+14255550105")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "answered by" in win.callView.indicator.detail.text(), timeout=5000)
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)


def test_reconnecting_shows_and_the_call_survives(
    qtbot: QtBot, stack: Stack, win: MainWindow
) -> None:
    seen = Seen(win)
    qtbot.keyClicks(win.dialer.number, "+14255550100")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    qtbot.waitUntil(win.controls.holdButton.isEnabled, timeout=5000)
    stack.sim.faults.drop_event_channel()
    qtbot.waitUntil(lambda: "Reconnecting…" in seen.headlines, timeout=5000)
    qtbot.waitUntil(lambda: stack.shell.connectionState == "signed_in", timeout=8000)
    _wait_headline(qtbot, win, "Connected")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    _wait_headline(qtbot, win, "On hold")
    qtbot.waitUntil(win.controls.hangUpButton.isEnabled, timeout=5000)
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not stack.shell.call.active, timeout=5000)


def test_closing_mid_call_asks_and_hangs_up(qtbot: QtBot, stack: Stack, win: MainWindow) -> None:
    qtbot.keyClicks(win.dialer.number, "+14255550100")
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    qtbot.waitUntil(win.controls.hangUpButton.isEnabled, timeout=5000)
    win.close()
    qtbot.waitUntil(lambda: win.confirm_box is not None)
    assert win.isVisible()  # nothing happens until the user answers
    box = win.confirm_box
    hang_up = next(b for b in box.buttons() if b.text() == "Hang up and quit")
    with qtbot.waitSignal(stack.shell.quitRequested, timeout=2000):
        qtbot.mouseClick(hang_up, Qt.MouseButton.LeftButton)
