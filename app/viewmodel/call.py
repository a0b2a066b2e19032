"""CallViewModel: the current call as words, times and enabled actions (from CallSnapshot)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.status import ConnectionState
from app.viewmodel import phone
from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import CallService
from app.viewmodel.properties import NotifyProperty

log = logging.getLogger(__name__)

IN_CALL_HINT = (
    "Menu choices and extensions: press the digits on your desk phone "
    "(this app cannot send them during a call)."
)


def state_text(snapshot: CallSnapshot) -> str:
    """The indicator's words for a snapshot (the UI adds the timer to "Connected")."""
    state = snapshot.state
    if state is CallState.IDLE:
        return "Ready to call"
    if state is CallState.CALLING_YOU:
        return "Calling your phone — pick up"
    if state is CallState.CONNECTING:
        return f"Connecting to {phone.display(snapshot.number)}…"
    if state is CallState.RINGING_THEM:
        # The user's phone is connected but the far end has not answered: not "Connected" yet.
        return f"Your phone is connected, ringing {phone.display(snapshot.number)}…"
    if state is CallState.CONNECTED:
        return "Connected"
    if state is CallState.ON_HOLD:
        return "On hold"
    if state is CallState.ENDING:
        return "Hanging up…"
    if snapshot.reason is not None and snapshot.reason.message:
        return f"Ended — {_clause(snapshot.reason.message)}"
    return "Call ended" if state is CallState.ENDED else "Call failed"


def _clause(sentence: str) -> str:
    """ "The line was busy." → "the line was busy" (to follow "Ended — ")."""
    text = sentence.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


class CallViewModel(ViewModelBase):
    """The call in progress (or the last one). Actions are enabled only when the server offers them.

    Properties (each with a ``<name>Changed`` signal):
        state (str): CallState value ("idle", "calling_you", "connecting",
            "ringing_them", "connected", ...)..
        stateText (str): the indicator's words ("Calling your phone — pick up", "Reconnecting…").
        reasonText (str): why the call ended, or why a hang-up failed while the call goes on;
            one sentence ("" otherwise).
        peer (str): the dialled number, display form.
        answeredBy (str): who actually answered when it was forwarded ("" = the dialled number).
        connectedAt (float): time.monotonic() when connected, 0.0 when not connected.
        canHold, canResume, canHangUp, canCancel (bool): the server offers that action now.
        active (bool): a call is in progress (not idle, not ended).
        inCallHint (str): while connected, that digits go on the desk phone; else "".
        reconnecting (bool): the session is re-establishing its connection.

    Signals:
        callEnded(str): the call reached a final state ("ended" or "failed").
    """

    stateChanged = Signal(str)
    stateTextChanged = Signal(str)
    reasonTextChanged = Signal(str)
    peerChanged = Signal(str)
    answeredByChanged = Signal(str)
    connectedAtChanged = Signal(float)
    canHoldChanged = Signal(bool)
    canResumeChanged = Signal(bool)
    canHangUpChanged = Signal(bool)
    canCancelChanged = Signal(bool)
    activeChanged = Signal(bool)
    inCallHintChanged = Signal(str)
    reconnectingChanged = Signal(bool)
    callEnded = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service: CallService | None = None
        self._snapshot = CallSnapshot(CallState.IDLE)
        self._state = CallState.IDLE.value
        self._stateText = state_text(self._snapshot)
        self._reasonText = ""
        self._peer = ""
        self._answeredBy = ""
        self._connectedAt = 0.0
        self._canHold = False
        self._canResume = False
        self._canHangUp = False
        self._canCancel = False
        self._active = False
        self._inCallHint = ""
        self._reconnecting = False

    state = NotifyProperty(str, stateChanged)
    stateText = NotifyProperty(str, stateTextChanged)
    reasonText = NotifyProperty(str, reasonTextChanged)
    peer = NotifyProperty(str, peerChanged)
    answeredBy = NotifyProperty(str, answeredByChanged)
    connectedAt = NotifyProperty(float, connectedAtChanged)
    canHold = NotifyProperty(bool, canHoldChanged)
    canResume = NotifyProperty(bool, canResumeChanged)
    canHangUp = NotifyProperty(bool, canHangUpChanged)
    canCancel = NotifyProperty(bool, canCancelChanged)
    active = NotifyProperty(bool, activeChanged)
    inCallHint = NotifyProperty(str, inCallHintChanged)
    reconnecting = NotifyProperty(bool, reconnectingChanged)

    @property
    def snapshot(self) -> CallSnapshot:
        return self._snapshot

    @property
    def is_active(self) -> bool:
        """Typed twin of the ``active`` Property (for Python callers)."""
        return self._active

    @property
    def state_text(self) -> str:
        return self._stateText

    # -- wiring from the shell ----------------------------------------------------------------
    def set_service(self, service: CallService | None) -> None:
        self._service = service
        self.apply(service.call if service is not None else CallSnapshot(CallState.IDLE))

    def set_connection(self, state: ConnectionState) -> None:
        CallViewModel.reconnecting.set(self, state is ConnectionState.RECONNECTING)
        self._update_text()

    def apply(self, snapshot: CallSnapshot) -> None:
        """Show ``snapshot`` (called by the shell for every SessionListener.on_call)."""
        before = self._snapshot.state
        self._snapshot = snapshot
        state = snapshot.state
        actions = snapshot.actions
        CallViewModel.state.set(self, state.value)
        CallViewModel.reasonText.set(self, snapshot.reason.message if snapshot.reason else "")
        CallViewModel.peer.set(self, phone.display(snapshot.number) if snapshot.number else "")
        CallViewModel.answeredBy.set(self, snapshot.answered_by or "")
        CallViewModel.connectedAt.set(self, float(snapshot.connected_at or 0.0))
        CallViewModel.canHold.set(self, CallAction.HOLD in actions)
        CallViewModel.canResume.set(self, CallAction.RESUME in actions)
        CallViewModel.canHangUp.set(self, CallAction.HANG_UP in actions)
        CallViewModel.canCancel.set(self, CallAction.CANCEL in actions)
        CallViewModel.active.set(self, state is not CallState.IDLE and not state.is_final)
        connected = state in (CallState.CONNECTED, CallState.ON_HOLD)
        CallViewModel.inCallHint.set(self, IN_CALL_HINT if connected else "")
        self._update_text()
        if state.is_final and state is not before:
            self.callEnded.emit(state.value)

    def _update_text(self) -> None:
        if self._reconnecting and self._active:
            CallViewModel.stateText.set(self, "Reconnecting…")
        else:
            CallViewModel.stateText.set(self, state_text(self._snapshot))

    # -- commands (only what the snapshot offers; the session re-checks against the server's links)
    @Slot()
    def hold(self) -> None:
        if self._canHold and self._service is not None and not self.tasks.running("action"):
            self.tasks.spawn(self._service.hold(), group="action")

    @Slot()
    def resume(self) -> None:
        if self._canResume and self._service is not None and not self.tasks.running("action"):
            self.tasks.spawn(self._service.resume(), group="action")

    @Slot()
    def toggleHold(self) -> None:
        # Resume first: a server may offer both links while the call is held, and Ctrl+H is
        # labelled "Resume" then.
        if self._canResume:
            self.resume()
        elif self._canHold:
            self.hold()

    @Slot()
    def hangUp(self) -> None:
        # Its own group: a hang-up must not cancel itself when pressed twice, nor be cancelled
        # by a hold that is still in flight.
        offered = self._canHangUp or self._canCancel
        if offered and self._service is not None and not self.tasks.running("hang_up"):
            self.tasks.spawn(self._service.hang_up(), group="hang_up")
