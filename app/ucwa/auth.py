"""Bearer sign-in for UCWA: WWW-Authenticate challenges, the token-provider port, the httpx.Auth."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable
from urllib.parse import urljoin

import httpx

from app.httpbody import ERROR_LIMIT, read_capped
from app.ucwa.errors import AuthenticationError, RemoteProtocolError
from app.ucwa.links import is_loopback, origin

log = logging.getLogger(__name__)

__all__ = [
    "MICROSOFT_SIGN_IN_HOSTS",
    "OUTER_DEADLINES",
    "REQUEST_DEADLINE",
    "AuthChallenge",
    "RenewsEarly",
    "TokenProvider",
    "UcwaAuth",
    "loopback_only",
    "parse_challenges",
]

# Azure AD's sign-in hosts in the public and national clouds (Microsoft's list of "Azure AD
# authentication endpoints", also msal's well-known authority hosts). A Bearer challenge naming any
# other authority is answered only when the organisation's trust rules vouch for its host
# (docs/protocol.md §3.4).
MICROSOFT_SIGN_IN_HOSTS: Final = frozenset(
    {
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.partner.microsoftonline.cn",
        "login.chinacloudapi.cn",
        "login.microsoftonline.de",
    }
)
_AUTHORITY_PARAMS: Final = ("authorization_uri", "authorization_url")

# Schemes this client can answer, best first. Other challenges (Negotiate, NTLM, ...) are ignored.
_PREFERRED_SCHEMES = ("msrtcoauth", "bearer")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PARAM_START = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*")


@dataclass(frozen=True)
class AuthChallenge:
    """One parsed challenge of a 401 answer, with everything a token provider needs."""

    scheme: str  # "MsRtcOAuth" or "Bearer", as the server spelled it
    token_url: str | None  # MsRtcOAuth href (absolute)
    grant_types: tuple[str, ...]  # e.g. ("urn:microsoft.rtc:windows", "password")
    resource: str  # origin "https://host[:port]" of the request that was challenged
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    refused_authority: str | None = None
    """Why the Azure AD authority the server named was dropped (it is not a Microsoft sign-in host
    nor the organisation's); a provider that needs one says this instead of "none was given"."""

    def __repr__(self) -> str:  # params may hold opaque server data; keep logs short
        return (
            f"AuthChallenge({self.scheme}, token_url={self.token_url!r}, "
            f"resource={self.resource!r})"
        )


class TokenProvider(Protocol):
    async def get_token(self, challenge: AuthChallenge, *, stale: str | None = None) -> str:
        """Bearer access token for challenge.resource (e.g. "cwt=..."). `stale` = the token that was
        just rejected: never return it again. Any exception fails sign-in; ucwa wraps it in
        AuthenticationError (original in __cause__)."""
        ...


@runtime_checkable
class RenewsEarly(Protocol):
    """A TokenProvider that knows its tokens' lifetimes. UcwaAuth asks it before each request and,
    once a token is due, gets a fresh one (``get_token`` with ``stale=None``) rather than waiting
    for the server's 401 (docs/protocol.md §3.3)."""

    def renewal_due(self, token: str) -> bool:
        """True once ``token`` (a value this provider returned) should be renewed; False for a
        token it does not know."""
        ...


# The deadline of the request being sent and its length, set by the transport. Sign-in may ask a
# person (password, device code, browser): that must not count against a 30 s request budget, so
# UcwaAuth pauses the deadline while the provider runs and gives the re-sent request a fresh one.
REQUEST_DEADLINE: contextvars.ContextVar[tuple[asyncio.Timeout, float] | None] = (
    contextvars.ContextVar("ucwa_request_deadline", default=None)
)


# Deadlines around several requests (discovery as a whole) pause the same way, and resume with
# the time they had left.
OUTER_DEADLINES: contextvars.ContextVar[tuple[asyncio.Timeout, ...]] = contextvars.ContextVar(
    "ucwa_outer_deadlines", default=()
)


@contextlib.contextmanager
def _deadline_paused() -> Iterator[None]:
    now = asyncio.get_running_loop().time()
    outer = [(d, (d.when() or now) - now) for d in OUTER_DEADLINES.get() if not d.expired()]
    for deadline, _left in outer:
        deadline.reschedule(None)
    current = REQUEST_DEADLINE.get()
    if current is not None:
        current[0].reschedule(None)
    try:
        yield
    finally:
        now = asyncio.get_running_loop().time()
        if current is not None and not current[0].expired():
            current[0].reschedule(now + current[1])
        for deadline, left in outer:
            deadline.reschedule(now + left)


def loopback_only(url_origin: str) -> bool:
    """The default trust predicate: answer challenges only from this machine."""
    return is_loopback(httpx.URL(url_origin).host)


def _split_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 7235 challenges of one header value; tolerates unquoted values with ':' or '/'."""
    found: list[tuple[str, dict[str, str]]] = []
    pos, n = 0, len(header)
    last_param: str | None = None
    while pos < n:
        while pos < n and header[pos] in " \t,":
            pos += 1
        if pos >= n:
            break
        param = _PARAM_START.match(header, pos)
        if param and found:
            name = param.group(1).lower()
            pos = param.end()
            if pos < n and header[pos] == '"':
                value, pos = _quoted(header, pos)
            else:
                end = header.find(",", pos)
                end = n if end < 0 else end
                value, pos = header[pos:end].strip(), end
            found[-1][1][name] = value
            last_param = name
            continue
        token = _TOKEN.match(header, pos)
        after = token.end() if token else pos
        bare = after >= n or header[after] == ","
        if token and (bare or header[after] in " \t") and not (bare and last_param == "grant_type"):
            # A token followed by a space (or standing alone) starts a new scheme: "Bearer ...",
            # "Negotiate". Inside an unquoted grant_type list a bare word is one more grant type.
            found.append((token.group(0), {}))
            last_param = None
            pos = after
            continue
        # Something else (e.g. "urn:microsoft.rtc:windows" after an unquoted comma list): it belongs
        # to the previous unquoted value.
        end = header.find(",", pos)
        end = n if end < 0 else end
        piece = header[pos:end].strip()
        if found and last_param is not None and piece:
            params = found[-1][1]
            params[last_param] = f"{params[last_param]},{piece}"
        pos = end
    return found


def _quoted(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    pos += 1  # opening quote
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    return "".join(out), pos  # unterminated: take the rest rather than fail


def parse_challenges(headers: Iterable[str], request_url: httpx.URL | str) -> list[AuthChallenge]:
    """Every challenge in the given WWW-Authenticate header values, in order of appearance."""
    url = httpx.URL(request_url) if isinstance(request_url, str) else request_url
    resource = origin(str(url))
    result: list[AuthChallenge] = []
    for header in headers:
        for scheme, params in _split_challenges(header):
            href = params.get("href")
            try:
                token_url = urljoin(str(url), href) if href else None
            except ValueError:  # e.g. a broken IPv6 literal: unusable, not fatal
                token_url = None
            grants = tuple(g.strip() for g in params.get("grant_type", "").split(",") if g.strip())
            result.append(
                AuthChallenge(scheme, token_url, grants, resource, MappingProxyType(dict(params)))
            )
    return result


def select_challenge(challenges: Iterable[AuthChallenge]) -> AuthChallenge | None:
    """The challenge we answer: MsRtcOAuth (web ticket) first, then Bearer (Azure AD)."""
    by_scheme = {c.scheme.lower(): c for c in reversed(list(challenges))}
    for scheme in _PREFERRED_SCHEMES:
        if scheme in by_scheme:
            chosen = by_scheme[scheme]
            bearer = by_scheme.get("bearer")
            if bearer is not None and bearer is not chosen:
                # A hybrid server names its Azure AD authority only in the Bearer challenge
                # beside MsRtcOAuth; keep it so the provider can pick modern auth by itself.
                merged = {**bearer.params, **chosen.params}
                chosen = replace(chosen, params=MappingProxyType(merged))
            return chosen
    return None


class UcwaAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` per origin; on a 401 refreshes (single-flight) and retries.

    One refresh per refused token of ours; when the first token of a run was the provider's kept
    one (an earlier run's, from the keyring) and is refused, the provider is asked once more.

    A token is only ever attached to requests for the origin it was issued for, so a redirect to
    another pool can never leak it. Passed per request by the transport, so token endpoints can be
    called on the same AsyncClient without it.

    ``allowed(origin)`` says which servers belong to the user's organisation (the session builds
    it from discovery's trust rules). A 401 from any other origin, or a challenge naming a token
    URL on any other origin, is refused: answering it would hand the password to that server.
    A Bearer challenge's Azure AD authority must be a Microsoft sign-in host or pass the same
    rules. The last accepted challenge of each origin is kept: a later 401 without a challenge
    header is answered with that origin's token URL.
    """

    requires_request_body = True  # the body must be replayable for the one retry

    def __init__(
        self, tokens: TokenProvider, *, allowed: Callable[[str], bool] = loopback_only
    ) -> None:
        self._tokens = tokens
        self._allowed = allowed
        self._cache: dict[str, str] = {}
        self._challenges: dict[str, AuthChallenge] = {}  # per origin: where its tokens come from
        self._renewed_early: dict[str, str] = {}  # per origin: the token last renewed ahead
        self._locks: dict[str, asyncio.Lock] = {}
        self.refreshes = 0  # how many times the provider was asked (tests, diagnostics)

    def token_for(self, url_origin: str) -> str | None:
        return self._cache.get(url_origin)

    def forget(self) -> None:
        """Drop every cached token (sign-out)."""
        self._cache.clear()
        self._renewed_early.clear()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("UcwaAuth is async-only; use httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        here = origin(str(request.url))
        sent = self._cache.get(here)
        if sent is not None and self._due(here, sent):
            sent = await self._renew_early(here, sent)
        if sent is not None:
            request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401:
            return
        challenge = select_challenge(
            parse_challenges(response.headers.get_list("www-authenticate"), request.url)
        )
        if challenge is None:
            # Some front ends drop the header on later 401s: the origin's token URL still holds.
            challenge = self._challenges.get(here)
            if challenge is None:
                return  # nothing we can answer; the transport reports the 401
            log.info("401 without a challenge from %s; using its known token URL", here)
        host = request.url.host
        if not self._allowed(here):
            log.warning("refused to sign in to %s: not a trusted server", here)
            raise AuthenticationError(
                f"{host} asked for your sign-in, but it is not one of your organisation's "
                "servers; the app did not send your credentials.",
                code="UntrustedServer",
            )
        if challenge.token_url is not None and not self._token_url_allowed(challenge.token_url):
            where = httpx.URL(challenge.token_url).host
            log.warning("refused token URL on %s named by %s", where, here)
            raise AuthenticationError(
                f"{host} sent sign-in to {where}, which is not one of your organisation's "
                "servers; the app did not send your credentials.",
                code="UntrustedServer",
            )
        challenge = self._checked_authority(challenge, host)
        self._challenges[here] = challenge
        # httpx reads every answer of an auth flow in full once the flow moves on; giving it the
        # capped body keeps a hostile 401 (a gzip bomb) from being read without limit.
        response._content = await read_capped(response, ERROR_LIMIT, truncate=True)
        with _deadline_paused():
            token = await self._refresh(here, challenge, sent)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401 or sent is not None:
            return  # a token of ours was refused already: this 401 goes back to the caller
        # The provider may have answered with a token it kept (the keyring's, from an earlier
        # run) that this server no longer takes: it restarted with new keys, or revoked it. Asked
        # again with that token named stale, the provider signs in afresh, once.
        response._content = await read_capped(response, ERROR_LIMIT, truncate=True)
        with _deadline_paused():
            fresh = await self._refresh(here, challenge, token)
        if fresh != token:
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request  # the last retry; another 401 goes back to the caller

    def _checked_authority(self, challenge: AuthChallenge, host: str) -> AuthChallenge:
        """``challenge`` if its Azure AD authority (if any) may be used. An MsRtcOAuth challenge
        offering the password grant loses an untrusted one (the web ticket does not need it);
        any other challenge, which only Azure AD could answer, is refused."""
        uri = next((challenge.params[k] for k in _AUTHORITY_PARAMS if challenge.params.get(k)), "")
        if not uri:
            return challenge
        reason = self._authority_refusal(uri)
        if reason is None:
            return challenge
        password_offered = not challenge.grant_types or "password" in challenge.grant_types
        if challenge.scheme.lower() != "bearer" and password_offered:
            log.warning("ignoring the Azure AD authority named by %s: %s", host, reason)
            kept = {k: v for k, v in challenge.params.items() if k not in _AUTHORITY_PARAMS}
            refused = f"{host} sent Azure AD sign-in to {reason}; the app refused it."
            return replace(challenge, params=MappingProxyType(kept), refused_authority=refused)
        log.warning("refused Azure AD authority named by %s: %s", host, reason)
        raise AuthenticationError(
            f"{host} sent sign-in to {reason}; the app did not send your credentials.",
            code="UntrustedServer",
        )

    def _authority_refusal(self, uri: str) -> str | None:
        try:
            url = httpx.URL(uri)
            where = origin(str(url))
        except (httpx.InvalidURL, RemoteProtocolError):
            return "an authority address that is not a valid URL"
        if url.scheme == "https" and url.host.lower() in MICROSOFT_SIGN_IN_HOSTS:
            return None
        if self._allowed(where):
            return None
        return (
            f"{url.host or uri[:100]}, which is neither a Microsoft sign-in service nor one of "
            "your organisation's servers"
        )

    def _due(self, key: str, token: str) -> bool:
        tokens = self._tokens
        return (
            key in self._challenges
            and self._renewed_early.get(key) != token
            and isinstance(tokens, RenewsEarly)
            and tokens.renewal_due(token)
        )

    async def _renew_early(self, key: str, token: str) -> str:
        """A fresh token for ``key`` before ``token`` expires; ``token`` itself if that fails (it
        is still valid, and a 401 would renew it the usual way)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._cache.get(key)
            if current is not None and current != token:
                return current  # another request renewed it while we waited
            self._renewed_early[key] = token  # once per token, whatever the outcome
            self.refreshes += 1
            try:
                with _deadline_paused():
                    fresh = await self._tokens.get_token(self._challenges[key])
            except Exception as exc:  # the current token still works; the 401 path remains
                log.info("early token renewal for %s failed (%s)", key, type(exc).__name__)
                return token
            if fresh and fresh != token:
                self._cache[key] = fresh
                log.debug("renewed the token for %s before it expired", key)
                return fresh
            return token

    def _token_url_allowed(self, token_url: str) -> bool:
        try:
            return self._allowed(origin(str(httpx.URL(token_url))))
        except (RemoteProtocolError, httpx.InvalidURL):
            return False  # a token URL we cannot even read is not one we send a password to

    async def _refresh(self, key: str, challenge: AuthChallenge, stale: str | None) -> str:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._cache.get(key)
            if current is not None and current != stale:
                return current  # another request refreshed while we waited
            self.refreshes += 1
            try:
                token = await self._tokens.get_token(challenge, stale=stale)
            except AuthenticationError:
                raise
            except Exception as exc:
                raise _wrap(exc) from exc
            if not token:
                raise AuthenticationError("The sign-in service returned no token.")
            self._cache[key] = token
            log.debug("new token for %s", key)
            return token


def _wrap(exc: Exception) -> AuthenticationError:
    # Providers' errors carry a plain `user_message`; never echo other text (it may hold secrets).
    message = getattr(exc, "user_message", None)
    if not isinstance(message, str) or not message:
        message = "Sign-in failed."
    code = getattr(exc, "code", None)
    subcode = getattr(exc, "subcode", None)
    return AuthenticationError(
        message,
        code=code if isinstance(code, str) else None,
        subcode=subcode if isinstance(subcode, str) else None,
    )
