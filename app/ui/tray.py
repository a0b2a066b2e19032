"""The tray icon, its menu and its notifications: a plain mapping of TrayViewModel onto Qt."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtGui import QAction, QClipboard, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from app.ui import assets
from app.viewmodel.protocols import TraySurface

NOTIFICATION_MS = 8000
# The state glyph's colour, as on the window's state card; the glyph carries the meaning too.
_ACCENT_OF = {
    "state-idle": "good",
    "state-connected": "good",
    "state-connecting": "progress",
    "state-reconnecting": "paused",
    "state-on-hold": "paused",
    "state-failed": "bad",
}


class Tray(QObject):
    """Binds a TrayViewModel to a QSystemTrayIcon next to ``window``.

    ``available`` says whether the desktop has a tray (tests pass their own); without one no icon
    is made and nothing is said about it: the window works as it does without a tray.
    """

    def __init__(
        self,
        vm: TraySurface,
        window: QWidget,
        *,
        available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self.vm = vm
        self._window = window
        self.icon: QSystemTrayIcon | None = None
        self.menu: QMenu | None = None
        vm.showWindowRequested.connect(self._show_window)
        vm.hideWindowRequested.connect(window.hide)
        window.installEventFilter(self)
        vm.setWindowShown(window.isVisible())
        vm.setWindowFocused(window.isActiveWindow())
        vm.setTrayAvailable(bool(available()))
        if vm.trayAvailable:
            self._make_icon()

    def _make_icon(self) -> None:
        vm = self._vm
        self.menu = QMenu(self._window)
        self.menu.setObjectName("trayMenu")
        self.callClipboardAction = self._add(vm.clipboardText, vm.callClipboard)
        self.showAction = self._add(self.tr("Show window"), vm.showWindow)
        self.hangUpAction = self._add(self.tr("Hang up"), vm.hangUp)
        self.menu.addSeparator()
        self.quitAction = self._add(self.tr("Quit"), vm.quit)
        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.menu.aboutToShow.connect(self._read_clipboard)
        clipboard = QGuiApplication.clipboard()
        clipboard.dataChanged.connect(self._read_clipboard)
        vm.iconNameChanged.connect(self._on_icon)
        vm.toolTipChanged.connect(self.icon.setToolTip)
        vm.canHangUpChanged.connect(self.hangUpAction.setEnabled)
        vm.canCallClipboardChanged.connect(self.callClipboardAction.setEnabled)
        vm.clipboardTextChanged.connect(self.callClipboardAction.setText)
        vm.notificationRequested.connect(self._notify)
        self._read_clipboard()
        self._on_icon()
        self.icon.setToolTip(vm.toolTip)
        self.hangUpAction.setEnabled(vm.canHangUp)
        self.callClipboardAction.setEnabled(vm.canCallClipboard)
        self.icon.show()

    def _add(self, text: str, slot: Callable[[], None]) -> QAction:
        assert self.menu is not None
        action = QAction(text, self.menu)
        action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    @Slot()
    def _on_icon(self) -> None:
        if self.icon is not None:
            name = self._vm.iconName
            color, _ = assets.accent(_ACCENT_OF.get(name, "neutral"), self._window.palette())
            self.icon.setIcon(assets.glyph(name, color))

    @Slot()
    def _read_clipboard(self) -> None:
        self._vm.setClipboardText(QGuiApplication.clipboard().text(QClipboard.Mode.Clipboard))

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._vm.toggleWindow()

    @Slot(str, str)
    def _notify(self, title: str, message: str) -> None:
        # showMessage never takes focus; where no notification service answers, Qt shows
        # nothing, which is what we want there.
        if self.icon is not None:
            self.icon.showMessage(title, message, self.icon.icon(), NOTIFICATION_MS)

    @Slot()
    def _show_window(self) -> None:
        window = self._window
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.activateWindow()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._window:
            kind = event.type()
            if kind in (QEvent.Type.Show, QEvent.Type.Hide):
                self._vm.setWindowShown(self._window.isVisible())
            if kind in (QEvent.Type.WindowActivate, QEvent.Type.WindowDeactivate, QEvent.Type.Hide):
                self._vm.setWindowFocused(self._window.isActiveWindow())
        return False

    def close(self) -> None:
        """Remove the icon (at quit), so no dead icon stays in the tray."""
        self._window.removeEventFilter(self)
        if self.icon is not None:
            self.icon.hide()
