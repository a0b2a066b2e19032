"""WebTicketProvider: UCWA password grant (docs/protocol.md §3.1); tokens in memory and keyring."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.auth.deadlines import GRANT_DEADLINE_S, grant_too_slow
from app.auth.errors import (
    AccountLocked,
    AuthError,
    InteractionRequired,
    InvalidCredentials,
    MfaRequired,
    PasswordExpired,
    ProviderError,
    ProviderUnreachable,
)
from app.auth.httperrors import host_of, unreachable
from app.auth.store import Kind, TokenStore
from app.auth.tokens import AccessToken, parse_expires_in
from app.hosts import is_loopback
from app.httpbody import (
    ACCEPT_ENCODING,
    DOCUMENT_LIMIT,
    BodyError,
    decode_json,
    read_capped,
    with_body,
)
from app.logs import register_secret

log = logging.getLogger(__name__)

PasswordPrompt = Callable[[str], Awaitable[str | None]]
"""Asks the person for the password of the given user; None = they cancelled."""

_NOT_OFFERED = (
    "This server does not offer password sign-in (web ticket). Choose Azure AD sign-in instead."
)


class WebTicketProvider:
    """A TokenProvider (app.ucwa.auth) for MsRtcOAuth challenges, read by duck typing.

    The password is used from, in order: the constructor, the keyring (only if the user chose
    "Remember password"), ``password_prompt``. Without any of them an expired token raises
    InteractionRequired so the UI can ask. A password given for this run stays in memory only.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        username: str,
        password: str | None = None,
        *,
        store: TokenStore | None = None,
        password_prompt: PasswordPrompt | None = None,
        remember_password: bool = False,
        clock: Callable[[], float] = time.time,
        grant_deadline_s: float = GRANT_DEADLINE_S,
    ) -> None:
        register_secret(password)
        self._grant_deadline = grant_deadline_s
        self._http = http
        self.username = username
        self._password = password or None
        self._store = store
        self._prompt = password_prompt
        self.remember_password = remember_password
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        self.grants = 0  # token-endpoint round trips made by this provider (for diagnostics)

    # -- TokenProvider ------------------------------------------------------------------------

    async def get_token(self, challenge: Any, *, stale: str | None = None) -> str:
        """Bearer token value ("cwt=...") for ``challenge.resource``; never returns ``stale``."""
        async with self._lock:
            await self._load()
            resource = str(getattr(challenge, "resource", "") or "")
            cached = self._tokens.get(resource)
            if cached is not None and stale is not None and cached.value == stale:
                await self._drop(resource)
                cached = None
            now = self._clock()
            if cached is not None and not cached.expired(now):
                if not cached.due_for_refresh(now) or not await self._can_renew_silently():
                    return cached.value
                try:
                    return (await self._renew(challenge, resource, stale)).value
                except AuthError as exc:
                    # Renewing early is an optimisation; the old token is still good for a while.
                    log.info("early web-ticket renewal failed (%s); keeping the current one", exc)
                    return cached.value
            elif cached is not None:
                await self._drop(resource)
            return (await self._renew(challenge, resource, stale)).value

    # -- sign-in management -------------------------------------------------------------------

    def set_password(self, password: str | None, *, remember: bool | None = None) -> None:
        """The password the person just typed (used for the next grant; never logged)."""
        register_secret(password)
        self._password = password or None
        if remember is not None:
            self.remember_password = remember

    async def sign_out(self, *, forget_password: bool = True) -> None:
        """Drop tokens (memory and keyring) and, unless told otherwise, the remembered password."""
        async with self._lock:
            self._tokens.clear()
            self._loaded = True
            self._password = None
            if self._store is not None:
                await self._store.adelete(Kind.WEBTICKET, self.username)
                if forget_password:
                    await self._store.adelete(Kind.PASSWORD, self.username)

    def cached_token(self, resource: str) -> AccessToken | None:
        return self._tokens.get(resource)

    def renewal_due(self, token: str) -> bool:
        """app.ucwa.auth.RenewsEarly: is this web ticket due for renewal? (``get_token`` then
        renews it only if no person has to be asked, and otherwise returns it unchanged.)"""
        found = next((t for t in self._tokens.values() if t.value == token), None)
        return found is not None and found.due_for_refresh(self._clock())

    # -- internals ----------------------------------------------------------------------------

    async def _renew(self, challenge: Any, resource: str, stale: str | None) -> AccessToken:
        token_url = getattr(challenge, "token_url", None)
        grant_types = tuple(getattr(challenge, "grant_types", ()) or ())
        scheme = str(getattr(challenge, "scheme", "MsRtcOAuth"))
        if not token_url or scheme.lower() != "msrtcoauth":
            raise ProviderError(_NOT_OFFERED)
        if grant_types and "password" not in grant_types:
            raise ProviderError(_NOT_OFFERED, code="unsupported_grant_type")
        _require_safe_url(token_url)
        password, remembered = await self._password_for_grant()
        try:
            token = await self._grant(token_url, resource, password)
        except InvalidCredentials:
            if remembered and self._store is not None:
                # The password changed since it was remembered: forget it, ask next time.
                await self._store.adelete(Kind.PASSWORD, self.username)
            if self._password == password:
                self._password = None
            raise
        if token.value == stale:
            raise ProviderError("The server issued the token it had just rejected. Sign in again.")
        self._password = password
        self._tokens[resource] = token
        await self._persist()
        if self._store is not None:
            if not self.remember_password:
                # "Remember password" unticked since: the keyring must not keep it any longer.
                await self._store.adelete(Kind.PASSWORD, self.username)
            elif not remembered:
                await self._store.aset(Kind.PASSWORD, self.username, password)
        return token

    async def _password_for_grant(self) -> tuple[str, bool]:
        """(password, came from the keyring)."""
        if self._password:
            return self._password, False
        if self._store is not None:
            remembered = await self._store.aget(Kind.PASSWORD, self.username)
            if remembered:
                return remembered, True
        if self._prompt is not None:
            typed = await self._prompt(self.username)
            if typed:
                register_secret(typed)
                return typed, False
        raise InteractionRequired()

    async def _can_renew_silently(self) -> bool:
        if self._password:
            return True
        if self._store is None:
            return False
        return bool(await self._store.aget(Kind.PASSWORD, self.username))

    async def _grant(self, token_url: str, resource: str, password: str) -> AccessToken:
        form = {"grant_type": "password", "username": self.username, "password": password}
        log.info("requesting a web ticket for %s from %s", self.username, host_of(token_url))
        self.grants += 1
        try:
            request = self._http.build_request(
                "POST",
                token_url,
                data=form,
                headers={"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            )
            # The whole exchange, body included: per-read timeouts never fire on a slow drip.
            async with asyncio.timeout(self._grant_deadline):
                # A redirect must never carry the password elsewhere: none is followed.
                streamed = await self._http.send(request, follow_redirects=False, stream=True)
                raw = await read_capped(streamed, DOCUMENT_LIMIT, truncate=True)
        except BodyError:
            raw = b""  # compressed in a way we cannot read: judged by its status alone
        except TimeoutError:
            raise grant_too_slow(host_of(token_url), self._grant_deadline) from None
        except httpx.HTTPError as exc:
            raise unreachable(token_url, exc) from None
        response = with_body(streamed, raw)
        body = _json_body(response)
        if response.status_code == 200 and isinstance(body.get("access_token"), str):
            value = str(body["access_token"])
            expires_in = parse_expires_in(body.get("expires_in"))
            token = AccessToken.issued(value, expires_in, resource=resource, clock=self._clock)
            log.info("web ticket for %s valid for %d s", resource, int(expires_in))
            return token
        raise _grant_error(response.status_code, body, response.headers, host_of(token_url))

    async def _load(self) -> None:
        if self._loaded or self._store is None:
            self._loaded = True
            return
        self._loaded = True
        raw = await self._store.aget(Kind.WEBTICKET, self.username)
        if raw is None:
            return
        try:
            data = decode_json(raw, limit=DOCUMENT_LIMIT)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            tokens = {str(k): AccessToken.from_dict(v) for k, v in data.items()}
        except ValueError:
            log.warning("discarding an unreadable stored web ticket for %s", self.username)
            await self._store.adelete(Kind.WEBTICKET, self.username)
            return
        now = self._clock()
        self._tokens = {k: t for k, t in tokens.items() if not t.expired(now)}

    async def _persist(self) -> None:
        if self._store is None:
            return
        if self._tokens:
            data = json.dumps({k: t.to_dict() for k, t in self._tokens.items()})
            await self._store.aset(Kind.WEBTICKET, self.username, data)
        else:
            await self._store.adelete(Kind.WEBTICKET, self.username)

    async def _drop(self, resource: str) -> None:
        self._tokens.pop(resource, None)
        await self._persist()


def _require_safe_url(url: str) -> None:
    """A password goes over TLS, except to this machine (the simulator, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return
    raise ProviderError(
        f"The server asked for the password over an unencrypted connection ({parts.hostname}); "
        "refusing. Ask your administrator for the https address."
    )


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = decode_json(response.content, limit=DOCUMENT_LIMIT)
    except BodyError:  # cut short, not JSON, too deep: only the status is left to judge
        return {}
    return body if isinstance(body, dict) else {}


# Words in a subcode, error_description or X-Ms-Diagnostics that name the reason; compared in
# lower case. Azure AD's AADSTS numbers are included because ADFS/AAD pass them through.
_REASONS: tuple[tuple[type[AuthError], tuple[str, ...]], ...] = (
    (AccountLocked, ("accountlocked", "account is locked", "locked out", "aadsts50053")),
    (
        PasswordExpired,
        ("passwordexpired", "password expired", "password has expired", "aadsts50055"),
    ),
    (
        MfaRequired,
        ("mfarequired", "multi-factor", "interaction_required", "aadsts50076", "aadsts50079"),
    ),
)


def _grant_error(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str], host: str
) -> AuthError:
    error = str(body.get("error") or body.get("code") or "") or None
    subcode = str(body.get("subcode") or "") or None
    diagnostics = headers.get("x-ms-diagnostics")
    text = " ".join(
        str(x)
        for x in (subcode, body.get("error_description"), body.get("message"), diagnostics)
        if x
    ).lower()
    codes = {"code": error, "subcode": subcode, "diagnostics": diagnostics}
    for cls, words in _REASONS:
        if any(w in text for w in words):
            return cls(**codes)
    if status >= 500:
        return ProviderUnreachable(
            host,
            f"The sign-in server {host} had a problem (HTTP {status}). Try again in a few minutes.",
            code=error,
            subcode=subcode,
        )
    if error == "invalid_grant" and body.get("ms_rtc_passiveauthuri"):
        return InteractionRequired(
            "This server signs in through a web page (ADFS). Choose Azure AD sign-in instead.",
            **codes,
        )
    if error == "invalid_grant" or status == 401:
        return InvalidCredentials(**codes)
    if error == "unsupported_grant_type":
        return ProviderError(_NOT_OFFERED, **codes)
    return ProviderError(
        f"The sign-in server refused the request ({error or f'HTTP {status}'}). "
        "Try again later or contact your administrator.",
        **codes,
    )
