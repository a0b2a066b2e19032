"""The tray icon on the real view-models: state, menu, clipboard call, toggling, hide on close,
notifications; and where the desktop has no tray, nothing changes and nothing is said."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from app import gui
from app.ucwa.calls import CallAction, CallState
from app.ucwa.reasons import CallReason
from app.ui.tray import Tray
from app.viewmodel.tray import TrayViewModel
from tests.ui.real_shell import Real

# A tray forced onto the offscreen platform: Qt notes that this platform has no tray window to
# follow and cannot raise windows. Only the tests that force a tray see these.
FORCED_TRAY_NOISE = pytest.mark.qt_log_ignore(
    "No such signal QPlatformNativeInterface::systemTrayWindowChanged",
    "This plugin does not support raise",
)


def make_tray(real: Real, *, available: bool) -> Tray:
    vm = TrayViewModel(real.shell, parent=real.shell)
    tray = Tray(vm, real.win, available=lambda: available, parent=real.win)
    real.win.on_close = vm.closeWindow
    return tray


@pytest.fixture
def tray(real: Real) -> Iterator[Tray]:
    tray = make_tray(real, available=True)
    yield tray
    tray.close()
    QGuiApplication.clipboard().clear()


def menu_texts(tray: Tray) -> list[str]:
    assert tray.menu is not None
    return [a.text() for a in tray.menu.actions()]


@FORCED_TRAY_NOISE
def test_the_icon_shows_the_state_and_the_menu_what_can_be_done(tray: Tray, real: Real) -> None:
    assert tray.icon is not None and tray.icon.isVisible()
    assert tray.icon.toolTip() == "UCWA Phone\nSigned in as alice@contoso.com"
    assert menu_texts(tray) == [
        "Call number on clipboard — there is no number on it",
        "Show window",
        "Hang up",
        "",
        "Quit",
    ]
    assert not tray.callClipboardAction.isEnabled()
    assert not tray.hangUpAction.isEnabled()
    real.connected()
    assert tray.icon.toolTip() == "UCWA Phone\nConnected +44 20 7946 0000"
    assert tray.hangUpAction.isEnabled()
    real.ended()
    assert not tray.hangUpAction.isEnabled()


@FORCED_TRAY_NOISE
def test_hang_up_in_the_menu_ends_the_call(qtbot: QtBot, tray: Tray, real: Real) -> None:
    real.connected()
    tray.hangUpAction.trigger()
    qtbot.waitUntil(lambda: "hang_up" in real.session.names())


@FORCED_TRAY_NOISE
def test_the_number_on_the_clipboard_is_offered_and_called(
    qtbot: QtBot, tray: Tray, real: Real
) -> None:
    QGuiApplication.clipboard().setText("tel:+1-425-555-0100")
    qtbot.waitUntil(lambda: tray.callClipboardAction.isEnabled())
    assert tray.callClipboardAction.text() == "Call number on clipboard: +1 425-555-0100"
    tray.callClipboardAction.trigger()
    qtbot.waitUntil(lambda: "start_call" in real.session.names())
    assert real.session.calls[-1][1] == "+14255550100"
    QGuiApplication.clipboard().setText("call me maybe")
    qtbot.waitUntil(lambda: not tray.callClipboardAction.isEnabled())


@FORCED_TRAY_NOISE
def test_clicking_the_icon_hides_and_shows_the_window(qtbot: QtBot, tray: Tray, real: Real) -> None:
    assert tray.icon is not None
    real.win.activateWindow()
    qtbot.waitUntil(real.win.isActiveWindow)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert not real.win.isVisible()
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert real.win.isVisible()


@FORCED_TRAY_NOISE
def test_closing_the_window_keeps_the_app_in_the_tray(qtbot: QtBot, tray: Tray, real: Real) -> None:
    quits: list[bool] = []
    real.shell.quitRequested.connect(lambda: quits.append(True))
    real.win.close()
    assert not real.win.isVisible() and quits == []
    tray.showAction.trigger()
    assert real.win.isVisible()
    tray.quitAction.trigger()
    assert quits == [True]


@FORCED_TRAY_NOISE
def test_a_call_that_ends_while_hidden_is_notified_without_taking_focus(
    qtbot: QtBot, tray: Tray, real: Real
) -> None:
    assert tray.icon is not None
    shown: list[tuple[str, str]] = []
    tray.icon.showMessage = lambda title, text, *rest: shown.append((title, text))  # type: ignore[method-assign,assignment]
    real.connected()
    real.win.hide()
    real.session.push(CallState.FAILED, reason=CallReason(None, None, "The line was busy."))
    assert shown == [("Call failed", "+44 20 7946 0000: The line was busy.")]
    assert not real.win.isVisible()


def test_without_a_tray_nothing_changes_and_nothing_is_said(
    qtbot: QtBot, real: Real, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    real.shell.settings.setStartMinimised(True)
    tray = make_tray(real, available=False)
    assert tray.icon is None and real.win.findChildren(QSystemTrayIcon) == []
    assert not tray.vm.startHidden  # the window is shown: there is nowhere else to find it
    real.connected()
    real.win.hide()
    real.session.push(CallState.ENDED, CallAction.HANG_UP)
    real.win.show()
    assert real.shell.errorText == ""
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    quits: list[bool] = []
    real.shell.quitRequested.connect(lambda: quits.append(True))
    real.win.close()  # with no tray, closing quits as it always did
    assert quits == [True]


def test_the_product_makes_no_tray_where_the_desktop_has_none(real: Real) -> None:
    # The offscreen platform, like a bare X server, has no tray.
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    real.shell.settings.setStartMinimised(True)
    tray = gui._make_tray(real.shell, real.win)
    assert tray.icon is None and not tray.vm.startHidden
