"""The call history window and the history part of Settings, on a fake HistoryViewModel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from app.ui.history_view import HistoryView
from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel, FakeHistoryViewModel, history_row


@pytest.fixture
def history() -> FakeHistoryViewModel:
    vm = FakeHistoryViewModel()
    vm.set(
        rows=[
            history_row(7, "+1 425-555-0101", outcome="Busy"),
            history_row(3, "(425) 555-0100", who="Bob", duration="1:05", outcome="Connected"),
        ]
    )
    return vm


@pytest.fixture
def view(qtbot: QtBot, history: FakeHistoryViewModel) -> Iterator[HistoryView]:
    widget = HistoryView(history)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):
        widget.show()
    yield widget
    widget.close()


def cells(view: HistoryView, row: int) -> list[str]:
    return [view.table.item(row, c).text() for c in range(view.table.columnCount())]


def test_the_calls_are_listed_newest_first_with_every_column(view: HistoryView) -> None:
    assert view.table.rowCount() == 2
    assert cells(view, 0) == ["+1 425-555-0101", "", "2026-01-02 03:04", "", "Busy"]
    assert cells(view, 1) == ["(425) 555-0100", "Bob", "2026-01-02 03:04", "1:05", "Connected"]
    assert view.table.item(0, 4).toolTip() == "The line was busy."
    assert not view.emptyLabel.isVisible()


def test_typing_in_the_search_field_filters(
    qtbot: QtBot, view: HistoryView, history: FakeHistoryViewModel
) -> None:
    qtbot.keyClicks(view.searchField, "bob")
    assert history.called("setSearch") == []  # not a query per keystroke
    qtbot.waitUntil(lambda: history.called("setSearch") == [("bob",)], timeout=2000)
    history.set(rows=[])
    assert view.table.rowCount() == 0 and view.emptyLabel.isVisible()
    assert not view.clearButton.isEnabled() and not view.callButton.isEnabled()


def test_enter_in_the_search_field_searches_at_once(
    qtbot: QtBot, view: HistoryView, history: FakeHistoryViewModel
) -> None:
    qtbot.keyClicks(view.searchField, "425")
    qtbot.keyClick(view.searchField, Qt.Key.Key_Return)
    assert history.called("setSearch") == [("425",)]
    qtbot.wait(300)
    assert history.called("setSearch") == [("425",)]  # and not again when the pause ends


def test_enter_on_a_row_redials_it_and_closes_the_window(
    qtbot: QtBot, view: HistoryView, history: FakeHistoryViewModel
) -> None:
    view.table.setFocus()
    view.table.selectRow(1)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert history.called("redial") == [(3,)]
    assert not view.isVisible()


def test_a_double_click_redials(
    qtbot: QtBot, view: HistoryView, history: FakeHistoryViewModel
) -> None:
    rect = view.table.visualItemRect(view.table.item(0, 0))
    # A real double-click: press, release, then the double-click event (QTest's alone is not one).
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert history.called("redial") == [(7,)]


def test_a_refused_redial_keeps_the_window_open_and_says_why(
    view: HistoryView, history: FakeHistoryViewModel
) -> None:
    refusal = "Hang up first: a call is in progress."
    history.redial = lambda _id: history.set(message=refusal)  # type: ignore[method-assign]
    view.table.selectRow(0)
    view.redial_selected()
    assert view.isVisible()
    assert view.message.text() == refusal


def test_copy_number_puts_the_number_as_sent_on_the_clipboard(view: HistoryView) -> None:
    view.table.selectRow(1)
    view.copyButton.click()
    assert QGuiApplication.clipboard().text() == "(425)5550100"


def test_delete_removes_the_selected_entry(
    view: HistoryView, history: FakeHistoryViewModel
) -> None:
    view.table.selectRow(1)
    view.deleteButton.click()
    assert history.called("deleteEntry") == [(3,)]


@pytest.mark.parametrize(("answer", "cleared"), [("Clear all", True), ("Cancel", False)])
def test_clear_all_asks_first(
    view: HistoryView, history: FakeHistoryViewModel, answer: str, cleared: bool
) -> None:
    view.clearButton.click()
    box = view.confirm_box
    assert box is not None and "cannot be undone" in box.text()
    [button] = [b for b in box.buttons() if b.text() == answer]
    button.click()
    assert bool(history.called("clearAll")) is cleared
    assert view.confirm_box is None


def test_export_asks_for_a_file_and_hands_it_to_the_view_model(
    qtbot: QtBot, view: HistoryView, history: FakeHistoryViewModel
) -> None:
    view.exportButton.click()
    dialog = view.findChild(QFileDialog, "exportHistory")
    assert dialog is not None and dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    dialog.fileSelected.emit("/somewhere/calls.csv")
    assert history.called("exportCsv") == [("/somewhere/calls.csv",)]
    dialog.reject()


def test_demo_calls_are_labelled(view: HistoryView, history: FakeHistoryViewModel) -> None:
    assert not view.demoLabel.isVisible()
    history.set(demo=True)
    assert view.demoLabel.isVisible()


def test_ctrl_y_opens_the_history_from_the_main_window(
    qtbot: QtBot, history: FakeHistoryViewModel
) -> None:
    window = MainWindow(FakeAppViewModel(), history)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.history_view is not None and window.history_view.isVisible()
    window.history_view.close()


def test_history_errors_reach_the_banner(qtbot: QtBot, history: FakeHistoryViewModel) -> None:
    shell = FakeAppViewModel()
    window = MainWindow(shell, history)
    qtbot.addWidget(window)
    history.errorOccurred.emit("Could not export the call history: disk full", "")
    assert shell.called("showError")[-1][0] == "Could not export the call history: disk full"


def test_settings_turn_history_off_and_delete_it_after_asking(
    qtbot: QtBot, history: FakeHistoryViewModel
) -> None:
    window = MainWindow(FakeAppViewModel(), history)
    qtbot.addWidget(window)
    window.show_settings()
    dialog = window.settings_dialog
    assert dialog is not None and dialog.historyCheck.isChecked()
    dialog.historyCheck.click()
    assert history.called("setEnabled") == [(False,)]
    dialog.deleteHistoryButton.click()
    box = dialog.confirm_box
    assert isinstance(box, QMessageBox)
    [delete] = [b for b in box.buttons() if b.text() == "Delete"]
    delete.click()
    assert history.called("deleteHistory") == [()]
    dialog.close()


@pytest.mark.qt_log_ignore(  # offscreen cannot raise a popup or grab the keyboard for it
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)
def test_right_click_menus_do_not_pile_up(qtbot: QtBot, view: HistoryView) -> None:
    pos = view.table.visualRect(view.table.model().index(0, 0)).center()
    for _ in range(3):
        view.table.customContextMenuRequested.emit(pos)
        menu = view.findChild(QMenu)
        assert menu is not None
        qtbot.waitExposed(menu)
        menu.hide()  # as when one of its actions is taken
        qtbot.waitUntil(lambda: view.findChildren(QMenu) == [], timeout=2000)
