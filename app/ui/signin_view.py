"""The sign-in page: address, server, user, method, password, remember, device-code instructions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.qtutil import named
from app.viewmodel.protocols import SignInSurface

# The sign-in methods app.auth knows, as the sign-in page and the Settings dialog name them.
METHOD_LABELS = (("webticket", "Password (web ticket)"), ("aad", "Microsoft Entra ID (browser)"))


class SignInView(QWidget):
    """Binds to a SignInViewModel.

    The password goes straight to vm.setPassword and is never kept in a property; the field is
    cleared once sign-in succeeds.

    Signals:
        backRequested(): the user chose to return to the dialer without signing in.
    """

    backRequested = Signal()

    def __init__(self, vm: SignInSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInView")
        self._vm = vm

        title = named(QLabel(self.tr("Set up your account"), self), "signInTitle")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        intro = named(
            QLabel(
                self.tr(
                    "Sign in to your Skype for Business server. Calls then ring your own desk or "
                    "mobile phone first and connect it to the number you dial."
                ),
                self,
            ),
            "signInIntro",
        )
        intro.setWordWrap(True)

        self.address = self._line("signInAddress", self.tr("Sign-in address"),
                                  self.tr("Your SIP address, e.g. alice@contoso.com"))  # fmt: skip
        self.address.setPlaceholderText("alice@contoso.com")
        self.server = self._line(
            "signInServer",
            self.tr("Server"),
            self.tr("Autodiscover URL; leave empty to find it from the address"),
        )
        self.server.setPlaceholderText(self.tr("Found automatically"))
        self.user = self._line("signInUser", self.tr("User name"),
                               self.tr("Leave empty to use the sign-in address"))  # fmt: skip
        self.method = named(QComboBox(self), "signInMethod")
        self.method.setAccessibleName(self.tr("Sign-in method"))
        self.method.setAccessibleDescription(self.tr("How to prove who you are to the server"))
        for value, text in METHOD_LABELS:
            self.method.addItem(self.tr(text), value)
        self.password = self._line(
            "signInPassword",
            self.tr("Password"),
            self.tr("Sent only to your server; never stored in the window"),
        )
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = named(
            QCheckBox(self.tr("&Remember me on this computer"), self), "signInRemember"
        )
        self.remember.setAccessibleName(self.tr("Remember me on this computer"))
        self.remember.setAccessibleDescription(self.tr("Keep the sign-in in the system keyring"))

        # A grid, not a QFormLayout: its labels sit at the top of each row, not level with the text.
        form = QGridLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.setColumnStretch(1, 1)
        self.passwordLabel = QLabel(self.tr("&Password"), self)
        rows: list[tuple[QLabel | None, QWidget]] = [
            (QLabel(self.tr("Sign-in &address"), self), self.address),
            (QLabel(self.tr("&Server"), self), self.server),
            (QLabel(self.tr("&User name"), self), self.user),
            (QLabel(self.tr("&Method"), self), self.method),
            (self.passwordLabel, self.password),
            (None, self.remember),
        ]
        for row, (label, field) in enumerate(rows):
            if label is not None:
                label.setBuddy(field)
                form.addWidget(label, row, 0, Qt.AlignmentFlag.AlignVCenter)
            form.addWidget(field, row, 1)

        self.busy = named(QProgressBar(self), "signInBusy")
        self.busy.setRange(0, 0)  # indeterminate; hidden (and so not animating) unless busy
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Signing in"))
        self.busy.setMaximumHeight(6)
        self.message = named(QLabel(self), "signInMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.deviceCode = named(QLabel(self), "deviceCode")
        self.deviceCode.setWordWrap(True)
        self.deviceCode.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.deviceCode.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.deviceCode.setAccessibleName(self.tr("Device code instructions"))
        self.copyCodeButton = named(QPushButton(self.tr("&Copy"), self), "copyDeviceCode")
        self.copyCodeButton.setAccessibleName(self.tr("Copy device code instructions"))
        self.copyCodeButton.setAccessibleDescription(self.tr("Copies the text to the clipboard"))
        code_row = QHBoxLayout()
        code_row.addWidget(self.deviceCode, 1)
        code_row.addWidget(self.copyCodeButton, 0, Qt.AlignmentFlag.AlignTop)
        self.codeRow = QWidget(self)
        self.codeRow.setLayout(code_row)
        code_row.setContentsMargins(0, 0, 0, 0)

        self.signInButton = named(QPushButton(self.tr("Sign &in"), self), "signInButton")
        self.signInButton.setAccessibleName(self.tr("Sign in"))
        self.signInButton.setAccessibleDescription(self.tr("Sign in with these details"))
        self.signInButton.setDefault(True)
        self.backButton = named(QPushButton(self.tr("Back to the dialer"), self), "signInBack")
        self.backButton.setAccessibleName(self.tr("Back to the dialer"))
        self.backButton.setAccessibleDescription(self.tr("Leave the account as it is"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.backButton)
        buttons.addStretch(1)
        buttons.addWidget(self.signInButton)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addWidget(self.codeRow)
        layout.addStretch(1)
        layout.addLayout(buttons)

        # View -> VM (user edits only, so VM updates never echo back).
        self.address.textEdited.connect(vm.setAddress)
        self.server.textEdited.connect(vm.setServer)
        self.user.textEdited.connect(vm.setUser)
        self.method.activated.connect(lambda i: vm.setMethod(self.method.itemData(i)))
        self.remember.clicked.connect(lambda checked: vm.setRemember(bool(checked)))
        self.password.textEdited.connect(vm.setPassword)
        # Enter in any field signs in (setDefault() only works inside a QDialog).
        for edit in (self.address, self.server, self.user, self.password):
            edit.returnPressed.connect(self._on_sign_in)
        self.signInButton.clicked.connect(self._on_sign_in)
        self.backButton.clicked.connect(self.backRequested)
        self.copyCodeButton.clicked.connect(self._on_copy)
        # VM -> view.
        for signal in (
            vm.addressChanged, vm.serverChanged, vm.userChanged, vm.methodChanged,
            vm.rememberChanged, vm.busyChanged, vm.messageChanged, vm.deviceCodeTextChanged,
        ):  # fmt: skip
            signal.connect(self.refresh)
        vm.signedIn.connect(self.password.clear)
        self.refresh()

    def _line(self, name: str, accessible: str, description: str) -> QLineEdit:
        edit = named(QLineEdit(self), name)
        edit.setAccessibleName(accessible)
        edit.setAccessibleDescription(description)
        return edit

    @staticmethod
    def _sync(edit: QLineEdit, text: str) -> None:
        if edit.text() != text:
            edit.setText(text)

    @Slot()
    def refresh(self) -> None:
        vm = self._vm
        self._sync(self.address, vm.address)
        self._sync(self.server, vm.server)
        self._sync(self.user, vm.user)
        index = self.method.findData(vm.method)
        if index >= 0 and index != self.method.currentIndex():
            self.method.setCurrentIndex(index)
        # A browser / device-code sign-in has no password to type.
        password = vm.method != "aad"
        self.password.setVisible(password)
        self.passwordLabel.setVisible(password)
        if self.remember.isChecked() != bool(vm.remember):
            self.remember.setChecked(bool(vm.remember))
        busy = bool(vm.busy)
        self.busy.setVisible(busy)
        self.signInButton.setEnabled(not busy)
        for widget in (self.address, self.server, self.user, self.method, self.password):
            widget.setEnabled(not busy)
        self.message.setText(vm.message)
        self.message.setVisible(bool(vm.message))
        self.deviceCode.setText(vm.deviceCodeText)
        self.codeRow.setVisible(bool(vm.deviceCodeText))

    @Slot()
    def _on_sign_in(self) -> None:
        if self.signInButton.isEnabled():
            self._vm.signIn()

    @Slot()
    def _on_copy(self) -> None:
        QGuiApplication.clipboard().setText(self.deviceCode.text())
