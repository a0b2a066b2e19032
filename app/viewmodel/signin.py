"""SignInViewModel: the account form (address, server, user, method, remember), sign in/out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Property, QObject, Signal, Slot

from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import Account, CallService, SettingsStore, SignInService

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

    address = Property(str, lambda self: self._address, notify=addressChanged)
    server = Property(str, lambda self: self._server, notify=serverChanged)
    user = Property(str, lambda self: self._user, notify=userChanged)
    method = Property(str, lambda self: self._method, notify=methodChanged)
    remember = Property(bool, lambda self: self._remember, notify=rememberChanged)
    busy = Property(bool, lambda self: self._busy, notify=busyChanged)
    message = Property(str, lambda self: self._message, notify=messageChanged)
    deviceCodeText = Property(str, lambda self: self._deviceCodeText, notify=deviceCodeTextChanged)
    available = Property(bool, lambda self: self._available, notify=availableChanged)

    def set_service(self, service: SignInService | None) -> None:
        self._service = service
        self._set("available", service is not None)

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
        self._set("address", value)

    @Slot(str)
    def setServer(self, value: str) -> None:
        self._set("server", value)

    @Slot(str)
    def setUser(self, value: str) -> None:
        self._set("user", value)

    @Slot(str)
    def setMethod(self, value: str) -> None:
        if value in METHODS:
            self._set("method", value)

    @Slot(bool)
    def setRemember(self, value: bool) -> None:
        self._set("remember", bool(value))

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
            self._set("message", "Type your sign-in address, e.g. alice@contoso.com.")
            return
        if account.method == "webticket" and not self._password and not account.remember:
            self._set("message", "Type your password.")
            return
        self.sign_in_with(account, self._password, save=True)

    def sign_in_with(self, account: Account, password: str | None, *, save: bool) -> None:
        """Sign in without the form (demo mode, ``--server`` on the command line)."""
        if self._service is None:
            self._set("message", "Signing in to a server is not available in this build.")
            return
        self._password = None  # the token provider keeps what it needs; we do not
        self.tasks.spawn(self._sign_in(self._service, account, password, save), group="signin")

    async def _sign_in(
        self, service: SignInService, account: Account, password: str | None, save: bool
    ) -> None:
        self._set("busy", True)
        self._set("message", "Signing in…")
        self._set("deviceCodeText", "")
        try:
            session = await service.open_session(
                account, password, show_device_code=self._show_device_code
            )
            await self._attach(session)
        except Exception as exc:
            # The form shows why (``message``), so no banner repeats it; the details go to the log.
            reason, details = self.log_failure(exc)
            log.info("sign-in failed: %s", details.replace("\n", "; "))
            self._set("message", reason)
            self.signInFailed.emit(reason)
            return
        finally:
            self._set("busy", False)
        self._set("message", "")
        self._set("deviceCodeText", "")
        if save:
            self._save(account)
            self.accountSaved.emit()
        self.signedIn.emit()
        notice = await service.notice()
        if notice:
            self.errorOccurred.emit(notice, "")

    def _show_device_code(self, text: str) -> None:
        self._set("deviceCodeText", text)

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
        # with it (spec §4.2): never do that behind the user's back.
        if not self._call_active():
            return False
        self._set("message", "Hang up first: changing the account ends the call in progress.")
        return True

    async def _sign_out(self) -> None:
        self._set("busy", True)
        try:
            await self._detach()
            if self._service is not None:
                await self._service.forget(self.account)
        finally:
            self._set("busy", False)
        self._set("message", "")
        self.signedOut.emit()
