"""Review findings, through the real widgets and the real view-models on a fake session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ucwa.calls import CallAction, CallState
from app.ucwa.reasons import CallReason
from app.ui.dialer_view import _OTHER, cursor_after, dial_chars
from app.ui.mainwindow import MainWindow
from app.ui.single_instance import SingleInstance
from app.viewmodel.ports import Account, MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from tests.viewmodel.fakes import USER, FakeCallService, FakeSignInService, run

ACCOUNT = Account(address=USER, server="https://lyncdiscover.contoso.com/", user=USER)


@dataclass
class Real:
    shell: AppViewModel
    service: FakeSignInService
    win: MainWindow

    @property
    def session(self) -> FakeCallService:
        return self.service.sessions[-1]

    def connected(self) -> None:
        self.session.push(
            CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0
        )

    def ended(self) -> None:
        self.session.push(CallState.ENDED, reason=CallReason(None, None, "You hung up."))


@pytest.fixture
def real(qtbot: QtBot, aloop: asyncio.AbstractEventLoop) -> Iterator[Real]:
    service = FakeSignInService()
    shell = AppViewModel(
        signin_service=service, store=MemorySettingsStore(Settings(default_region="US"))
    )
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    win = MainWindow(shell)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: len(shell.dialer.callbackChoices) == 2)
    yield Real(shell, service, win)
    win.hide()
    run(qtbot, shell.aclose())


# 1 -------------------------------------------------------------------------------------------
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


# 2 -------------------------------------------------------------------------------------------
def test_sign_out_in_settings_is_off_while_a_call_is_up(qtbot: QtBot, real: Real) -> None:
    real.win.show_settings()
    dialog = real.win.settings_dialog
    assert dialog is not None and dialog.signOutButton.isEnabled()
    real.connected()
    assert not dialog.signOutButton.isEnabled()
    qtbot.mouseClick(dialog.signOutButton, Qt.MouseButton.LeftButton)
    qtbot.wait(20)
    assert real.shell.signedIn and "aclose" not in real.session.names()
    real.ended()
    assert dialog.signOutButton.isEnabled()
    dialog.close()


# 3, 4 ----------------------------------------------------------------------------------------
def test_rejected_characters_do_not_stay_in_the_field(qtbot: QtBot, real: Real) -> None:
    number = real.win.dialer.number
    qtbot.keyClicks(number, "4255550100")
    assert number.text() == real.shell.dialer.number == "(425) 555-0100"
    qtbot.keyClicks(number, "abc")
    assert number.text() == real.shell.dialer.number == "(425) 555-0100"


def test_the_cursor_stays_after_the_same_digits_when_editing_inside(
    qtbot: QtBot, real: Real
) -> None:
    number = real.win.dialer.number
    qtbot.keyClicks(number, "4255550100")
    number.setCursorPosition(cursor_after(number.text(), 5))  # "(425) 55|5-0100"
    qtbot.keyClick(number, Qt.Key.Key_Backspace)
    assert dial_chars(number.text()) == "425550100"
    assert dial_chars(number.text()[: number.cursorPosition()]) == "4255"
    qtbot.keyClicks(number, "9")
    assert dial_chars(number.text()) == "4255950100"
    assert dial_chars(number.text()[: number.cursorPosition()]) == "42559"
    qtbot.keyClicks(number, "x")  # refused: the cursor does not move either
    assert dial_chars(number.text()[: number.cursorPosition()]) == "42559"


# 5, 6 ----------------------------------------------------------------------------------------
def _choose_other(combo_owner: object) -> QLineEdit:
    selector = combo_owner
    combo = selector.callback  # type: ignore[attr-defined]
    index = combo.findData(_OTHER)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    field: QLineEdit = selector.customCallback  # type: ignore[attr-defined]
    return field


def test_return_in_the_settings_other_number_keeps_the_dialog_open(
    qtbot: QtBot, real: Real
) -> None:
    real.win.show_settings()
    dialog = real.win.settings_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    field = _choose_other(dialog.callback)
    qtbot.keyClicks(field, "12")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.callback.callbackHint.isVisible()
    dialog.close()


def test_esc_in_other_number_puts_the_choice_back(qtbot: QtBot, real: Real) -> None:
    selector = real.win.ringRow
    real.shell.dialer.setCallbackIndex(1)
    field = _choose_other(selector)
    assert field.isVisible()
    qtbot.keyClicks(field, "12")
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert selector.callback.currentIndex() == real.shell.dialer.callbackIndex == 1
    assert not field.isVisible()
    assert real.shell.dialer.callbackNumber == "+14255550124"


def test_leaving_other_number_without_a_valid_entry_puts_the_choice_back(
    qtbot: QtBot, real: Real
) -> None:
    selector = real.win.ringRow
    field = _choose_other(selector)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClicks(field, "12")
    real.win.dialer.number.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: not field.hasFocus())
    assert selector.callback.currentIndex() == real.shell.dialer.callbackIndex == 0
    # A valid number is taken when the field is left, as if Enter was pressed.
    field = _choose_other(selector)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.clear()
    qtbot.keyClicks(field, "+14255550199")
    real.win.dialer.number.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(lambda: not field.hasFocus())
    assert real.shell.dialer.callbackNumber == "+14255550199"
    assert selector.callback.currentText() == "Other +1 425-555-0199"


# 7 -------------------------------------------------------------------------------------------
def test_a_successful_sign_in_clears_an_old_error_banner(qtbot: QtBot, real: Real) -> None:
    real.shell.showError("Cannot reach lyncdiscover.contoso.com", "HTTP 503")
    assert real.win.errorBanner.isVisibleTo(real.win)
    with qtbot.waitSignal(real.shell.signin.signedIn):
        real.shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    assert real.shell.errorText == ""
    assert not real.win.errorBanner.isVisibleTo(real.win)


def test_a_failed_sign_in_is_said_once_in_the_form(qtbot: QtBot, real: Real) -> None:
    real.service.session_kwargs["sign_in_error"] = RuntimeError("boom")
    real.win.show_sign_in()
    with qtbot.waitSignal(real.shell.signin.signInFailed):
        real.shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    assert real.win.signInView.message.text() == real.shell.signin.message != ""
    assert real.shell.errorText == ""


# 8 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["address", "server", "user", "password"])
def test_enter_in_any_sign_in_field_signs_in(qtbot: QtBot, real: Real, field: str) -> None:
    real.win.show_sign_in()
    view = real.win.signInView
    qtbot.keyClicks(view.address, USER)
    qtbot.keyClicks(view.password, "secret")
    edit: QLineEdit = getattr(view, field)
    with qtbot.waitSignal(real.shell.signin.signedIn):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert real.service.opened[-1][1] == "secret"


# 9 -------------------------------------------------------------------------------------------
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


# 10 ------------------------------------------------------------------------------------------
def test_the_quit_question_goes_when_the_call_ends(qtbot: QtBot, real: Real) -> None:
    real.connected()
    real.win.close()
    box = real.win.confirm_box
    assert box is not None and box.isVisible()
    with qtbot.waitSignal(real.shell.quitRequested):
        real.ended()
    assert real.win.confirm_box is None
    assert not box.isVisible()
    assert "hang_up" not in real.session.names()


# 13 ------------------------------------------------------------------------------------------
@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen
def test_macos_file_open_events_and_early_links_reach_the_window(
    qtbot: QtBot, real: Real, qapp: QApplication
) -> None:
    instance = SingleInstance("ucwa-phone-test-unused")
    qapp.installEventFilter(instance)
    try:
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+1-425-555-0100")))
        assert real.shell.dialer.number == ""  # no window yet: kept for it
        instance.set_handler(real.win.present)
        assert real.shell.dialer.number == "+1 425-555-0100"
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+442079460000")))
        assert real.shell.dialer.number == "+44 20 7946 0000"
        assert not real.session.names().count("start_call")  # a link never calls by itself
    finally:
        qapp.removeEventFilter(instance)
