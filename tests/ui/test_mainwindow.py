"""The window's keyboard map, quit flow, banner, demo badge, pages, focus order, accessibility."""

from __future__ import annotations

import sys
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel, drive_call


def test_number_field_has_focus_and_takes_typing(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    number = window.findChild(QLineEdit, "number")
    assert number is window.dialer.number
    assert number.hasFocus()
    qtbot.keyClicks(number, "+1 (425) 555-0100")
    assert shell.dialer.number == "+14255550100"
    assert number.text() == "+14255550100"  # the VM's cleaned text came back exactly once


def test_user_edits_reach_the_vm_without_a_loop(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    qtbot.keyClicks(window.dialer.number, "4255")
    # One setNumber per keystroke; the VM's echo (numberChanged) does not call setNumber again.
    assert [args[0] for args in shell.dialer.called("setNumber")] == ["4", "42", "425", "4255"]
    shell.dialer.set(number="+1 425-5")  # a formatter may rewrite the text
    assert window.dialer.number.text() == "+1 425-5"
    assert len(shell.dialer.called("setNumber")) == 4


def test_non_ascii_paste_is_cleaned_by_the_vm(window: MainWindow, shell: FakeAppViewModel) -> None:
    # keyClicks is ASCII-only (it aborts on anything else); insert() is a user-style edit.
    window.dialer.number.insert("tel:+44\u202f20\u20117946\u00a00000")
    assert shell.dialer.number == "+442079460000"


def test_digits_and_paste_go_to_the_number_field_from_anywhere(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    combo = window.ringRow.callback
    combo.setFocus()
    qtbot.keyClicks(combo, "42")
    assert shell.dialer.number == "42"
    assert window.dialer.number.hasFocus()

    window.dialer.keys["5"].setFocus()
    qtbot.keyClick(window.dialer.keys["5"], Qt.Key.Key_Asterisk, Qt.KeyboardModifier.NoModifier)
    assert shell.dialer.number == "42*"

    QGuiApplication.clipboard().setText("555 0100")
    window.controls.callButton.setFocus()
    qtbot.keyClick(window.controls.callButton, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert shell.dialer.number == "42*5550100"


def test_keypad_buttons_append_and_zero_held_gives_plus(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    keys = window.dialer.keys
    for key in ("4", "2", "#"):
        qtbot.mouseClick(keys[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keys["0"], Qt.MouseButton.LeftButton)
    assert shell.dialer.number == "42#0"

    shell.dialer.clear()
    window.dialer._long_press.setInterval(20)  # the real 600 ms would only slow the test
    with qtbot.waitSignal(window.dialer.longPressPlus, timeout=1000):
        qtbot.mousePress(keys["0"], Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(keys["0"], Qt.MouseButton.LeftButton)
    assert shell.dialer.number == "+"


def test_keypad_keys_have_accessible_names(window: MainWindow) -> None:
    names = [window.dialer.keys[k].accessibleName() for k in "123456789*0#"]
    assert names == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Star", "0", "Hash"]
    assert "+" in window.dialer.keys["0"].accessibleDescription()


def test_enter_calls_ctrl_h_holds_esc_hangs_up_ctrl_r_redials(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    number = window.dialer.number
    qtbot.keyClicks(number, "+14255550100")
    qtbot.keyClick(number, Qt.Key.Key_Return)
    assert len(shell.dialer.called("dial")) == 1  # the shortcut and returnPressed never both fire

    drive_call(shell.call, "connecting")
    qtbot.keyClick(number, Qt.Key.Key_Escape)
    assert len(shell.call.called("hangUp")) == 1

    drive_call(shell.call, "connected", connected_at=time.monotonic())
    qtbot.keyClick(number, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert len(shell.call.called("toggleHold")) == 1
    assert number.text() == "+14255550100"  # Ctrl+H did not act as a backspace in the field

    drive_call(shell.call, "idle")
    window.controls.callButton.setFocus()
    qtbot.keyClick(window.controls.callButton, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert len(shell.dialer.called("redial")) == 1


def test_enter_with_an_invalid_number_asks_the_vm_to_explain(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    qtbot.keyClicks(window.dialer.number, "12")
    assert not shell.dialer.canDial
    assert window.dialer.hint.isVisibleTo(window)
    assert window.dialer.hint.text() == "Too short for a phone number"
    qtbot.keyClick(window.dialer.number, Qt.Key.Key_Return)
    assert len(shell.dialer.called("dial")) == 1  # the VM decides; it sets the hint


def test_buttons_drive_the_call(window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot) -> None:
    shell.dialer.setNumber("+14255550100")
    qtbot.mouseClick(window.controls.callButton, Qt.MouseButton.LeftButton)
    assert len(shell.dialer.called("dial")) == 1
    drive_call(shell.call, "connected", connected_at=time.monotonic())
    qtbot.mouseClick(window.findChild(QPushButton, "holdButton"), Qt.MouseButton.LeftButton)
    drive_call(shell.call, "on_hold", connected_at=time.monotonic())
    qtbot.mouseClick(window.findChild(QPushButton, "resumeButton"), Qt.MouseButton.LeftButton)
    drive_call(shell.call, "connected", connected_at=time.monotonic())
    qtbot.mouseClick(window.findChild(QPushButton, "hangUpButton"), Qt.MouseButton.LeftButton)
    assert [n for n, _ in shell.call.calls] == ["hold", "resume", "hangUp"]


def test_title_follows_the_shell(window: MainWindow, shell: FakeAppViewModel) -> None:
    shell.set(title="Connected — UCWA Phone")
    assert window.windowTitle() == "Connected — UCWA Phone"


def test_closing_asks_the_shell_and_keeps_the_window(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    window.close()
    assert shell.called("requestQuit") == [()]
    assert window.isVisible()


@pytest.mark.parametrize(
    ("button", "answer"), [("Hang up and quit", True), ("Keep the call", False)]
)
def test_confirm_hang_up_is_non_modal_and_answers_the_shell(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot, button: str, answer: bool
) -> None:
    shell.confirmHangUpRequested.emit()
    box = window.findChild(QMessageBox, "confirmHangUp")
    assert box is not None and box.isVisible()
    # open() is window-modal at most; the event loop never nests, so asyncio keeps running.
    assert box.windowModality() != Qt.WindowModality.ApplicationModal
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: fired == [True], timeout=1000)
    chosen = next(b for b in box.buttons() if b.text() == button)
    qtbot.mouseClick(chosen, Qt.MouseButton.LeftButton)
    assert shell.called("answerHangUp") == [(answer,)]
    assert window.confirm_box is None


def test_error_banner_shows_message_details_and_dismisses(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    banner = window.findChild(QWidget, "errorBanner")
    assert not banner.isVisibleTo(window)
    shell.set(
        errorText="The server refused the call.",
        errorDetails="403 Forbidden · subcode CallNotAllowed\nX-Ms-Diagnostics: 12005",
    )
    assert banner.isVisibleTo(window)
    assert window.errorBanner.message.text() == "The server refused the call."
    assert not window.errorBanner.details.isVisibleTo(window)
    qtbot.mouseClick(window.errorBanner.detailsButton, Qt.MouseButton.LeftButton)
    assert window.errorBanner.details.isVisibleTo(window)
    assert "X-Ms-Diagnostics: 12005" in window.errorBanner.details.text()
    assert "Traceback" not in window.errorBanner.details.text()
    qtbot.mouseClick(window.errorBanner.dismissButton, Qt.MouseButton.LeftButton)
    assert shell.called("dismissError") == [()]
    assert not banner.isVisibleTo(window)


def test_excepthook_routes_to_the_banner_without_a_traceback(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    before = sys.excepthook
    uninstall = window.install_excepthook()
    try:
        try:
            raise ValueError("secret-ish server text")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        uninstall()
    assert sys.excepthook is before
    assert window.errorBanner.isVisibleTo(window)
    assert "ValueError" in shell.errorDetails
    assert "secret-ish" not in shell.errorDetails
    assert "Traceback" not in shell.errorText
    # It cannot know that a call was not affected, so it does not say so.
    assert shell.errorText == "Something went wrong inside UCWA Phone; the log has details."


def test_the_number_hint_never_splits_a_phone_number(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    shell.dialer.set(hint="Start with + and the country code, e.g. +44 20 7946 0000.")
    assert window.dialer.hint.text().endswith("e.g. +44\u00a020\u00a07946\u00a00000.")


def test_demo_badge_links_to_account_setup(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    badge = window.findChild(QWidget, "demoBadge")
    assert not badge.isVisibleTo(window)
    shell.set(demo=True)
    assert badge.isVisibleTo(window)
    assert "calls are simulated" in window.demoBadge.label.text()
    with qtbot.waitSignal(shell.setupRequested, timeout=1000):
        qtbot.mouseClick(window.demoBadge.setupButton, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.signInPage
    # On the sign-in page, digits and Return belong to the form, not the dialer.
    qtbot.keyClicks(window.signInView.address, "bob42@contoso.com")
    assert shell.dialer.number == ""
    assert shell.signin.address == "bob42@contoso.com"
    assert not window.callAction.isEnabled()
    qtbot.mouseClick(window.signInView.backButton, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.phonePage


def test_settings_dialog_is_non_modal(window: MainWindow, qtbot: QtBot) -> None:
    window.settingsAction.trigger()
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    assert not dialog.isModal()
    dialog.close()


def test_settings_are_read_again_each_time_the_dialog_opens(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    window.settingsAction.trigger()
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    dialog.close()
    window.settingsAction.trigger()  # the same dialog again: the sign-in form may have saved
    assert len(shell.settings.called("reload")) == 2
    dialog.close()


def test_ring_me_at_offers_own_phones_and_another_number(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    combo = window.findChild(QComboBox, "callbackCombo")
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Work +1 425-555-0123",
        "Mobile +1 425-555-0124",
        "Another number…",
    ]
    combo.activated.emit(1)
    assert shell.dialer.called("setCallbackIndex") == [(1,)]
    combo.activated.emit(2)
    custom = window.ringRow.customCallback
    assert custom.isVisibleTo(window)
    qtbot.keyClicks(custom, "4255550199")
    qtbot.keyClick(custom, Qt.Key.Key_Return)  # stays in the field: it does not dial
    assert shell.dialer.called("dial") == []
    assert window.ringRow.callbackHint.isVisibleTo(window)
    custom.clear()
    qtbot.keyClicks(custom, "+14255550199")
    qtbot.keyClick(custom, Qt.Key.Key_Return)
    assert shell.dialer.callbackNumber == "+14255550199"
    assert combo.currentText() == "Other +14255550199"
    assert not custom.isVisibleTo(window)
    assert not window.ringRow.callbackHint.isVisibleTo(window)


def test_recent_numbers_drop_down(window: MainWindow, shell: FakeAppViewModel) -> None:
    assert not window.dialer.recentButton.isEnabled()
    shell.dialer.set(recentNumbers=["+1 425-555-0100", "+1 425-555-0105"])
    assert window.dialer.recentButton.isEnabled()
    actions = window.dialer.recentMenu.actions()
    assert [a.text() for a in actions] == ["+1 425-555-0100", "+1 425-555-0105"]
    actions[1].trigger()
    assert shell.dialer.called("chooseRecent") == [(1,)]


def test_tab_order_is_sensible(window: MainWindow) -> None:
    order = []
    widget: QWidget = window.dialer.number
    for _ in range(20):
        order.append(widget.objectName())
        widget = widget.nextInFocusChain()
        while not (widget.isVisibleTo(window) and widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            widget = widget.nextInFocusChain()
        if widget is window.dialer.number:
            break
    expected_start = ["number", "backspaceButton", "recentButton", "key1", "key2", "key3"]
    assert order[: len(expected_start)] == expected_start
    assert order.index("keyHash") < order.index("callButton") < order.index("callbackCombo")


def test_every_control_has_an_accessible_name(window: MainWindow, shell: FakeAppViewModel) -> None:
    shell.set(demo=True, errorText="x", errorDetails="y")
    missing = [
        w.objectName() or type(w).__name__
        for w in window.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QLineEdit | QComboBox)
        and w.isVisibleTo(window)
        and not w.accessibleName()
    ]
    assert missing == []
    described = [
        w.objectName()
        for w in window.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QLineEdit | QComboBox)
        and w.isVisibleTo(window)
        and not w.accessibleDescription()
    ]
    assert described == []


def test_a_tel_link_fills_the_dialer_but_does_not_call(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    window.show_sign_in()
    window.open_link("tel:+1-425-555-0100")
    assert window.pages.currentWidget() is window.phonePage
    assert shell.dialer.number == "+14255550100"
    assert shell.dialer.called("dial") == []
