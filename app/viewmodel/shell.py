"""AppViewModel: the shell — connection status, title, error banner, quit flow, child VMs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from PySide6.QtCore import QObject, Signal, Slot

from app.ucwa.calls import CallSnapshot
from app.ucwa.status import ConnectionState, SessionStatus
from app.viewmodel.base import ViewModelBase
from app.viewmodel.call import CallViewModel
from app.viewmodel.dialer import DialerViewModel
from app.viewmodel.ports import CallService, SettingsStore, SignInService
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.settings import SettingsViewModel
from app.viewmodel.signin import SignInViewModel

log = logging.getLogger(__name__)

APP_TITLE = "UCWA Phone"
HANG_UP_TIMEOUT_S = 3.0
CLOSE_TIMEOUT_S = 7.0  # the session bounds its DELETE at 5 s itself; this is the backstop


def status_text(status: SessionStatus) -> str:
    state = status.state
    if state is ConnectionState.SIGNED_IN:
        return f"Signed in as {status.user}" if status.user else "Signed in"
    if state is ConnectionState.SIGNING_IN:
        return "Signing in…"
    if state is ConnectionState.RECONNECTING:
        return "Reconnecting…"
    if state is ConnectionState.TAKEN_OVER:
        return status.detail or "Signed in elsewhere — this window no longer controls calls"
    if state is ConnectionState.FAILED:
        return f"Not signed in — {status.detail}" if status.detail else "Sign-in failed"
    return "Signed out"


class AppViewModel(ViewModelBase):
    """The shell the main window binds to; also the session's listener, fanning out to the children.

    Properties (each with a ``<name>Changed`` signal):
        connectionState (str): ConnectionState value ("signed_out", "signing_in", "signed_in", ...).
        statusText (str): "Signed in as alice@contoso.com", "Reconnecting…", ...
        signedIn (bool): connectionState is "signed_in".
        demo (bool): talking to the embedded demo simulator.
        title (str): the window title, carrying the call or connection state.
        errorText (str): the banner's plain message ("" = no banner).
        errorDetails (str): code, subcode, X-Ms-Diagnostics (never a traceback).

    Signals:
        quitRequested(): the app should quit now (main's coroutine shuts down in order).
        setupRequested(): show the sign-in view ("Set up your account" on the Demo badge).
        confirmHangUpRequested(): a quit was asked for during a call; the window asks the user and
            answers ``answerHangUp(True)`` (hang up, then quit) or ``answerHangUp(False)`` (keep
            the call: no quit, the window stays; ``cancelQuit()`` is the same). If the call ends
            before the answer, the quit goes on (``quitRequested``) and the question is moot.

    Attributes:
        dialer, call, signin, settings: the child view-models.
    """

    connectionStateChanged = Signal(str)
    statusTextChanged = Signal(str)
    signedInChanged = Signal(bool)
    demoChanged = Signal(bool)
    titleChanged = Signal(str)
    errorTextChanged = Signal(str)
    errorDetailsChanged = Signal(str)
    quitRequested = Signal()
    setupRequested = Signal()
    confirmHangUpRequested = Signal()

    def __init__(
        self,
        *,
        signin_service: SignInService | None,
        store: SettingsStore,
        dialer_store: SettingsStore | None = None,
        region: str | None = None,
        demo: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session: CallService | None = None
        self._store = store
        self._connectionState = ConnectionState.SIGNED_OUT.value
        self._statusText = status_text(SessionStatus(ConnectionState.SIGNED_OUT))
        self._signedIn = False
        self._demo = demo
        self._title = ""
        self._errorText = ""
        self._errorDetails = ""
        self._confirming = False
        self._quitting = False
        self._hang_up_on_quit = False
        self.dialer = DialerViewModel(dialer_store or store, region=region, parent=self)
        self.call = CallViewModel(parent=self)
        self.signin = SignInViewModel(
            signin_service,
            store,
            attach=self.attach,
            detach=self.detach,
            call_active=lambda: bool(self.call.active),
            parent=self,
        )
        self.settings = SettingsViewModel(
            store, dialer=self.dialer, signin=self.signin, parent=self
        )
        for child in (self, self.dialer, self.call, self.signin, self.settings):
            child.errorOccurred.connect(self.showError)
        self.signin.accountSaved.connect(self._on_account_saved)
        self.signin.signedIn.connect(self.dismissError)  # an old sign-in error is stale now
        self.call.stateTextChanged.connect(self._update_title)
        self.call.activeChanged.connect(self._on_call_active_changed)
        self._update_title()

    connectionState = NotifyProperty(str, connectionStateChanged)
    statusText = NotifyProperty(str, statusTextChanged)
    signedIn = NotifyProperty(bool, signedInChanged)
    demo = NotifyProperty(bool, demoChanged)
    title = NotifyProperty(str, titleChanged)
    errorText = NotifyProperty(str, errorTextChanged)
    errorDetails = NotifyProperty(str, errorDetailsChanged)

    @property
    def session(self) -> CallService | None:
        return self._session

    def set_demo(self, demo: bool) -> None:
        AppViewModel.demo.set(self, demo)
        self._update_title()

    # -- SessionListener ----------------------------------------------------------------------
    def on_status(self, status: SessionStatus) -> None:
        was_signed_in = self._signedIn
        AppViewModel.connectionState.set(self, status.state.value)
        AppViewModel.statusText.set(self, status_text(status))
        AppViewModel.signedIn.set(self, status.state is ConnectionState.SIGNED_IN)
        self.call.set_connection(status.state)
        self.dialer.set_ready(signed_in=self._signedIn, call_active=self.call.is_active)
        if self._signedIn and not was_signed_in and not self.tasks.closed:
            self.tasks.spawn(self._load_phones(), group="phones")
        self._update_title()

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.call.apply(snapshot)

    # -- session lifetime ---------------------------------------------------------------------
    async def attach(self, session: CallService) -> None:
        """Make ``session`` current (closing the previous one) and sign it in; raises on failure."""
        await self.detach()
        self._session = session
        session.add_listener(self)
        self.dialer.set_service(session)
        self.call.set_service(session)
        self.on_status(session.status)
        await session.sign_in()

    async def detach(self) -> None:
        """Close the current session (bounded); the shell shows "Signed out"."""
        session, self._session = self._session, None
        if session is None:
            return
        session.remove_listener(self)
        self.dialer.set_service(None)
        self.call.set_service(None)
        self.on_status(SessionStatus(ConnectionState.SIGNED_OUT))
        await _bounded(session.aclose(), CLOSE_TIMEOUT_S, "closing the session")

    async def _load_phones(self) -> None:
        try:
            await self.dialer.load_phones()
        except Exception as exc:  # the server picks the first phone itself; not worth a banner
            log.info("could not list the user's phones: %s", exc)

    # -- banner -------------------------------------------------------------------------------
    @Slot(str, str)
    def showError(self, message: str, details: str = "") -> None:
        AppViewModel.errorText.set(self, message)
        AppViewModel.errorDetails.set(self, details)

    @Slot()
    def dismissError(self) -> None:
        self.showError("", "")

    @Slot()
    def requestSetup(self) -> None:
        self.setupRequested.emit()

    # -- quitting -----------------------------------------------------------------------------
    @Slot()
    def requestQuit(self) -> None:
        if self._quitting or self._confirming:
            return
        if self.call.is_active:
            self._confirming = True
            self.confirmHangUpRequested.emit()
            return
        self._quit()

    @Slot(bool)
    def answerHangUp(self, hang_up: bool) -> None:
        if not self._confirming:
            return
        self._confirming = False
        if hang_up:
            self._hang_up_on_quit = True
            self._quit()

    @Slot()
    def cancelQuit(self) -> None:
        self._confirming = False

    def _quit(self) -> None:
        self._quitting = True
        self.quitRequested.emit()

    def _on_account_saved(self) -> None:
        # A real account replaced the demo: from now on recents and callback choice are kept.
        if self._demo:
            self.set_demo(False)
            self.dialer.set_store(self._store)

    def _on_call_active_changed(self, active: bool) -> None:
        self.dialer.set_ready(signed_in=self._signedIn, call_active=active)
        self._update_title()
        if not active and self._confirming:
            # The call ended while "Hang up and quit?" was open: nothing is left to ask, and the
            # user asked to quit (the window closes its question on quitRequested).
            self._confirming = False
            self._quit()

    def _update_title(self) -> None:
        part = self.call.state_text if self.call.is_active else self._statusText
        suffix = " (demo)" if self._demo else ""
        AppViewModel.title.set(self, f"{part} — {APP_TITLE}{suffix}")

    async def aclose(self) -> None:
        """Shut down: hang up if the user chose so, cancel all tasks, close the session."""
        session = self._session
        if session is not None and self._hang_up_on_quit and self.call.is_active:
            await _bounded(session.hang_up(), HANG_UP_TIMEOUT_S, "hanging up")
        for child in (self.dialer, self.call, self.signin, self.settings):
            await child.aclose()
        await self.tasks.aclose()
        await self.detach()


async def _bounded(coro: Awaitable[object], limit_s: float, what: str) -> None:
    """Await ``coro`` for at most ``limit_s`` seconds; failures are logged, not raised."""
    try:
        async with asyncio.timeout(limit_s):
            await coro
    except TimeoutError:
        log.warning("gave up %s after %.0f s", what, limit_s)
    except Exception as exc:
        log.info("%s failed: %s", what, exc)
