"""The non-modal Settings dialog: which phone to ring, and the account."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialer_view import CallbackSelector
from app.ui.qtutil import named
from app.viewmodel.protocols import HistorySurface, ShellSurface


class SettingsDialog(QDialog):
    """Shown with open()/show(), never exec(): a nested event loop would re-enter asyncio tasks."""

    def __init__(
        self,
        shell: ShellSurface,
        parent: QWidget | None = None,
        *,
        history: HistorySurface | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self._shell = shell
        self._history = history
        self._confirm: QMessageBox | None = None
        self.setWindowTitle(self.tr("Settings — UCWA Phone"))
        self.setModal(False)
        self.setMinimumWidth(380)

        calling = QGroupBox(self.tr("Calling"), self)
        self.callback = CallbackSelector(shell.dialer, calling)
        calling_layout = QVBoxLayout(calling)
        calling_layout.addWidget(self.callback)
        explain = QLabel(
            self.tr(
                "The server rings this phone first. When you pick up, it connects you to the "
                "number you dialled."
            ),
            calling,
        )
        explain.setWordWrap(True)
        calling_layout.addWidget(explain)

        account = QGroupBox(self.tr("Account"), self)
        self.status = named(QLabel(account), "settingsStatus")
        self.status.setWordWrap(True)
        self.changeButton = named(
            QPushButton(self.tr("&Change account…"), account), "settingsChangeAccount"
        )
        self.changeButton.setAccessibleName(self.tr("Change account"))
        self.changeButton.setAccessibleDescription(self.tr("Open the sign-in page"))
        self.signOutButton = named(QPushButton(self.tr("Sign &out"), account), "settingsSignOut")
        self.signOutButton.setAccessibleName(self.tr("Sign out"))
        self.signOutButton.setAccessibleDescription(self.tr("Sign out of the server"))
        row = QHBoxLayout()
        row.addWidget(self.changeButton)
        row.addWidget(self.signOutButton)
        row.addStretch(1)
        account_layout = QVBoxLayout(account)
        account_layout.addWidget(self.status)
        account_layout.addLayout(row)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(calling)
        layout.addWidget(account)
        if history is not None:
            layout.addWidget(self._history_group(history))
        layout.addStretch(1)
        layout.addWidget(buttons)

        # Return belongs to the fields ("Another number" takes it); no button is pressed by it,
        # or the dialog would close and hide the field's hint.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)

        self.changeButton.clicked.connect(self._on_change)
        self.signOutButton.clicked.connect(shell.signin.signOut)
        shell.statusTextChanged.connect(self.refresh)
        shell.demoChanged.connect(self.refresh)
        shell.call.activeChanged.connect(self.refresh)
        self.refresh()

    def _history_group(self, history: HistorySurface) -> QGroupBox:
        group = QGroupBox(self.tr("Call history"), self)
        self.historyCheck = named(
            QCheckBox(self.tr("&Keep a history of my calls"), group), "settingsHistory"
        )
        self.historyCheck.setChecked(history.enabled)
        self.deleteHistoryButton = named(
            QPushButton(self.tr("&Delete history…"), group), "settingsDeleteHistory"
        )
        self.deleteHistoryButton.setAccessibleDescription(
            self.tr("Delete the stored call history from this computer")
        )
        row = QHBoxLayout(group)
        row.addWidget(self.historyCheck)
        row.addStretch(1)
        row.addWidget(self.deleteHistoryButton)
        self.historyCheck.toggled.connect(history.setEnabled)
        history.enabledChanged.connect(self.historyCheck.setChecked)
        self.deleteHistoryButton.clicked.connect(self.ask_delete_history)
        return group

    @Slot()
    def ask_delete_history(self) -> None:
        history = self._history
        if history is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete call history"),
            self.tr("Delete the call history (real and demo calls) from this computer?"),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("confirmDeleteHistory")
        delete = box.addButton(self.tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def done(_result: int) -> None:
            self._confirm = None
            if box.clickedButton() is delete:
                history.deleteHistory()
            box.deleteLater()

        box.finished.connect(done)
        self._confirm = box
        box.open()  # never exec(): a nested loop would re-enter the asyncio tasks

    @property
    def confirm_box(self) -> QMessageBox | None:
        return self._confirm

    @Slot()
    def refresh(self) -> None:
        text = self._shell.statusText
        if self._shell.demo:
            text = self.tr("Demo — calls are simulated. %s") % text
        self.status.setText(text)
        # Signing out deletes the UCWA application, and the server ends a live call with it.
        in_call = bool(self._shell.call.active)
        self.signOutButton.setEnabled(not self._shell.demo and not in_call)
        self.signOutButton.setToolTip(
            self.tr("Hang up first: signing out ends the call") if in_call else ""
        )

    @Slot()
    def _on_change(self) -> None:
        self.close()
        self._shell.setupRequested.emit()
