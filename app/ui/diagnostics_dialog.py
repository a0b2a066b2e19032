"""The non-modal "Test connection" dialog: each step as it completes, and "Copy diagnostics"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.qtutil import named
from app.viewmodel.protocols import DiagnosticsSurface


def _text(rows: list[Any]) -> str:
    return "\n".join(str(row.get("line", "")) for row in rows if isinstance(row, dict))


class DiagnosticsDialog(QDialog):
    """Shown with show(), never exec(): a nested event loop would re-enter asyncio tasks."""

    def __init__(self, diagnostics: DiagnosticsSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosticsDialog")
        self._vm = diagnostics
        self.setWindowTitle(self.tr("Test connection — UCWA Phone"))
        self.setModal(False)
        self.setMinimumWidth(520)

        self.summary = named(QLabel(self), "diagnosticsSummary")
        self.summary.setWordWrap(True)
        self.steps = named(QPlainTextEdit(self), "diagnosticsSteps")
        self.steps.setReadOnly(True)
        self.steps.setAccessibleName(self.tr("Steps of the connection test"))
        self.steps.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.runButton = named(QPushButton(self.tr("&Test again"), self), "diagnosticsRun")
        self.copyButton = named(QPushButton(self.tr("&Copy diagnostics"), self), "diagnosticsCopy")
        self.copyButton.setAccessibleDescription(
            self.tr("Copy versions, platform, settings and the steps, without secrets")
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.runButton, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copyButton, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.steps, 1)
        layout.addWidget(buttons)

        self.runButton.clicked.connect(diagnostics.run)
        self.copyButton.clicked.connect(self.copy)
        diagnostics.reportReady.connect(self._on_report)
        diagnostics.summaryChanged.connect(self._sync)
        diagnostics.stepsChanged.connect(self._sync)
        diagnostics.runningChanged.connect(self._sync)
        self._sync()

    @Slot()
    def _sync(self) -> None:
        self.summary.setText(self._vm.summary)
        self.steps.setPlainText(_text(self._vm.steps))
        self.runButton.setEnabled(not self._vm.running)

    @Slot()
    def copy(self) -> None:
        self.summary.setText(self.tr("Gathering diagnostics…"))
        self._vm.copyReport(QGuiApplication.platformName())

    @Slot(str)
    def _on_report(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.summary.setText(self.tr("Diagnostics copied to the clipboard."))

    def done(self, result: int) -> None:
        # Every way out ends here: Close, the title bar's button (closeEvent → reject) and Esc
        # (reject, which never calls closeEvent). A running check stops, still cleaning up on
        # the server.
        self._vm.cancel()
        super().done(result)
