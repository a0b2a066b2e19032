"""MsalProvider: Azure AD / ADFS tokens via msal (docs/protocol.md §3.2), cached in the keyring."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

from app.auth.deadlines import GRANT_DEADLINE_S, grant_too_slow
from app.auth.errors import (
    AccountLocked,
    AuthError,
    InteractionRequired,
    InvalidCredentials,
    MfaRequired,
    PasswordExpired,
    ProviderError,
)
from app.auth.httperrors import host_of, unreachable
from app.auth.scopes import REQUIRED_SCOPES
from app.auth.store import Kind, TokenStore
from app.auth.tokens import AccessToken, parse_expires_in
from app.httpbody import DOCUMENT_LIMIT, decode_json
from app.logs import register_secret

if TYPE_CHECKING:
    # msal, requests and cryptography cost ~20 MB: imported only when a server asks for Azure AD.
    import msal
    import requests

log = logging.getLogger(__name__)
_R = TypeVar("_R")

# What the operations of a call-via-work session need (the table lives in app/auth/scopes.py).
DEFAULT_SCOPES: tuple[str, ...] = REQUIRED_SCOPES

Interaction = Literal["auto", "browser", "device_code", "none"]

_SIGN_IN_AGAIN = (
    "Your Azure AD sign-in has expired. Sign in again (ucwa-phone login, or in the app)."
)


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """What the person must do on another device; ``text`` is meant to be shown and copied."""

    user_code: str
    verification_uri: str
    message: str
    expires_at: float  # Unix seconds

    @property
    def text(self) -> str:
        return f"To sign in, open {self.verification_uri} and enter the code {self.user_code}"


DeviceCodeCallback = Callable[[DeviceCode], None]


def _network_errors() -> tuple[type[BaseException], ...]:
    """What msal's HTTP layer raises when the identity provider cannot be reached (an ``except``
    evaluates this only when something was raised, by which time msal is loaded anyway)."""
    import requests

    return (requests.RequestException,)


def http_session(ca_bundle: str | None) -> requests.Session:
    """The requests session msal uses; with ``ca_bundle`` that file alone decides trust."""
    import requests

    class VerifySession(requests.Session):
        """Keeps env proxies, but REQUESTS_CA_BUNDLE must not replace a bundle we were given."""

        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> dict[str, Any]:
            settings: dict[str, Any] = super().merge_environment_settings(
                url, proxies, stream, verify, cert
            )
            settings["verify"] = self.verify
            return settings

    if ca_bundle:
        session = VerifySession()
        session.verify = ca_bundle
        return session
    return requests.Session()


def browser_available() -> bool:
    """A browser msal can open for interactive sign-in (not on a display-less Linux box)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def authority_from_challenge(params: Mapping[str, str]) -> str | None:
    """``authorization_uri`` of a Bearer challenge minus its /oauth2/... tail is the authority."""
    uri = params.get("authorization_uri") or params.get("authorization_url")
    if not uri:
        return None
    for tail in ("/oauth2/v2.0/authorize", "/oauth2/authorize", "/oauth2/v2.0", "/oauth2"):
        if uri.rstrip("/").endswith(tail):
            return uri.rstrip("/")[: -len(tail)]
    return uri.rstrip("/")


def scopes_for(resource: str, scopes: Sequence[str]) -> list[str]:
    """Bare permission names become "<resource>/<name>"; full scope URIs pass unchanged."""
    resource = resource.rstrip("/")
    return [s if "://" in s or not resource else f"{resource}/{s}" for s in scopes]


class MsalProvider:
    """A TokenProvider (app.ucwa.auth) backed by msal.PublicClientApplication.

    Order: a token from the cache (silent, refresh token if needed) → the browser where one
    exists → the device-code flow (``on_device_code`` gets the code and URL). Every msal and
    keyring call runs in a worker thread so the UI loop never blocks.
    """

    def __init__(
        self,
        *,
        authority: str | None = None,
        client_id: str | None = None,
        username: str | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        store: TokenStore | None = None,
        ca_bundle: str | None = None,
        interaction: Interaction = "auto",
        on_device_code: DeviceCodeCallback | None = None,
        timeout_s: float = 30.0,
        interactive_timeout_s: float = 300.0,
        clock: Callable[[], float] = time.time,
        grant_deadline_s: float = GRANT_DEADLINE_S,
    ) -> None:
        self.authority = authority.rstrip("/") if authority else None
        self.client_id = client_id
        self.username = username
        self.scopes = tuple(scopes)
        self.interaction: Interaction = interaction
        self.on_device_code = on_device_code
        self._store = store
        self._ca_bundle = ca_bundle
        self._timeout = timeout_s
        self._interactive_timeout = interactive_timeout_s
        self._grant_deadline = grant_deadline_s
        self._cache: msal.SerializableTokenCache | None = None  # made on first use: see imports
        self._cache_loaded = False
        self._apps: dict[tuple[str, str], msal.PublicClientApplication] = {}
        self._lock = asyncio.Lock()
        self._cancel = threading.Event()
        self._clock = clock
        self._issued: dict[str, AccessToken] = {}  # per resource: the last token handed out
        self.signed_in_as: str | None = None
        self.last_source: str | None = None  # "cache" / "identity_provider" (for tests, -v logs)

    @property
    def _token_cache(self) -> msal.SerializableTokenCache:
        if self._cache is None:
            import msal

            self._cache = msal.SerializableTokenCache()
        return self._cache

    @property
    def _cache_account(self) -> str:
        return self.username or "default"

    # -- TokenProvider ------------------------------------------------------------------------

    async def get_token(self, challenge: Any, *, stale: str | None = None) -> str:
        """Bearer token for ``challenge.resource``; never returns ``stale``."""
        async with self._lock:
            params: Mapping[str, str] = getattr(challenge, "params", {}) or {}
            resource = str(getattr(challenge, "resource", "") or "")
            authority = self.authority or authority_from_challenge(params)
            client_id = self.client_id or params.get("client_id")
            if not authority and (refused := getattr(challenge, "refused_authority", None)):
                # A hybrid server's untrusted authority was dropped: say so, not "none given".
                raise ProviderError(str(refused), code="UntrustedServer")
            if not authority or not client_id:
                raise ProviderError(
                    "Azure AD sign-in needs an authority and a client id; set them in the settings."
                )
            scopes = scopes_for(resource, self.scopes)
            await asyncio.to_thread(self._load_cache)
            app = await self._app(authority, client_id)
            issued = self._issued.get(resource)
            due = issued is not None and issued.due_for_refresh(self._clock())
            # Due by our rule (app/auth/tokens.py): msal alone would hand out the cached token
            # until its own, later margin.
            result = await self._silent(app, scopes, force=stale is not None or due)
            early = due and stale is None and issued is not None
            if result is None and early and issued and not issued.expired(self._clock()):
                return issued.value  # renewing early never asks a person; it still works
            if result is None:
                result = await self._interactive(app, scopes)
            token = result.get("access_token")
            if not isinstance(token, str) or not token:
                raise _result_error(result, host_of(authority))
            if token == stale:
                raise InteractionRequired(_SIGN_IN_AGAIN)
            lifetime = parse_expires_in(result.get("expires_in"))
            self._issued[resource] = AccessToken.issued(
                token, lifetime, resource=resource, clock=self._clock
            )
            claims = result.get("id_token_claims") or {}
            self.signed_in_as = claims.get("preferred_username") or self.signed_in_as
            self.last_source = str(result.get("token_source", ""))
            log.info("Azure AD token for %s from %s", resource or "?", self.last_source or "?")
            return token

    def renewal_due(self, token: str) -> bool:
        """app.ucwa.auth.RenewsEarly: is this Azure AD token due for renewal?"""
        found = next((t for t in self._issued.values() if t.value == token), None)
        return found is not None and found.due_for_refresh(self._clock())

    async def sign_out(self, *, forget: bool = True) -> None:
        """Remove this provider's accounts from the cache; ``forget`` drops the cache entry."""
        async with self._lock:
            # Inside the lock: a get_token in progress would otherwise record its token after this.
            self._issued.clear()
            await asyncio.to_thread(self._sign_out_sync, forget)

    def cancel(self) -> None:
        """Stop a device-code wait in progress (the worker thread notices within one poll)."""
        self._cancel.set()

    # -- worker-thread parts ------------------------------------------------------------------

    def _load_cache(self) -> None:
        if self._cache_loaded:
            return
        self._cache_loaded = True
        if self._store is None:
            return
        blob = self._store.get(Kind.MSAL_CACHE, self._cache_account)
        if not blob:
            return
        try:
            data = decode_json(blob, limit=DOCUMENT_LIMIT)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            _register_cache_secrets(data)
            self._token_cache.deserialize(blob)
        except (ValueError, TypeError, AttributeError):
            log.warning("discarding an unreadable stored Azure AD cache; sign in again")
            self._cache = None  # a fresh one on next use
            self._store.delete(Kind.MSAL_CACHE, self._cache_account)

    def _save_cache(self, started_with: msal.TokenCache | None) -> None:
        # Written back only when msal changed it: every write is a D-Bus round trip. And only
        # when it is still the cache this call started with: a grant given up on (the grant
        # deadline) finishes in its thread later, maybe after a sign-out replaced the cache.
        if started_with is not self._cache:
            log.info("a late Azure AD answer is not stored: the token cache was replaced meanwhile")
            return
        cache = self._cache
        if self._store is None or cache is None or not cache.has_state_changed:
            return
        blob = cache.serialize()
        cache.has_state_changed = False
        self._store.set(Kind.MSAL_CACHE, self._cache_account, blob)

    def _build_app(self, authority: str, client_id: str) -> msal.PublicClientApplication:
        import msal
        import msal.authority

        host = urlsplit(authority).hostname or ""
        known = host in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
        return msal.PublicClientApplication(
            client_id,
            authority=authority,
            # Instance discovery asks login.microsoftonline.com about the host: only for its own.
            instance_discovery=None if known else False,
            http_client=http_session(self._ca_bundle),
            token_cache=self._token_cache,
            timeout=self._timeout,
        )

    def _silent_sync(
        self, app: msal.PublicClientApplication, scopes: list[str], force: bool
    ) -> dict[str, Any] | None:
        accounts = app.get_accounts(username=self.username) if self.username else []
        accounts = accounts or app.get_accounts()
        result: dict[str, Any] | None = None
        for account in accounts:
            result = app.acquire_token_silent(scopes, account=account, force_refresh=force)
            if result and "access_token" in result:
                break
            result = None
        self._register(result)
        self._save_cache(app.token_cache)
        return result

    def _device_flow_sync(
        self, app: msal.PublicClientApplication, flow: dict[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = app.acquire_token_by_device_flow(
            flow, exit_condition=lambda _flow: self._cancel.is_set()
        )
        self._register(result)
        self._save_cache(app.token_cache)
        return result

    def _browser_sync(self, app: msal.PublicClientApplication, scopes: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = app.acquire_token_interactive(
            scopes, login_hint=self.username, timeout=self._interactive_timeout
        )
        self._register(result)
        self._save_cache(app.token_cache)
        return result

    def _sign_out_sync(self, forget: bool) -> None:
        self._load_cache()
        for app in self._apps.values():
            for account in app.get_accounts():
                app.remove_account(account)
        self._save_cache(self._cache)
        if forget and self._store is not None:
            self._store.delete(Kind.MSAL_CACHE, self._cache_account)
        self._cache = None
        self._apps.clear()
        self._cache_loaded = forget
        self.signed_in_as = None

    @staticmethod
    def _register(result: Mapping[str, Any] | None) -> None:
        for key in ("access_token", "refresh_token", "id_token"):
            value = (result or {}).get(key)
            if isinstance(value, str):
                register_secret(value)

    # -- loop parts ---------------------------------------------------------------------------

    async def _round_trip(self, url: str, call: Callable[..., _R], *args: Any, **kw: Any) -> _R:
        """``call`` in a worker thread, given up after the grant deadline (msal's own timeout is
        per read: a server dripping one byte at a time never trips it). The thread finishes on
        its own; its result is dropped."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(call, *args, **kw), self._grant_deadline
            )
        except TimeoutError:
            raise grant_too_slow(host_of(url), self._grant_deadline) from None

    async def _app(self, authority: str, client_id: str) -> msal.PublicClientApplication:
        key = (authority, client_id)
        if key not in self._apps:
            try:
                self._apps[key] = await self._round_trip(
                    authority, self._build_app, authority, client_id
                )
            except _network_errors() as exc:
                raise unreachable(authority, exc) from None
            except ValueError as exc:
                log.warning("Azure AD authority %s rejected: %s", authority, exc)
                raise ProviderError(
                    f"The Azure AD authority {host_of(authority)} did not answer as an identity "
                    "provider. Check the authority address in the settings."
                ) from None
        return self._apps[key]

    async def _silent(
        self, app: msal.PublicClientApplication, scopes: list[str], *, force: bool
    ) -> dict[str, Any] | None:
        try:
            return await self._round_trip(
                self.authority or "", self._silent_sync, app, scopes, force
            )
        except _network_errors() as exc:
            raise unreachable(self.authority or "", exc) from None

    async def _interactive(
        self, app: msal.PublicClientApplication, scopes: list[str]
    ) -> dict[str, Any]:
        mode = self.interaction
        if mode == "none":
            raise InteractionRequired(_SIGN_IN_AGAIN)
        if mode == "browser" or (mode == "auto" and browser_available()):
            try:
                return await asyncio.to_thread(self._browser_sync, app, scopes)
            except _network_errors() as exc:
                raise unreachable(self.authority or "", exc) from None
        return await self._device_code(app, scopes)

    async def _device_code(
        self, app: msal.PublicClientApplication, scopes: list[str]
    ) -> dict[str, Any]:
        try:
            flow: dict[str, Any] = await self._round_trip(
                self.authority or "", app.initiate_device_flow, scopes=scopes
            )
        except _network_errors() as exc:
            raise unreachable(self.authority or "", exc) from None
        if "user_code" not in flow:
            raise _result_error(flow, host_of(self.authority or ""))
        code = DeviceCode(
            user_code=str(flow["user_code"]),
            verification_uri=str(flow.get("verification_uri") or flow.get("verification_url")),
            message=str(flow.get("message") or ""),
            expires_at=float(flow.get("expires_at") or time.time() + 900),
        )
        self._cancel.clear()  # before the callback: it may cancel straight away
        if self.on_device_code is None:
            log.warning("%s", code.text)
        else:
            self.on_device_code(code)
        try:
            return await asyncio.to_thread(self._device_flow_sync, app, flow)
        except _network_errors() as exc:
            raise unreachable(self.authority or "", exc) from None
        finally:
            # Cancelled while waiting: let the worker thread stop at its next poll.
            self._cancel.set()


def _register_cache_secrets(data: Mapping[str, Any]) -> None:
    for section in ("AccessToken", "RefreshToken", "IdToken"):
        entries = data.get(section)
        if isinstance(entries, dict):
            for entry in entries.values():
                if isinstance(entry, dict) and isinstance(entry.get("secret"), str):
                    register_secret(entry["secret"])


_AADSTS: dict[int, type[AuthError]] = {
    50053: AccountLocked,
    50055: PasswordExpired,
    50126: InvalidCredentials,
    50074: MfaRequired,
    50076: MfaRequired,
    50079: MfaRequired,
}


def _result_error(result: Mapping[str, Any], host: str) -> AuthError:
    error = str(result.get("error") or "") or None
    codes = result.get("error_codes") or []
    subcode = str(result.get("suberror") or "") or None
    for number in codes if isinstance(codes, list) else []:
        cls = _AADSTS.get(number) if isinstance(number, int) else None
        if cls is not None:
            return cls(code=error, subcode=subcode)
    if error == "interaction_required":
        return InteractionRequired(_SIGN_IN_AGAIN, code=error, subcode=subcode)
    if error in ("authorization_pending", "slow_down"):  # the wait was cancelled
        return InteractionRequired("Sign-in was cancelled.", code=error)
    if error == "expired_token":
        return InteractionRequired(
            "The device code expired before sign-in was completed. Try again.", code=error
        )
    if error in ("authorization_declined", "access_denied"):
        return InteractionRequired("Sign-in was declined. Try again.", code=error)
    if error in ("invalid_client", "unauthorized_client"):
        return ProviderError(
            f"{host} does not accept the Azure AD client id in the settings. "
            "Ask your administrator for the right one.",
            code=error,
        )
    return ProviderError(
        f"Azure AD sign-in failed at {host} ({error or 'no token'}). Try again, "
        "or ask your administrator.",
        code=error,
        subcode=subcode,
    )
