"""The people found under the number field: headings and number rows, arrow keys, Enter, Esc."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel
from tests.ui.real_shell import Real

ROWS = [
    {"person": "Carol Diaz", "about": "Engineer 2 · Engineering", "kind": "Work",
     "number": "+1425554321 ext. 54321"},
    {"person": "Carol Diaz", "about": "Engineer 2 · Engineering", "kind": "Mobile",
     "number": "+1 425-555-1212"},
    {"person": "Uma Shah", "about": "Designer", "kind": "SIP", "number": "uma@contoso.com"},
]  # fmt: skip


def texts(window: MainWindow) -> list[str]:
    results = window.dialer.search.list
    return [results.item(i).text().strip() for i in range(results.count())]


def test_people_are_headings_and_each_number_a_row(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    popup = window.dialer.search
    assert not popup.isVisibleTo(window)
    shell.dialer.search.show_rows(ROWS)
    assert popup.isVisibleTo(window)
    assert texts(window) == [
        "Carol Diaz — Engineer 2 · Engineering",
        "Work   +1425554321 ext. 54321",
        "Mobile   +1 425-555-1212",
        "Uma Shah — Designer",
        "SIP   uma@contoso.com",
    ]
    assert popup.list.currentItem() is popup.number_items()[0]
    assert not popup.message.isVisibleTo(window)


def test_arrow_keys_move_and_enter_dials_the_chosen_number(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    number = window.dialer.number
    qtbot.keyClicks(number, "carol")
    shell.dialer.search.show_rows(ROWS)
    qtbot.keyClick(number, Qt.Key.Key_Down)
    qtbot.keyClick(number, Qt.Key.Key_Down)
    qtbot.keyClick(number, Qt.Key.Key_Up)
    popup = window.dialer.search
    assert popup.list.currentItem() is popup.number_items()[1]
    assert number.hasFocus()  # typing goes on in the field
    qtbot.keyClick(number, Qt.Key.Key_Return)
    assert shell.dialer.called("dial") == [("+1 425-555-1212",)]


def test_double_click_on_a_number_dials_it(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    shell.dialer.search.show_rows(ROWS)
    popup = window.dialer.search
    item = popup.number_items()[2]
    rect = popup.list.visualItemRect(item)
    # A double click is a click and then the double-click event, as Qt delivers it.
    qtbot.mouseClick(popup.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(popup.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert shell.dialer.search.currentIndex == 2
    assert ("uma@contoso.com",) in shell.dialer.called("dial")


def test_esc_closes_the_list_and_does_not_hang_up(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    shell.call.set(active=True, canHangUp=True)
    shell.dialer.search.show_rows(ROWS)
    qtbot.keyClick(window.dialer.number, Qt.Key.Key_Escape)
    assert not window.dialer.search.isVisibleTo(window)
    assert shell.call.called("hangUp") == []
    qtbot.keyClick(window.dialer.number, Qt.Key.Key_Escape)  # now Esc hangs up as always
    assert len(shell.call.called("hangUp")) == 1


def test_while_searching_the_list_says_so(window: MainWindow, shell: FakeAppViewModel) -> None:
    shell.dialer.search.set(busy=True)
    popup = window.dialer.search
    assert popup.isVisibleTo(window) and popup.message.text() == "Searching the address book…"
    shell.dialer.search.set(busy=False)
    shell.dialer.search.show_rows(ROWS)
    assert not popup.message.isVisibleTo(window) and popup.list.isVisibleTo(window)


def test_a_message_alone_is_shown_without_a_list(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    shell.dialer.search.show_rows([], "No one found for 'xyz'.")
    popup = window.dialer.search
    assert popup.message.isVisibleTo(window) and popup.message.text() == "No one found for 'xyz'."
    assert not popup.list.isVisibleTo(window)


def test_typing_a_name_finds_carol_and_enter_calls_her_mobile(qtbot: QtBot, real: Real) -> None:
    number = real.win.dialer.number
    qtbot.keyClicks(number, "carol")
    popup = real.win.dialer.search
    qtbot.waitUntil(lambda: bool(popup.number_items()), timeout=3000)
    assert "Carol Diaz — Engineer 2 · Engineering" in texts(real.win)
    qtbot.keyClick(number, Qt.Key.Key_Down)
    with qtbot.waitSignal(real.shell.dialer.dialed) as blocker:
        qtbot.keyClick(number, Qt.Key.Key_Return)
    assert blocker.args == ["+14255551212"]
    assert real.session.calls[-1][:2] == ("start_call", "+14255551212")
    assert number.text() == "+1 425-555-1212"
