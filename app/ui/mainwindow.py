"""The main window: phone page (dialer + call), sign-in page, menus, keyboard map, close → quit."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QFrame,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui import assets, errors
from app.ui.banner import DemoBadge, ErrorBanner
from app.ui.call_view import CallControls, CallView
from app.ui.diagnostics_dialog import DiagnosticsDialog
from app.ui.dialer_view import CallbackSelector, DialerView
from app.ui.history_view import HistoryView
from app.ui.qtutil import named
from app.ui.settings_dialog import SettingsDialog
from app.ui.signin_view import SignInView
from app.viewmodel.protocols import DiagnosticsSurface, HistorySurface, ShellSurface

DIAL_CHARS = frozenset("0123456789*#+")
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


class _ReturnStaysHere(QObject):
    """Lets a line edit keep Return (its returnPressed) instead of the window's Call shortcut."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            event.accept()
        return False


class MainWindow(QMainWindow):
    """Binds an AppViewModel (the shell) to widgets.

    Closing the window only asks the shell to quit (shell.requestQuit()); the main coroutine decides
    and, during a call, asks through shell.confirmHangUpRequested, answered with shell.answerHangUp.
    """

    def __init__(
        self,
        shell: ShellSurface,
        history: HistorySurface | None = None,
        parent: QWidget | None = None,
        *,
        diagnostics: DiagnosticsSurface | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self._shell = shell
        self._diagnostics = diagnostics
        self.diagnosticsDialog: DiagnosticsDialog | None = None
        self._history = history  # None: no call history (views tested without one)
        self._history_view: HistoryView | None = None
        if history is not None:
            history.errorOccurred.connect(shell.showError)
        self._restyling = False
        self._settings: SettingsDialog | None = None
        self._confirm: QMessageBox | None = None
        # What the close button does instead of quitting (the tray hides the window in it).
        self.on_close: Callable[[], None] | None = None
        self.setWindowIcon(assets.app_icon())

        # Phone page.
        self.demoBadge = DemoBadge(shell)
        self.errorBanner = ErrorBanner(shell)
        self.callView = CallView(shell)
        self.dialer = DialerView(shell.dialer)
        self.controls = CallControls(shell)
        self.ringRow = CallbackSelector(shell.dialer)
        self.phonePage = named(QWidget(), "phonePage")
        phone = QVBoxLayout(self.phonePage)
        phone.setContentsMargins(20, 16, 20, 20)
        phone.setSpacing(14)
        phone.addWidget(self.demoBadge)
        phone.addWidget(self.errorBanner)
        phone.addWidget(self.callView)
        phone.addWidget(self.dialer)
        phone.addWidget(self.controls)
        line = named(QFrame(self.phonePage), "separator")
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        phone.addWidget(line)
        phone.addWidget(self.ringRow)
        phone.addStretch(1)

        # Sign-in page, scrollable so a small window or 200% text never clips it.
        self.signInView = SignInView(shell.signin)
        signin_holder = named(QWidget(), "signInPage")
        holder_layout = QVBoxLayout(signin_holder)
        holder_layout.setContentsMargins(20, 16, 20, 20)
        holder_layout.addWidget(self.signInView)
        self.signInPage = named(QScrollArea(), "signInScroll")
        self.signInPage.setWidgetResizable(True)
        self.signInPage.setFrameShape(QFrame.Shape.NoFrame)
        self.signInPage.setWidget(signin_holder)

        self.pages = named(QStackedWidget(), "pages")
        self.pages.addWidget(self.phonePage)
        self.pages.addWidget(self.signInPage)
        self.setCentralWidget(self.pages)

        self._build_actions()
        self._link_tab_order()
        self._watch_keys()

        shell.titleChanged.connect(self._on_title)
        shell.connectionStateChanged.connect(self._on_connection)
        shell.setupRequested.connect(self.show_sign_in)
        shell.confirmHangUpRequested.connect(self.ask_hang_up)
        shell.quitRequested.connect(self._close_question)
        self.signInView.backRequested.connect(self.show_phone)
        shell.signin.signedIn.connect(self.show_phone)
        self.pages.currentChanged.connect(self._sync_actions)
        for signal in (
            shell.call.canHoldChanged, shell.call.canResumeChanged, shell.call.canHangUpChanged,
            shell.call.canCancelChanged, shell.dialer.canDialChanged,
            shell.dialer.canRedialChanged,
        ):  # fmt: skip
            signal.connect(self._sync_actions)

        self._on_title()
        self._restyle()
        self._sync_actions()

    # ---- construction helpers -------------------------------------------------------------

    def _action(
        self, text: str, keys: list[str], slot: Callable[[], None], description: str
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(description)
        action.setStatusTip(description)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        shell = self._shell
        # Enter calls from anywhere on the phone page; scoped to it so Return on the sign-in page
        # signs in instead.
        self.callAction = QAction(self.tr("&Call"), self.phonePage)
        self.callAction.setShortcuts(
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)]
        )
        self.callAction.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.callAction.triggered.connect(shell.dialer.dial)
        self.phonePage.addAction(self.callAction)
        self.holdAction = self._action(
            self.tr("&Hold / Resume"), ["Ctrl+H"], shell.call.toggleHold,
            self.tr("Put the call on hold, or take it off hold"),
        )  # fmt: skip
        self.hangUpAction = self._action(
            self.tr("Hang &up / Cancel"), ["Esc"], shell.call.hangUp,
            self.tr("End the call, or stop it while it is connecting"),
        )  # fmt: skip
        self.redialAction = self._action(
            self.tr("&Redial"),
            ["Ctrl+R"],
            shell.dialer.redial,
            self.tr("Call the last number again"),
        )
        self.quitAction = self._action(
            self.tr("&Quit"), ["Ctrl+Q"], shell.requestQuit, self.tr("Quit UCWA Phone")
        )
        self.setupAction = QAction(self.tr("Set up your &account…"), self)
        self.setupAction.triggered.connect(shell.setupRequested)
        self.settingsAction = self._action(
            self.tr("&Settings…"), ["Ctrl+,"], self.show_settings, self.tr("Open the settings")
        )

        menu = self.menuBar().addMenu(self.tr("&Call"))
        menu.addAction(self.callAction)
        menu.addAction(self.holdAction)
        menu.addAction(self.hangUpAction)
        menu.addAction(self.redialAction)
        if self._history is not None:
            self.historyAction = self._action(
                self.tr("Call &history…"), ["Ctrl+Y"], self.show_history,
                self.tr("Show the calls made so far"),
            )  # fmt: skip
            menu.addAction(self.historyAction)
        menu.addSeparator()
        menu.addAction(self.quitAction)
        account = self.menuBar().addMenu(self.tr("&Account"))
        account.addAction(self.setupAction)
        account.addAction(self.settingsAction)
        if self._diagnostics is not None:
            self.testAction = QAction(self.tr("&Test connection…"), self)
            self.testAction.setStatusTip(self.tr("Check each step of signing in, with advice"))
            self.testAction.triggered.connect(self.test_connection)
            account.addAction(self.testAction)

    def _link_tab_order(self) -> None:
        chain: list[QWidget] = [
            *self.dialer.focus_chain(),
            *self.controls.buttons(),
            *self.ringRow.focus_chain(),
            self.demoBadge.setupButton,
            self.errorBanner.detailsButton,
            self.errorBanner.dismissButton,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self.ringRow.customCallback.installEventFilter(_ReturnStaysHere(self))

    def _watch_keys(self) -> None:
        # Digits and paste go to the number field from any control that would not use them itself
        # (buttons, combo boxes); text fields keep their own typing.
        for widget in self.phonePage.findChildren(QWidget):
            if widget.window() is self and not isinstance(widget, _TEXT_INPUTS):
                widget.installEventFilter(self)

    def sizeHint(self) -> QSize:
        # Narrow like a phone, tall enough for everything; the layout enforces the real minimum.
        hint = super().sizeHint()
        return QSize(max(hint.width(), 420), hint.height())

    # ---- keyboard ---------------------------------------------------------------------------

    def route_key(self, event: QKeyEvent) -> bool:
        """Send a dial character or a paste to the number field; True if the key was used."""
        if self.pages.currentWidget() is not self.phonePage:
            return False
        number = self.dialer.number
        if event.matches(QKeySequence.StandardKey.Paste):
            number.setFocus(Qt.FocusReason.ShortcutFocusReason)
            number.paste()
            return True
        modifiers = event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        )
        text = event.text()
        if modifiers == Qt.KeyboardModifier.NoModifier and len(text) == 1 and text in DIAL_CHARS:
            number.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self._shell.dialer.appendDigit(text)
            return True
        if modifiers == Qt.KeyboardModifier.NoModifier and event.key() == Qt.Key.Key_Backspace:
            number.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self._shell.dialer.backspace()
            return True
        return False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and self.route_key(event)
        ):
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.route_key(event):
            super().keyPressEvent(event)

    @Slot()
    def _sync_actions(self) -> None:
        shell = self._shell
        phone = self.pages.currentWidget() is self.phonePage
        call = shell.call
        self.callAction.setEnabled(phone and bool(shell.dialer.canDial))
        self.holdAction.setEnabled(phone and bool(call.canHold or call.canResume))
        self.hangUpAction.setEnabled(phone and bool(call.canHangUp or call.canCancel))
        self.redialAction.setEnabled(phone and bool(shell.dialer.canRedial))
        self.hangUpAction.setText(
            self.tr("Cancel") if call.canCancel and not call.canHangUp else self.tr("Hang &up")
        )
        self.holdAction.setText(self.tr("&Resume") if call.canResume else self.tr("&Hold"))

    # ---- pages, dialogs ---------------------------------------------------------------------

    @Slot()
    def show_sign_in(self) -> None:
        self.pages.setCurrentWidget(self.signInPage)
        self.signInView.address.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def show_phone(self) -> None:
        self.pages.setCurrentWidget(self.phonePage)
        self.dialer.number.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(str)
    def open_link(self, text: str) -> None:
        """A tel:/callto: link (command line, macOS QFileOpenEvent): put it in the dialer, but let
        the user press Enter, because a link in a web page must not place a call by itself."""
        self.show_phone()
        self._shell.dialer.setNumber(text)
        if not self.isVisible():
            self.show()

    @Slot(str)
    def present(self, link: str = "") -> None:
        """Another launch asked for the window (with its tel: link, or "" for none): bring the
        window to the front, and fill the dialer as open_link does."""
        if link:
            self.open_link(link)
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot()
    def show_settings(self) -> None:
        if self._settings is None:
            self._settings = SettingsDialog(self._shell, self, history=self._history)
        # show(), not open() (window-modal) nor exec() (a nested loop that re-enters asyncio).
        if self._settings.isVisible():  # already open somewhere behind: bring it forward
            self._settings.raise_()
            self._settings.activateWindow()
        self._settings.show()

    @Slot()
    def test_connection(self) -> None:
        """Open the "Test connection" dialog and start a check."""
        if self._diagnostics is None:
            return
        if self.diagnosticsDialog is None:
            self.diagnosticsDialog = DiagnosticsDialog(self._diagnostics, self)
        if self.diagnosticsDialog.isVisible():  # already open somewhere behind: bring it forward
            self.diagnosticsDialog.raise_()
            self.diagnosticsDialog.activateWindow()
        self.diagnosticsDialog.show()
        self._diagnostics.run()

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        return self._settings

    @Slot()
    def show_history(self) -> None:
        if self._history is None:
            return
        if self._history_view is None:
            self._history_view = HistoryView(self._history, self)
        if self._history_view.isVisible():
            self._history_view.raise_()
            self._history_view.activateWindow()
        self._history_view.show()

    @property
    def history_view(self) -> HistoryView | None:
        return self._history_view

    @Slot()
    def ask_hang_up(self) -> None:
        """Ask whether to hang up before quitting; the answer goes to shell.answerHangUp(bool)."""
        if self._confirm is not None:
            self._confirm.raise_()
            return
        box = QMessageBox(self)
        box.setObjectName("confirmHangUp")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Quit UCWA Phone"))
        box.setText(self.tr("A call is in progress. Hang up and quit?"))
        # Signing out deletes the UCWA application, and the server ends its calls with it
        # (docs/protocol.md §4.2), so "quit but keep talking" is not an option we can offer.
        box.setInformativeText(
            self.tr("Quitting signs you out, and Skype for Business ends the call with it.")
        )
        hang_up = box.addButton(self.tr("Hang up and quit"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Keep the call"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(hang_up)

        def done(_result: int) -> None:
            self._confirm = None
            self._shell.answerHangUp(box.clickedButton() is hang_up)
            box.deleteLater()

        box.finished.connect(done)
        self._confirm = box
        box.open()  # never exec(): a nested loop would re-enter the asyncio tasks

    @Slot()
    def _close_question(self) -> None:
        """The quit goes ahead without an answer (the call ended meanwhile): drop the question."""
        box, self._confirm = self._confirm, None
        if box is not None:
            box.close()  # its finished answer reaches a shell that no longer asks

    @property
    def confirm_box(self) -> QMessageBox | None:
        return self._confirm

    def install_excepthook(self) -> Callable[[], None]:
        """Route uncaught exceptions to the error banner (the composition root calls this)."""
        return errors.install_excepthook(self._shell)

    # ---- shell bindings, look -------------------------------------------------------------

    @Slot()
    def _on_title(self) -> None:
        self.setWindowTitle(self._shell.title or "UCWA Phone")

    @Slot()
    def _on_connection(self) -> None:
        # A failed sign-in against a real server needs the user: show the form with the reason.
        if self._shell.connectionState == "failed" and not self._shell.demo:
            self.show_sign_in()

    def _restyle(self) -> None:
        self._restyling = True
        try:
            self.setStyleSheet(assets.stylesheet(self.palette()))
            self.dialer.retint()
            self.controls.retint()
            self.errorBanner.retint()
        finally:
            self._restyling = False

    def changeEvent(self, event: QEvent) -> None:
        if (
            event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
            and not self._restyling
        ):
            self._restyle()  # the system switched light/dark: accents and glyphs follow
        super().changeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.pages.currentWidget() is self.phonePage and not self.focusWidget():
            self.dialer.number.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()  # the main coroutine decides when the window really goes
        (self.on_close or self._shell.requestQuit)()
