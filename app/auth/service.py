"""SignInService: the sign-in front the CLI and the GUI share (method choice, logout, notices)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import httpx

from app.auth.errors import ProviderError
from app.auth.msal_provider import (
    DEFAULT_SCOPES,
    DeviceCodeCallback,
    Interaction,
    MsalProvider,
    authority_from_challenge,
)
from app.auth.store import Kind, TokenStore
from app.auth.webticket import PasswordPrompt, WebTicketProvider
from app.logs import register_secret
from app.settings import Settings

log = logging.getLogger(__name__)

Method = Literal["webticket", "aad"]
METHODS: tuple[Method, ...] = ("webticket", "aad")


def detect_method(challenge: Any, preferred: str | None = None) -> Method:
    """Which provider answers ``challenge``: the server's offer first, the setting as tie-break.

    A Bearer challenge (authorization_uri) can only be answered by Azure AD; an MsRtcOAuth
    challenge offering the password grant by a web ticket, unless the user chose Azure AD (hybrid
    deployments where ADFS/AAD issues the token still challenge with MsRtcOAuth).
    """
    scheme = str(getattr(challenge, "scheme", "")).lower()
    params = getattr(challenge, "params", {}) or {}
    grants = tuple(getattr(challenge, "grant_types", ()) or ())
    if scheme == "bearer" or (scheme != "msrtcoauth" and authority_from_challenge(params)):
        return "aad"
    if preferred == "aad":
        return "aad"
    if scheme == "msrtcoauth" and grants and "password" not in grants:
        return "aad"  # e.g. only urn:microsoft.rtc:passive: the web ticket cannot be used
    return "webticket"


class SignInService:
    """A TokenProvider (pass it as ``UcwaSession(tokens=...)``) that picks the method per challenge.

    ``clock`` (Unix seconds) decides when tokens are due for renewal (tests inject one).

    Secrets live only in ``store`` (the OS keyring, or memory when there is none) and in memory.
    The GUI wires ``password_prompt`` (ask again when a token expired and no password is
    remembered) and ``on_device_code`` (show code + URL, copyable); the CLI uses the terminal.
    """

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        store: TokenStore | None = None,
        password: str | None = None,
        remember_password: bool | None = None,
        password_prompt: PasswordPrompt | None = None,
        on_device_code: DeviceCodeCallback | None = None,
        interaction: Interaction = "auto",
        scopes: Sequence[str] = DEFAULT_SCOPES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        register_secret(password)
        self.settings = settings
        self.store = store if store is not None else TokenStore()
        self.username = (settings.user or settings.address or "").strip()
        remember = settings.remember_password if remember_password is None else remember_password
        self.webticket = WebTicketProvider(
            http,
            self.username,
            password,
            store=self.store,
            password_prompt=password_prompt,
            remember_password=remember,
            clock=clock,
        )
        self.aad = MsalProvider(
            authority=settings.aad_authority,
            client_id=settings.aad_client_id,
            username=self.username or None,
            scopes=scopes,
            store=self.store,
            ca_bundle=settings.ca_bundle,
            interaction=interaction,
            on_device_code=on_device_code,
            clock=clock,
        )
        self.method_used: Method | None = None

    @property
    def signed_in_as(self) -> str | None:
        if self.method_used is None:
            return None
        if self.method_used == "aad":
            return self.aad.signed_in_as or self.username or None
        return self.username or None

    # -- TokenProvider ------------------------------------------------------------------------

    async def get_token(self, challenge: Any, *, stale: str | None = None) -> str:
        method = detect_method(challenge, self.settings.method)
        if method == "webticket" and not self.username:
            raise ProviderError("Enter your user name (or sign-in address) to sign in.")
        provider = self.webticket if method == "webticket" else self.aad
        token = await provider.get_token(challenge, stale=stale)
        if self.method_used != method:
            log.info("signed in with %s", "a web ticket" if method == "webticket" else "Azure AD")
        self.method_used = method
        return token

    def renewal_due(self, token: str) -> bool:
        """app.ucwa.auth.RenewsEarly: asks the provider that issued ``token``."""
        return self.webticket.renewal_due(token) or self.aad.renewal_due(token)

    # -- session management -------------------------------------------------------------------

    def set_password(self, password: str | None, *, remember: bool | None = None) -> None:
        """The password the person typed (GUI: SignInViewModel.setPassword); never stored as text
        anywhere but the keyring, and only when ``remember``."""
        self.webticket.set_password(password, remember=remember)

    def cancel(self) -> None:
        """Stop waiting for a device code to be entered (the GUI's Cancel button)."""
        self.aad.cancel()

    async def keyring_notice(self) -> str | None:
        """A plain notice, once per run, when secrets cannot be kept beyond this run."""
        return await self.store.anotice()

    async def logout(self, *, forget: bool = False) -> int:
        """Sign this account out: its tokens, Azure AD cache and remembered password go.

        ``forget`` removes every keyring entry this app ever created, for every account.
        Returns how many stored entries were removed (an estimate for the CLI message).
        """
        entries = [
            (kind, self.username) for kind in (Kind.WEBTICKET, Kind.PASSWORD, Kind.MSAL_CACHE)
        ]
        entries.append((Kind.MSAL_CACHE, "default"))
        # Count before the providers sign out: they delete their own entries.
        removed = sum(
            [await self.store.aget(kind, account) is not None for kind, account in entries]
        )
        await self.webticket.sign_out(forget_password=True)
        await self.aad.sign_out(forget=True)
        for kind, account in entries:
            await self.store.adelete(kind, account)
        if forget:
            removed += await self.store.aforget_all()
        self.method_used = None
        return removed
