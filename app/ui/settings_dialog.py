"""The non-modal Settings dialog: calling, account, connection and desktop settings.

Each field goes to the SettingsViewModel when it is done (Enter, leaving it, a choice); a refused
value is explained right under its field.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import SignalInstance, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialer_view import CallbackSelector
from app.ui.qtutil import confirm_destructive, named
from app.ui.signin_view import METHOD_LABELS
from app.viewmodel.protocols import HistorySurface, SettingsSurface, ShellSurface


def _problem_label(parent: QWidget, name: str) -> QLabel:
    label = named(QLabel(parent), name)
    label.setWordWrap(True)
    label.setProperty("role", "fieldError")
    label.hide()
    return label


def _show(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


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
        vm = shell.settings
        self._vm = vm
        region_form = QFormLayout()
        self.region = named(QComboBox(calling), "settingsRegion")
        self.region.setAccessibleName(self.tr("Default region"))
        self.region.setAccessibleDescription(
            self.tr("The country numbers typed without + and a country code belong to")
        )
        region_form.addRow(self.tr("Default &region"), self.region)
        calling_layout.addLayout(region_form)
        self.regionError = _problem_label(calling, "settingsRegionError")
        calling_layout.addWidget(self.regionError)

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
        account_form = QFormLayout()
        self.address = named(QLineEdit(account), "settingsAddress")
        self.address.setAccessibleName(self.tr("Sign-in address"))
        self.address.setPlaceholderText(self.tr("alice@contoso.com"))
        account_form.addRow(self.tr("Sign-in &address"), self.address)
        account_layout.addLayout(account_form)
        self.addressError = _problem_label(account, "settingsAddressError")
        account_layout.addWidget(self.addressError)
        method_form = QFormLayout()
        self.method = named(QComboBox(account), "settingsMethod")
        self.method.setAccessibleName(self.tr("Sign-in method"))
        for value, label in METHOD_LABELS:
            self.method.addItem(self.tr(label), value)
        method_form.addRow(self.tr("Sign-in &method"), self.method)
        account_layout.addLayout(method_form)
        account_layout.addLayout(row)

        connection = QGroupBox(self.tr("Connection"), self)
        self.caBundle = named(QLineEdit(connection), "settingsCaBundle")
        self.caBundle.setAccessibleName(self.tr("CA bundle"))
        self.caBundle.setAccessibleDescription(
            self.tr("A PEM file with your organisation's certificate authorities; empty for none")
        )
        self.caBundle.setPlaceholderText(self.tr("Only the system's certificate authorities"))
        self.browseButton = named(QPushButton(self.tr("&Browse…"), connection), "settingsBrowse")
        self.browseButton.setAccessibleName(self.tr("Choose a CA bundle file"))
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(self.caBundle, 1)
        bundle_row.addWidget(self.browseButton)
        connection_form = QFormLayout()
        connection_form.addRow(self.tr("CA &bundle"), bundle_row)
        self.caBundleError = _problem_label(connection, "settingsCaBundleError")
        self.caBundleNote = named(QLabel(connection), "settingsCaBundleNote")
        self.caBundleNote.setWordWrap(True)
        self.caBundleNote.hide()
        connection_layout = QVBoxLayout(connection)
        connection_layout.addLayout(connection_form)
        connection_layout.addWidget(self.caBundleError)
        connection_layout.addWidget(self.caBundleNote)

        desktop = QGroupBox(self.tr("Desktop"), self)
        self.startMinimised = named(
            QCheckBox(self.tr("Start minimised to the &tray"), desktop), "settingsStartMinimised"
        )
        self.startMinimised.setToolTip(self.tr("Only where the desktop has a tray"))
        self.notifications = named(
            QCheckBox(
                self.tr("&Notify me when a call ends while the window is not in front"), desktop
            ),
            "settingsNotifications",
        )
        self.desktopLayout = QVBoxLayout(desktop)
        self.desktopLayout.addWidget(self.startMinimised)
        self.desktopLayout.addWidget(self.notifications)
        self._file_dialog: QFileDialog | None = None

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(calling)
        layout.addWidget(account)
        layout.addWidget(connection)
        layout.addWidget(desktop)
        if history is not None:
            layout.addWidget(self._history_group(history))
        layout.addStretch(1)
        layout.addWidget(buttons)

        # Return belongs to the fields ("Another number" takes it); no button is pressed by it,
        # or the dialog would close and hide the field's hint.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)

        self._bind_settings(vm)
        self.changeButton.clicked.connect(self._on_change)
        self.signOutButton.clicked.connect(shell.signin.signOut)
        shell.statusTextChanged.connect(self.refresh)
        shell.demoChanged.connect(self.refresh)
        shell.call.activeChanged.connect(self.refresh)
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        self._vm.reload()  # the sign-in form may have saved another account meanwhile
        super().showEvent(event)

    def _bind_settings(self, vm: SettingsSurface) -> None:
        self.region.addItems([str(choice) for choice in vm.regionChoices])
        self.region.activated.connect(vm.setRegionIndex)
        self.address.editingFinished.connect(lambda: vm.setAddress(self.address.text()))
        self.method.activated.connect(lambda i: vm.setMethod(str(self.method.itemData(i))))
        self.caBundle.editingFinished.connect(lambda: vm.setCaBundle(self.caBundle.text()))
        self.browseButton.clicked.connect(self._browse)
        self.startMinimised.toggled.connect(vm.setStartMinimised)
        self.notifications.toggled.connect(vm.setNotifications)
        mirror: list[tuple[SignalInstance, Callable[[], None]]] = [
            (vm.regionIndexChanged, lambda: self.region.setCurrentIndex(vm.regionIndex)),
            (vm.regionErrorChanged, lambda: _show(self.regionError, vm.regionError)),
            (vm.addressChanged, lambda: self.address.setText(vm.address)),
            (vm.addressErrorChanged, lambda: _show(self.addressError, vm.addressError)),
            (vm.methodChanged, self._on_method),
            (vm.caBundleChanged, lambda: self.caBundle.setText(vm.caBundle)),
            (vm.caBundleErrorChanged, lambda: _show(self.caBundleError, vm.caBundleError)),
            (vm.caBundleNoteChanged, lambda: _show(self.caBundleNote, vm.caBundleNote)),
            (vm.startMinimisedChanged, lambda: self.startMinimised.setChecked(vm.startMinimised)),
            (vm.notificationsChanged, lambda: self.notifications.setChecked(vm.notifications)),
        ]
        for signal, update in mirror:
            signal.connect(update)
            update()

    @Slot()
    def _on_method(self) -> None:
        index = self.method.findData(self._vm.method)
        if index >= 0:
            self.method.setCurrentIndex(index)

    @Slot()
    def _browse(self) -> None:
        # open(), never exec() or the static getOpenFileName: a nested loop would re-enter asyncio.
        if self._file_dialog is None:
            dialog = QFileDialog(self, self.tr("Choose a CA bundle"))
            dialog.setObjectName("settingsCaBundlePicker")
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.setNameFilters(
                [self.tr("Certificates (*.pem *.crt *.cer)"), self.tr("All files (*)")]
            )
            dialog.fileSelected.connect(self._on_file_chosen)
            self._file_dialog = dialog
        self._file_dialog.open()

    @Slot(str)
    def _on_file_chosen(self, path: str) -> None:
        self.caBundle.setText(path)
        self._vm.setCaBundle(path)

    @property
    def file_dialog(self) -> QFileDialog | None:
        return self._file_dialog

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
        self._confirm = confirm_destructive(
            self,
            name="confirmDeleteHistory",
            title=self.tr("Delete call history"),
            question=self.tr("Delete the call history (real and demo calls) from this computer?"),
            action=self.tr("Delete"),
            on_yes=history.deleteHistory,
            on_closed=self._forget_confirm,
        )

    def _forget_confirm(self) -> None:
        self._confirm = None

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
