"""The number field shows exactly what the dialer keeps, with the cursor where the user typed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.dialer_view import cursor_after, dial_chars
from tests.ui.real_shell import Real


def test_letters_stay_in_the_field_and_the_hint_says_why_they_cannot_be_dialled(
    qtbot: QtBot, real: Real
) -> None:
    # Letters are kept: they may be the start of a SIP address such as bob@contoso.com.
    number = real.win.dialer.number
    qtbot.keyClicks(number, "4255550100")
    assert number.text() == real.shell.dialer.number == "(425) 555-0100"
    qtbot.keyClicks(number, "abc")
    assert number.text() == real.shell.dialer.number == "(425) 555-0100abc"
    assert real.win.dialer.hint.text() == "A phone number cannot contain letters."
    assert not real.shell.dialer.numberValid


def test_a_sip_address_is_typed_as_written(qtbot: QtBot, real: Real) -> None:
    number = real.win.dialer.number
    qtbot.keyClicks(number, "bob smith@contoso.com")
    assert number.text() == "bob smith@contoso.com"
    number.setText("")
    qtbot.keyClicks(number, "bob@contoso.com")
    assert number.text() == real.shell.dialer.number == "bob@contoso.com"
    assert number.cursorPosition() == len("bob@contoso.com")
    assert real.shell.dialer.numberValid


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
