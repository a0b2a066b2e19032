"""The call panel: state indicator, call timer and the Call / Hold / Resume / Hang up buttons."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.ui import assets
from app.ui.qtutil import named
from app.ui.state_indicator import Look, StateIndicator
from app.viewmodel.protocols import ShellSurface

# Call state value -> (accent kind, icon); values are app.ucwa.calls.CallState's, as the VM gives.
_CALL_LOOKS: dict[str, tuple[str, str]] = {
    "idle": ("neutral", "state-idle"),
    "calling_you": ("progress", "state-calling-you"),
    "connecting": ("progress", "state-connecting"),
    "ringing_them": ("progress", "state-connecting"),  # own phone up, the far end still rings
    "connected": ("good", "state-connected"),
    "on_hold": ("paused", "state-on-hold"),
    "ending": ("neutral", "state-ended"),
    "ended": ("neutral", "state-ended"),
    "failed": ("bad", "state-failed"),
}
# Connection state value (app.ucwa.status.ConnectionState) -> look, when it outranks the call.
_CONNECTION_LOOKS: dict[str, tuple[str, str, str]] = {
    "reconnecting": ("paused", "state-reconnecting", "Reconnecting…"),
    "signing_in": ("progress", "state-waiting", "Signing in…"),
    "signed_out": ("neutral", "state-signed-out", "Not signed in"),
    "taken_over": ("bad", "state-signed-out", "Signed in somewhere else"),
    "failed": ("bad", "state-signed-out", "Could not sign in"),
}
_TIMED_STATES = ("connected", "on_hold")


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _action_button(text: str, name: str, icon: str, description: str) -> QPushButton:
    button = named(QPushButton(text), name)
    button.setProperty("iconName", icon)
    button.setAccessibleName(text)
    button.setAccessibleDescription(description)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    button.setIconSize(QSize(20, 20))
    return button


class CallView(QWidget):
    """The state card bound to the shell's call view-model and connection state.

    The duration QTimer belongs to this view and runs only while a call is connected (or on hold,
    which is still a connected call), so an idle window costs no CPU.
    """

    def __init__(self, shell: ShellSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shell = shell
        self._call = shell.call
        self.indicator = StateIndicator(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.indicator)

        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        for signal in (
            self._call.stateChanged, self._call.stateTextChanged, self._call.reasonTextChanged,
            self._call.peerChanged, self._call.answeredByChanged, self._call.connectedAtChanged,
            self._call.activeChanged, shell.connectionStateChanged, shell.statusTextChanged,
        ):  # fmt: skip
            signal.connect(self.refresh)
        self.refresh()

    @property
    def ticker(self) -> QTimer:
        return self._ticker

    def current_look(self) -> Look:
        call, shell = self._call, self._shell
        state = call.state
        connection = shell.connectionState
        # A lost connection outranks the call: the call's last known state may be stale.
        if connection in _CONNECTION_LOOKS and (connection == "reconnecting" or not call.active):
            kind, icon, fallback = _CONNECTION_LOOKS[connection]
            headline = shell.statusText if connection == "reconnecting" else fallback
            detail = call.stateText if call.active else shell.statusText
            if detail == headline:
                detail = ""
            return Look(kind, icon, headline or fallback, detail)
        kind, icon = _CALL_LOOKS.get(state, ("neutral", "state-idle"))
        if state == "idle":
            return Look(kind, icon, call.stateText or self.tr("Ready to call"), shell.statusText)
        parts = []
        if call.peer and call.peer not in call.stateText:
            parts.append(call.peer)
        if call.answeredBy:
            parts.append(self.tr("answered by %s") % call.answeredBy)
        if call.reasonText and call.reasonText.rstrip(".").lower() not in call.stateText.lower():
            parts.append(call.reasonText)
        timer = ""
        # "!= 0", not "> 0": connectedAt is time.monotonic(), which may be tiny on a fresh boot.
        if state in _TIMED_STATES and call.connectedAt != 0:
            timer = format_duration(time.monotonic() - call.connectedAt)
        return Look(kind, icon, call.stateText, " · ".join(parts), timer)

    @Slot()
    def refresh(self) -> None:
        call = self._call
        self.indicator.set_look(self.current_look())
        if call.state in _TIMED_STATES and call.connectedAt != 0:
            if not self._ticker.isActive():
                self._ticker.start()
        else:
            self._ticker.stop()

    @Slot()
    def _tick(self) -> None:
        if self._call.connectedAt != 0:
            self.indicator.set_timer(format_duration(time.monotonic() - self._call.connectedAt))


class CallControls(QWidget):
    """Call / Hold / Resume / Hang up, enabled exactly as the view-models say, and the in-call hint.

    Only the buttons that make sense are shown (Call when idle; Hold or Resume and Hang up during a
    call); whether each is enabled comes straight from canDial / canHold / canResume / canHangUp /
    canCancel.
    """

    def __init__(self, shell: ShellSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._call = shell.call
        self._dialer = shell.dialer
        self.callButton = _action_button(
            self.tr("Call"), "callButton", "action-call",
            self.tr("Ring your phone, then connect it to the number (Enter)"),
        )  # fmt: skip
        self.holdButton = _action_button(
            self.tr("Hold"), "holdButton", "action-hold", self.tr("Put the call on hold (Ctrl+H)")
        )
        self.resumeButton = _action_button(
            self.tr("Resume"), "resumeButton", "action-resume",
            self.tr("Take the call off hold (Ctrl+H)"),
        )  # fmt: skip
        self.hangUpButton = _action_button(
            self.tr("Hang up"), "hangUpButton", "action-hang-up", self.tr("End the call (Esc)")
        )
        self.hint = named(QLabel(self), "inCallHint")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)

        row = QHBoxLayout()
        row.setSpacing(10)
        for button in (self.callButton, self.holdButton, self.resumeButton, self.hangUpButton):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(row)
        layout.addWidget(self.hint)

        self.callButton.clicked.connect(self._dialer.dial)
        self.holdButton.clicked.connect(self._call.hold)
        self.resumeButton.clicked.connect(self._call.resume)
        self.hangUpButton.clicked.connect(self._call.hangUp)
        for signal in (
            self._call.stateChanged, self._call.canHoldChanged, self._call.canResumeChanged,
            self._call.canHangUpChanged, self._call.canCancelChanged, self._call.activeChanged,
            self._call.inCallHintChanged, self._dialer.canDialChanged,
        ):  # fmt: skip
            signal.connect(self.refresh)
        self.retint()
        self.refresh()

    def buttons(self) -> list[QPushButton]:
        return [self.callButton, self.holdButton, self.resumeButton, self.hangUpButton]

    def retint(self) -> None:
        """Re-colour the button glyphs for the current palette (light/dark switch)."""
        text = self.palette().color(QPalette.ColorRole.ButtonText)
        for button in (self.holdButton, self.resumeButton):
            button.setIcon(assets.glyph(button.property("iconName"), text))
        _, on_good = assets.accent("good", self.palette())
        _, on_bad = assets.accent("bad", self.palette())
        self.callButton.setIcon(assets.glyph("action-call", on_good))
        self.hangUpButton.setIcon(assets.glyph("action-hang-up", on_bad))

    @Slot()
    def refresh(self) -> None:
        call = self._call
        active = bool(call.active)
        self.callButton.setVisible(not active)
        self.callButton.setEnabled(bool(self._dialer.canDial))
        self.holdButton.setEnabled(bool(call.canHold))
        self.resumeButton.setEnabled(bool(call.canResume))
        self.holdButton.setVisible(active and not call.canResume)
        self.resumeButton.setVisible(active and bool(call.canResume))
        self.hangUpButton.setVisible(active)
        self.hangUpButton.setEnabled(bool(call.canHangUp or call.canCancel))
        cancel = bool(call.canCancel and not call.canHangUp)
        label = self.tr("Cancel") if cancel else self.tr("Hang up")
        self.hangUpButton.setText(label)
        self.hangUpButton.setAccessibleName(label)
        self.hangUpButton.setAccessibleDescription(
            self.tr("Stop calling (Esc)") if cancel else self.tr("End the call (Esc)")
        )
        self.hint.setText(call.inCallHint)
        self.hint.setVisible(bool(call.inCallHint) and active)
