"""Account ▸ Test connection…: the dialog shows the steps as they come and copies diagnostics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.ui.diagnostics_dialog import DiagnosticsDialog
from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel, FakeDiagnosticsViewModel


@pytest.fixture
def diagnostics() -> FakeDiagnosticsViewModel:
    return FakeDiagnosticsViewModel()


@pytest.fixture
def window(
    qtbot: QtBot, shell: FakeAppViewModel, diagnostics: FakeDiagnosticsViewModel
) -> Iterator[MainWindow]:
    win = MainWindow(shell, diagnostics=diagnostics)
    qtbot.addWidget(win)
    win.show()
    yield win


def _menu_texts(window: MainWindow) -> list[str]:
    return [a.text() for m in window.menuBar().actions() for a in m.menu().actions()]


def test_the_account_menu_offers_test_connection_which_opens_the_dialog_and_runs(
    window: MainWindow, diagnostics: FakeDiagnosticsViewModel, qtbot: QtBot
) -> None:
    assert "&Test connection…" in _menu_texts(window)
    window.testAction.trigger()
    dialog = window.diagnosticsDialog
    assert isinstance(dialog, DiagnosticsDialog) and dialog.isVisible()
    assert diagnostics.called("run") == [()]
    diagnostics.set(running=True, summary="Testing the connection…")
    diagnostics.set(steps=[{"line": "✔ Find the server (discovery)  12 ms"}, {"line": "… Sign in"}])
    assert "Find the server" in dialog.steps.toPlainText()
    assert dialog.summary.text() == "Testing the connection…"
    assert not dialog.runButton.isEnabled()  # no second check while one runs
    diagnostics.set(running=False, summary="Every step passed.")
    assert dialog.runButton.isEnabled()
    dialog.runButton.click()
    assert len(diagnostics.called("run")) == 2


def test_copy_puts_the_view_models_redacted_report_on_the_clipboard(
    window: MainWindow, diagnostics: FakeDiagnosticsViewModel
) -> None:
    diagnostics.report = "UCWA Phone diagnostics\nuser: alice\n"
    window.test_connection()
    assert window.diagnosticsDialog is not None
    window.diagnosticsDialog.copyButton.click()
    assert QGuiApplication.clipboard().text() == diagnostics.report
    assert diagnostics.called("copyReport") == [(QGuiApplication.platformName(),)]


def test_closing_the_dialog_stops_a_running_check(
    window: MainWindow, diagnostics: FakeDiagnosticsViewModel
) -> None:
    window.test_connection()
    assert window.diagnosticsDialog is not None
    window.diagnosticsDialog.close()
    assert diagnostics.called("cancel") == [()]


def test_esc_closes_the_dialog_and_stops_a_running_check(
    window: MainWindow, diagnostics: FakeDiagnosticsViewModel, qtbot: QtBot
) -> None:
    window.test_connection()
    dialog = window.diagnosticsDialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    diagnostics.set(running=True)
    qtbot.keyClick(dialog.steps, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert diagnostics.called("cancel") == [()]


def test_without_diagnostics_the_window_has_no_test_action(
    qtbot: QtBot, shell: FakeAppViewModel
) -> None:
    win = MainWindow(shell)
    qtbot.addWidget(win)
    assert "&Test connection…" not in _menu_texts(win)
