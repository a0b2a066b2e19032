"""TrayViewModel: what the tray icon shows, what its menu offers, and when a notification is due."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.viewmodel import phone
from app.viewmodel.base import ViewModelBase
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.shell import APP_TITLE, AppViewModel

CLIPBOARD_CALL = "Call number on clipboard"
NO_CLIPBOARD_NUMBER = "Call number on clipboard — there is no number on it"

# connectionState → tray icon while no call is up (icons in resources/icons).
_CONNECTION_ICONS = {
    "signed_in": "state-idle",
    "signing_in": "state-connecting",
    "reconnecting": "state-reconnecting",
    "failed": "state-failed",
    "taken_over": "state-failed",
}


class TrayViewModel(ViewModelBase):
    """The tray's decisions; the tray view only maps them onto QSystemTrayIcon and its menu.

    The view tells it whether a tray exists (``setTrayAvailable``), whether the window is shown
    and focused (``setWindowShown``, ``setWindowFocused``) and what the clipboard holds
    (``setClipboardText``).

    Properties (each with a ``<name>Changed`` signal):
        iconName (str): the state icon: "state-idle" (signed in), "state-reconnecting",
            "state-connected" (in a call), "state-on-hold", "state-failed" (error), ...
        toolTip (str): "UCWA Phone" and the state in words.
        canHangUp (bool): the server offers hang-up or cancel for the call now.
        canCallClipboard (bool): the clipboard holds a number the dialer would call, and a
            call could be placed now.
        clipboardText (str): the menu entry's words, naming the number or saying none is there.
        trayAvailable (bool): the desktop has a tray (so the window may hide in it).
        startHidden (bool): start with the window hidden (the setting, and a tray exists).

    Signals:
        showWindowRequested(), hideWindowRequested(): the view shows / hides the main window.
        notificationRequested(str, str): title and message of a desktop notification.
    """

    iconNameChanged = Signal(str)
    toolTipChanged = Signal(str)
    canHangUpChanged = Signal(bool)
    canCallClipboardChanged = Signal(bool)
    clipboardTextChanged = Signal(str)
    trayAvailableChanged = Signal(bool)
    startHiddenChanged = Signal(bool)
    showWindowRequested = Signal()
    hideWindowRequested = Signal()
    notificationRequested = Signal(str, str)

    def __init__(self, shell: AppViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._shell = shell
        self._iconName = ""
        self._toolTip = ""
        self._canHangUp = False
        self._canCallClipboard = False
        self._clipboardText = NO_CLIPBOARD_NUMBER
        self._trayAvailable = False
        self._startHidden = False
        self._clipboard = ""
        self._window_shown = False
        self._window_focused = False
        call = shell.call
        for signal in (
            shell.connectionStateChanged, shell.statusTextChanged, shell.signedInChanged,
            call.stateChanged, call.stateTextChanged, call.peerChanged, call.activeChanged,
            call.canHangUpChanged, call.canCancelChanged, call.reconnectingChanged,
        ):  # fmt: skip
            signal.connect(self._update)
        shell.settings.startMinimisedChanged.connect(self._update)
        call.callEnded.connect(self._on_call_ended)
        self._update()

    iconName = NotifyProperty(str, iconNameChanged)
    toolTip = NotifyProperty(str, toolTipChanged)
    canHangUp = NotifyProperty(bool, canHangUpChanged)
    canCallClipboard = NotifyProperty(bool, canCallClipboardChanged)
    clipboardText = NotifyProperty(str, clipboardTextChanged)
    trayAvailable = NotifyProperty(bool, trayAvailableChanged)
    startHidden = NotifyProperty(bool, startHiddenChanged)

    # -- what the view reports ------------------------------------------------------------------
    @Slot(bool)
    def setTrayAvailable(self, available: bool) -> None:
        TrayViewModel.trayAvailable.set(self, bool(available))
        self._update()

    @Slot(bool)
    def setWindowShown(self, shown: bool) -> None:
        self._window_shown = bool(shown)

    @Slot(bool)
    def setWindowFocused(self, focused: bool) -> None:
        self._window_focused = bool(focused)

    @Slot(str)
    def setClipboardText(self, text: str) -> None:
        self._clipboard = text or ""
        self._update()

    # -- the menu and the icon ------------------------------------------------------------------
    @Slot()
    def callClipboard(self) -> None:
        """Put the clipboard into the dialer as a paste would, and call it if it can be called;
        otherwise the window shows the number with the dialer's reason."""
        if not self._canCallClipboard:
            return
        dialer = self._shell.dialer
        dialer.setNumber(self._clipboard)
        if dialer.canDial:
            dialer.dial()
        else:
            self.showWindowRequested.emit()

    @Slot()
    def showWindow(self) -> None:
        self.showWindowRequested.emit()

    @Slot()
    def toggleWindow(self) -> None:
        """A click on the icon: a window in front goes to the tray, any other comes forward."""
        if self._window_shown and self._window_focused:
            self.hideWindowRequested.emit()
        else:
            self.showWindowRequested.emit()

    @Slot()
    def hangUp(self) -> None:
        if self._canHangUp:
            self._shell.call.hangUp()

    @Slot()
    def quit(self) -> None:
        # The same path as the window's Quit; during a call its "Hang up and quit?" question
        # needs the window on screen.
        if self._shell.call.is_active:
            self.showWindowRequested.emit()
        self._shell.requestQuit()

    @Slot()
    def closeWindow(self) -> None:
        """The window's close button: with a tray the app keeps running there, else it quits."""
        if self._trayAvailable:
            self.hideWindowRequested.emit()
        else:
            self._shell.requestQuit()

    # -- decisions ------------------------------------------------------------------------------
    def _update(self) -> None:
        shell, call = self._shell, self._shell.call
        state = call.state
        if call.is_active and state == "on_hold":
            icon = "state-on-hold"
        elif call.is_active and call.reconnecting:
            icon = "state-reconnecting"
        elif call.is_active and state == "connected":
            icon = "state-connected"
        elif call.is_active:
            icon = "state-connecting"
        else:
            icon = _CONNECTION_ICONS.get(shell.connectionState, "state-signed-out")
        TrayViewModel.iconName.set(self, icon)
        words = call.stateText if call.is_active else shell.statusText
        if call.is_active and state in ("connected", "on_hold") and call.peer:
            words = f"{words} {call.peer}"  # the other states' words name the number already
        TrayViewModel.toolTip.set(self, f"{APP_TITLE}\n{words}")
        TrayViewModel.canHangUp.set(self, bool(call.canHangUp or call.canCancel))
        target = phone.check(self._clipboard, self._shell.dialer.region).target
        TrayViewModel.clipboardText.set(
            self, f"{CLIPBOARD_CALL}: {target.display}" if target else NO_CLIPBOARD_NUMBER
        )
        TrayViewModel.canCallClipboard.set(
            self, target is not None and shell.signedIn and not call.is_active
        )
        TrayViewModel.startHidden.set(
            self, self._trayAvailable and bool(shell.settings.startMinimised)
        )

    def _on_call_ended(self, state: str) -> None:
        if not self._shell.settings.notifications:
            return
        if self._window_shown and self._window_focused:
            return  # the user is looking at the window, which says it already
        call = self._shell.call
        title = "Call failed" if state == "failed" else "Call ended"
        message = call.reasonText or call.stateText
        if call.peer:
            message = f"{call.peer}: {message}"
        self.notificationRequested.emit(title, message)
