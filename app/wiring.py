"""The one place that builds what talks to a UCWA server: HTTP client, token provider, session.

The window (through ``SignInAdapter``) and every headless command (``app/commands``) build their
sessions here, so TLS, credentials and caches follow one set of rules. The sign-in stack (msal,
keyring) and the protocol client are imported only when a session is built: a command in demo
mode, and the window until it signs in, do not pay for them.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from app.logs import register_secret
from app.settings import Settings

if TYPE_CHECKING:
    from app.auth.msal_provider import DeviceCode, Interaction
    from app.auth.service import SignInService
    from app.auth.store import TokenStore
    from app.auth.webticket import PasswordPrompt
    from app.history.recorder import CallRecorder
    from app.history.service import HistoryService
    from app.ucwa.auth import TokenProvider
    from app.ucwa.session import UcwaSession
    from app.viewmodel.ports import Account, CallService

PASSWORD_ENV = "UCWA_PHONE_PASSWORD"
DISCOVERY_PATH = "/autodiscover/autodiscoverservice.svc/root"

# The window keeps its requests short so a dead server shows up quickly (the session gives the
# long-poll its own timeout); a command may wait longer for a slow server.
WINDOW_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
WINDOW_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=4)
COMMAND_TIMEOUT = httpx.Timeout(30.0)


def discovery_url(server: str) -> str:
    """A bare server URL gets the autodiscovery path; a full discovery URL stays as it is."""
    parts = urlsplit(server if "://" in server else f"https://{server}")
    if parts.path in ("", "/"):
        return f"{parts.scheme}://{parts.netloc}{DISCOVERY_PATH}"
    return parts.geturl()


def env_password() -> str | None:
    """$UCWA_PHONE_PASSWORD, or None; registered first so no log line can show it.

    The variable is removed once read, so no child (the sign-in browser, a subprocess) inherits it.
    """
    password = os.environ.pop(PASSWORD_ENV, None) or None
    register_secret(password)
    return password


class CaBundleUnreadable(OSError):
    """The CA bundle named in the settings or by --ca-bundle cannot be used; the message says
    which file and why, in a sentence the window and the commands show as it is."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"The CA bundle {path} cannot be read: {reason}.")
        self.path = path


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """System trust plus the user's private CA bundle (httpx 0.28 deprecates verify=<path>).

    Raises CaBundleUnreadable when the bundle is missing, unreadable or holds no certificate.
    """
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except ssl.SSLError:  # an OSError too, but its strerror is None
            raise CaBundleUnreadable(ca_bundle, "it holds no PEM certificate") from None
        except OSError as exc:
            raise CaBundleUnreadable(ca_bundle, exc.strerror or str(exc)) from None
    return context


def make_http(settings: Settings, *, window: bool = False) -> httpx.AsyncClient:
    """The client for the UCWA server and the sign-in endpoints (system CAs + the bundle).

    Raises CaBundleUnreadable (see ``tls_context``).
    """
    verify = tls_context(settings.ca_bundle)
    if window:
        return httpx.AsyncClient(timeout=WINDOW_TIMEOUT, limits=WINDOW_LIMITS, verify=verify)
    return httpx.AsyncClient(timeout=COMMAND_TIMEOUT, verify=verify)


def sign_in_service(
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    password: str | None = None,
    store: TokenStore | None = None,
    interaction: Interaction = "auto",
    password_prompt: PasswordPrompt | None = None,
    on_device_code: Callable[[DeviceCode], None] | None = None,
) -> SignInService:
    """app.auth's SignInService: web ticket or Azure AD per the server's challenge, with the
    tokens (and, if the settings say so, the password) kept in the OS keyring."""
    from app.auth.service import SignInService

    return SignInService(
        settings,
        http,
        store=store,
        password=password,
        password_prompt=password_prompt,
        on_device_code=on_device_code,
        interaction=interaction,
    )


def token_provider(
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    keep: bool,
    password: str | None = None,
    store: TokenStore | None = None,
    interaction: Interaction = "auto",
    on_device_code: Callable[[DeviceCode], None] | None = None,
) -> TokenProvider:
    """Who answers the server's sign-in challenges for ``settings``' account.

    ``keep=False`` (the demo account): a plain web-ticket provider with the given password that
    touches no keyring. Otherwise the full ``sign_in_service``.
    """
    if not keep:
        from app.auth.webticket import WebTicketProvider

        return WebTicketProvider(http, settings.user or settings.address or "", password)
    return sign_in_service(
        http,
        settings,
        password=password,
        store=store,
        interaction=interaction,
        on_device_code=on_device_code,
    )


def session(
    http: httpx.AsyncClient,
    tokens: TokenProvider,
    settings: Settings,
    *,
    keep: bool,
    recorder: CallRecorder | None = None,
    **options: Any,
) -> UcwaSession:
    """A UcwaSession for ``settings``' account; ``options`` go to UcwaSession as they are.

    ``keep=False``: discovery results stay in memory (demo servers listen on a new port every
    run: nothing worth remembering); otherwise they are cached on disk for the next start.
    With a ``recorder`` every call attempt of the session goes into the call history.
    """
    from app.ucwa.discovery import FileDiscoveryCache, MemoryDiscoveryCache
    from app.ucwa.session import UcwaSession

    options.setdefault("discovery_cache", FileDiscoveryCache() if keep else MemoryDiscoveryCache())
    if recorder is not None:
        from app.history.session import RecordingSession

        options["recorder"] = recorder
        cls: type[UcwaSession] = RecordingSession
    else:
        cls = UcwaSession
    return cls(
        http,
        tokens,
        discovery_url=settings.discovery_url,
        address=settings.address,
        endpoint_id=settings.endpoint_id,
        default_region=settings.default_region,
        allowed_redirect_domains=settings.allowed_redirect_domains,
        **options,
    )


class SignInAdapter:
    """The window's app.viewmodel.ports.SignInService: ``token_provider`` and ``session`` for the
    account the sign-in form (or the command line) names.

    For the demo account (``Account.ephemeral``) or with ``persistent=False`` nothing is kept:
    no keyring (so no keyring notice either), no discovery cache on disk.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        persistent: bool,
        session_options: Mapping[str, Any] | None = None,
        history: HistoryService | None = None,
    ) -> None:
        self._http = http
        self._history = history  # the demo account's calls go to the demo file
        self._settings = settings
        self._persistent = persistent
        self._session_options = dict(session_options or {})  # tests: a faster injected sleep
        self._token_store: TokenStore | None = None
        self._providers: dict[Account, Any] = {}

    def _account_settings(self, account: Account) -> Settings:
        return self._settings.replace(
            address=account.address or None,
            discovery_url=account.server or None,
            user=account.user or None,
            method=account.method,
            remember_password=account.remember,
        )

    def _keeps(self, account: Account) -> bool:
        return self._persistent and not account.ephemeral

    def _provider(
        self, account: Account, password: str | None, show_device_code: Callable[[str], None]
    ) -> TokenProvider:
        keep = self._keeps(account)
        if keep and self._token_store is None:
            from app.auth.store import TokenStore

            self._token_store = TokenStore()  # probes the keyring lazily, in a worker thread
        provider = token_provider(
            self._http,
            self._account_settings(account),
            keep=keep,
            password=password,
            store=self._token_store,
            on_device_code=lambda code: show_device_code(code.text),
        )
        if keep:
            self._providers[account] = provider
        return provider

    async def open_session(
        self, account: Account, password: str | None, *, show_device_code: Callable[[str], None]
    ) -> CallService:
        created: CallService = session(
            self._http,
            self._provider(account, password, show_device_code),
            self._account_settings(account),
            keep=self._keeps(account),
            recorder=self._history.recorder(account.ephemeral) if self._history else None,
            **self._session_options,
        )
        return created

    async def notice(self) -> str | None:
        notices = [self._history.take_notice() if self._history else None]
        if self._token_store is not None:
            notices.insert(0, await self._token_store.anotice())
        return " ".join(n for n in notices if n) or None

    async def forget(self, account: Account) -> None:
        if not self._keeps(account):
            return
        provider = self._providers.pop(account, None)
        if provider is None:
            provider = self._provider(account, None, lambda _text: None)
            self._providers.pop(account, None)
        await provider.logout()
