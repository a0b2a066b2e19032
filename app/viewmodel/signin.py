"""SignInViewModel: the account form (address, server, user, method, remember), sign in/out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import Account, CallService, SettingsStore, SignInService
from app.viewmodel.properties import NotifyProperty

log = logging.getLogger(__name__)

METHODS = ("webticket", "aad")


class SignInViewModel(ViewModelBase):
    """The sign-in form. The password goes in through ``setPassword`` and is never a Property.

    Properties (each with a ``<name>Changed`` signal):
        address (str): sign-in address user@domain (drives autodiscovery).
        server (str): explicit discovery URL ("" = autodiscover).
        user (str): user name for the password ("" = the address).
        method (str): "webticket" (password) or "aad" (Azure AD / ADFS: browser or device code).
        remember (bool): keep the password in the OS keyring.
        busy (bool): signing in.
        message (str): "" or a plain sentence (progress or why sign-in failed).
        deviceCodeText (str): device-code instructions to show and copy ("" = none).
        available (bool): a sign-in service is configured (False → the form cannot sign in yet).

    Signals:
        signedIn(): sign-in succeeded; the window may leave the sign-in page.
        signedOut(): the session was closed and stored credentials forgotten.
        signInFailed(str): sign-in failed; the plain reason (also in ``message``).
        accountSaved(): a sign-in from the form succeeded and its account is now the saved one
            (the shell leaves demo mode).
    """

    addressChanged = Signal(str)
    serverChanged = Signal(str)
    userChanged = Signal(str)
    methodChanged = Signal(str)
    rememberChanged = Signal(bool)
    busyChanged = Signal(bool)
    messageChanged = Signal(str)
    deviceCodeTextChanged = Signal(str)
    availableChanged = Signal(bool)
    signedIn = Signal()
    signedOut = Signal()
    signInFailed = Signal(str)
    accountSaved = Signal()

    def __init__(
        self,
        service: SignInService | None,
        store: SettingsStore,
        *,
        attach: Callable[[CallService], Awaitable[None]],
        detach: Callable[[], Awaitable[None]],
        call_active: Callable[[], bool] = lambda: False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._call_active = call_active
        self._store = store
        self._attach = attach
        self._detach = detach
        saved = store.load()
        self._address = saved.address or ""
        self._server = saved.discovery_url or ""
        self._user = saved.user or ""
        self._method = saved.method if saved.method in METHODS else "webticket"
        self._remember = saved.remember_password
        self._busy = False
        self._message = ""
        self._deviceCodeText = ""
        self._available = service is not None
        self._password: str | None = None

    address = NotifyProperty(str, addressChanged)
    server = NotifyProperty(str, serverChanged)
    user = NotifyProperty(str, userChanged)
    method = NotifyProperty(str, methodChanged)
    remember = NotifyProperty(bool, rememberChanged)
    busy = NotifyProperty(bool, busyChanged)
    message = NotifyProperty(str, messageChanged)
    deviceCodeText = NotifyProperty(str, deviceCodeTextChanged)
    available = NotifyProperty(bool, availableChanged)

    def set_service(self, service: SignInService | None) -> None:
        self._service = service
        SignInViewModel.available.set(self, service is not None)

    @property
    def account(self) -> Account:
        return Account(
            address=self._address.strip(),
            server=self._server.strip(),
            user=self._user.strip(),
            method=self._method,
            remember=self._remember,
        )

    # -- form ---------------------------------------------------------------------------------
    @Slot(str)
    def setAddress(self, value: str) -> None:
        SignInViewModel.address.set(self, value)

    @Slot(str)
    def setServer(self, value: str) -> None:
        SignInViewModel.server.set(self, value)

    @Slot(str)
    def setUser(self, value: str) -> None:
        SignInViewModel.user.set(self, value)

    @Slot(str)
    def setMethod(self, value: str) -> None:
        if value in METHODS:
            SignInViewModel.method.set(self, value)

    @Slot(bool)
    def setRemember(self, value: bool) -> None:
        SignInViewModel.remember.set(self, bool(value))

    @Slot(str)
    def setPassword(self, password: str) -> None:
        self._password = password or None

    # -- commands -----------------------------------------------------------------------------
    @Slot()
    def signIn(self) -> None:
        if self._refuse_during_call():
            return
        account = self.account
        if not (account.address or account.server):
            SignInViewModel.message.set(self, "Type your sign-in address, e.g. alice@contoso.com.")
            return
        if account.method == "webticket" and not self._password and not account.remember:
            SignInViewModel.message.set(self, "Type your password.")
            return
        self.sign_in_with(account, self._password, save=True)

    def sign_in_with(self, account: Account, password: str | None, *, save: bool) -> None:
        """Sign in without the form (demo mode, ``--server`` on the command line)."""
        if self._service is None:
            SignInViewModel.message.set(
                self, "Signing in to a server is not available in this build."
            )
            return
        self._password = None  # the token provider keeps what it needs; we do not
        self.tasks.spawn(self._sign_in(self._service, account, password, save), group="signin")

    async def _sign_in(
        self, service: SignInService, account: Account, password: str | None, save: bool
    ) -> None:
        SignInViewModel.busy.set(self, True)
        SignInViewModel.message.set(self, "Signing in…")
        SignInViewModel.deviceCodeText.set(self, "")
        try:
            session = await service.open_session(
                account, password, show_device_code=self._show_device_code
            )
            await self._attach(session)
        except Exception as exc:
            # The form shows why (``message``), so no banner repeats it; the details go to the log.
            reason, details = self.log_failure(exc)
            log.info("sign-in failed: %s", details.replace("\n", "; "))
            SignInViewModel.message.set(self, reason)
            self.signInFailed.emit(reason)
            return
        finally:
            SignInViewModel.busy.set(self, False)
        SignInViewModel.message.set(self, "")
        SignInViewModel.deviceCodeText.set(self, "")
        if save:
            self._save(account)
            self.accountSaved.emit()
        self.signedIn.emit()
        notice = await service.notice()
        if notice:
            self.errorOccurred.emit(notice, "")

    def _show_device_code(self, text: str) -> None:
        SignInViewModel.deviceCodeText.set(self, text)

    def _save(self, account: Account) -> None:
        try:
            self._store.save(
                self._store.load().replace(
                    address=account.address or None,
                    discovery_url=account.server or None,
                    user=account.user or None,
                    method=account.method,
                    remember_password=account.remember,
                )
            )
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    @Slot()
    def signOut(self) -> None:
        if self._refuse_during_call():
            return
        self.tasks.spawn(self._sign_out(), group="signin")

    def _refuse_during_call(self) -> bool:
        # Another session (or none) deletes the UCWA application, and the server ends its call
        # with it (docs/protocol.md §4.2): never do that behind the user's back.
        if not self._call_active():
            return False
        SignInViewModel.message.set(
            self, "Hang up first: changing the account ends the call in progress."
        )
        return True

    async def _sign_out(self) -> None:
        SignInViewModel.busy.set(self, True)
        try:
            await self._detach()
            if self._service is not None:
                await self._service.forget(self.account)
        finally:
            SignInViewModel.busy.set(self, False)
        SignInViewModel.message.set(self, "")
        self.signedOut.emit()
