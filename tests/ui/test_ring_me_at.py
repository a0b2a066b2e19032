"""The "Another number" field of "Ring me at": Return, Esc and leaving it keep a choice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.ui.dialer_view import _OTHER
from tests.ui.real_shell import Real


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
