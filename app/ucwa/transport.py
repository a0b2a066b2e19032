"""UCWA over the injected httpx.AsyncClient: bounded bodies, JSON, typed errors, retries."""

from __future__ import annotations

import asyncio
import contextvars
import json  # encoding request bodies only; answers are decoded by app.httpbody
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import httpx

import app.httpbody as httpbody
from app.httpbody import (
    ACCEPT_ENCODING,
    DOCUMENT_LIMIT,
    ERROR_LIMIT,
    BodyError,
    read_capped,
    with_body,
)
from app.ucwa.auth import REQUEST_DEADLINE, UcwaAuth
from app.ucwa.errors import (
    AuthenticationError,
    CertificateError,
    RemoteProtocolError,
    ServerError,
    TransportError,
    UnreadableBody,
)
from app.ucwa.models import parse_error_body
from app.ucwa.retry import Backoff, parse_retry_after

log = logging.getLogger(__name__)

__all__ = ["Sleep", "Transport"]

Sleep = Callable[[float], Awaitable[None]]

_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# 429 says the whole request was rejected unprocessed: safe to repeat whenever retries are allowed.
_BUSY: Final = frozenset({429})
# These may have been half-done (docs/protocol.md §8.4: 500/503/504 for idempotent requests only):
# repeating a hold/resume/stop POST could act twice.
_FLAKY: Final = frozenset({500, 502, 503, 504})
# Set while the 409 MakeMeAvailableRequired hook runs: its own requests never call it again.
_MAKING_AVAILABLE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ucwa_making_available", default=False
)


class Transport:
    """Sends UCWA requests; every wait is bounded by ``asyncio.timeout`` (in-process transports
    ignore httpx's own timeouts; see docs/architecture.md)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        auth: UcwaAuth | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        timeout_s: float = 30.0,
        max_attempts: int = 4,
        max_retry_after_s: float = 30.0,
        rng: Callable[[], float] = random.random,
        grace_s: float = 5.0,
    ) -> None:
        self._http = http
        self._grace_s = grace_s
        self.auth = auth
        self._sleep = sleep
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._max_retry_after_s = max_retry_after_s
        self._rng = rng
        self.requests_sent = 0  # every request put on the wire, retries included (bench, tests)
        # Called on 409 MakeMeAvailableRequired before the request is repeated once (the session
        # makes the application available again; docs/protocol.md §4.3).
        self.on_make_me_available_required: Callable[[], Awaitable[None]] | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        retry: bool = True,
        idempotent: bool | None = None,
        authenticate: bool = True,
        allow_redirects_status: bool = False,
        extensions: Mapping[str, Any] | None = None,
        limit: int = DOCUMENT_LIMIT,
    ) -> httpx.Response:
        """Send one request; raise a typed error for anything but 2xx (and 3xx if allowed).

        The returned response is fully read: at most ``limit`` decoded bytes for a success
        (UnreadableBody past it), the first ERROR_LIMIT bytes of an error answer.

        ``retry=False`` turns every automatic repeat off (startPhoneAudio: a repeat may place a
        second call). Otherwise 429 is repeated with backoff, and 500/502/503/504/network errors
        only for idempotent requests (docs/protocol.md §8.4). A 409 MakeMeAvailableRequired did
        nothing, so it is repeated once, also with ``retry=False``, after
        ``on_make_me_available_required`` ran.
        """
        args = (method, url, json_body, timeout_s, retry, idempotent, authenticate)
        try:
            return await self._request(*args, allow_redirects_status, extensions, limit)
        except ServerError as exc:
            hook = self.on_make_me_available_required
            if hook is None or _MAKING_AVAILABLE.get() or not _needs_availability(exc):
                raise
            token = _MAKING_AVAILABLE.set(True)
            try:
                await hook()
            finally:
                _MAKING_AVAILABLE.reset(token)
            return await self._request(*args, allow_redirects_status, extensions, limit)

    async def _request(
        self,
        method: str,
        url: str,
        json_body: Mapping[str, Any] | None,
        timeout_s: float | None,
        retry: bool,
        idempotent: bool | None,
        authenticate: bool,
        allow_redirects_status: bool,
        extensions: Mapping[str, Any] | None,
        limit: int,
    ) -> httpx.Response:
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        backoff = Backoff(rng=self._rng, cap=self._max_retry_after_s)
        attempts = self._max_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self._send(
                    method, url, json_body, timeout_s, authenticate, extensions, limit
                )
            except TransportError as exc:
                if last or not idempotent or isinstance(exc, CertificateError):
                    raise
                await self._sleep(backoff.next())
                continue
            status = response.status_code
            if status < 300 or (allow_redirects_status and status < 400):
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            repeatable = status in _BUSY or (status in _FLAKY and idempotent)
            if repeatable and not last and not _is_callback_channel_error(response):
                delay = backoff.next(retry_after)
                log.info("%s %s: %d; retrying in %.1f s", method, _short(url), status, delay)
                await self._sleep(delay)
                continue
            raise self._error(response, retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        url: str,
        json_body: Mapping[str, Any] | None,
        timeout_s: float | None,
        authenticate: bool,
        extensions: Mapping[str, Any] | None,
        limit: int,
    ) -> httpx.Response:
        budget = timeout_s if timeout_s is not None else self._timeout_s
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            request = self._http.build_request(
                method,
                url,
                headers=headers,
                content=content,
                timeout=httpx.Timeout(budget, connect=min(budget, 15.0)),
                extensions=dict(extensions or {}),
            )
        except httpx.InvalidURL as exc:
            # URLs come from the server; InvalidURL is no httpx.HTTPError and would escape typed
            # handling (e.g. kill the event-channel task).
            raise RemoteProtocolError(f"The server sent an unusable URL: {url[:200]!r}") from exc
        self.requests_sent += 1
        within_s = budget + self._grace_s
        try:
            # A little longer than httpx's own read timeout so that one normally fires first.
            async with asyncio.timeout(within_s) as deadline:
                # UcwaAuth pauses this deadline while a person signs in (auth.REQUEST_DEADLINE).
                token = REQUEST_DEADLINE.set((deadline, within_s))
                try:
                    response = await self._http.send(
                        request, auth=self.auth if authenticate and self.auth else None, stream=True
                    )
                finally:
                    REQUEST_DEADLINE.reset(token)
                # Read within the same deadline: a server dripping one byte at a time is bounded.
                if response.status_code < 300:
                    body = await read_capped(response, limit)
                else:
                    body = await read_capped(response, ERROR_LIMIT, truncate=True)
                return with_body(response, body)
        except BodyError as exc:
            raise UnreadableBody(str(exc)) from exc
        except httpx.InvalidURL as exc:
            raise RemoteProtocolError(f"The server sent an unusable URL: {url[:200]!r}") from exc
        except TimeoutError as exc:
            raise TransportError(f"{request.url.host} did not answer in time.") from exc
        except httpx.TimeoutException as exc:
            raise TransportError(f"{request.url.host} did not answer in time.") from exc
        except httpx.HTTPError as exc:
            raise _map_http_error(exc, request.url.host) from exc

    def _error(self, response: httpx.Response, retry_after: float | None) -> Exception:
        status = response.status_code
        if status == 401:
            return AuthenticationError(
                "The server did not accept the sign-in; please sign in again.", code="Unauthorized"
            )
        error = parse_error_body(status, response.headers, response.content)
        if retry_after is not None and error.retry_after is None:
            error.retry_after = retry_after
        if 300 <= status < 400:
            return ServerError(status, message=f"Unexpected redirect ({status}) from the server")
        return error

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode the JSON body."""
        response = await self.request("GET", url, **kwargs)
        return await decode_json(response)

    async def post_json(
        self, url: str, body: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.request("POST", url, json_body=body, **kwargs)


async def decode_json(response: httpx.Response, *, limit: int = DOCUMENT_LIMIT) -> Any:
    """The JSON document of a read response (None for an empty body); UnreadableBody otherwise."""
    if not response.content:
        return None
    try:
        return httpbody.decode_json(
            response.content, limit=limit, content_type=response.headers.get("content-type")
        )
    except BodyError as exc:
        raise UnreadableBody(str(exc)) from exc


def _needs_availability(exc: ServerError) -> bool:
    return exc.status == 409 and (exc.subcode or "").casefold() == "makemeavailablerequired"


def _is_callback_channel_error(response: httpx.Response) -> bool:
    # Needs a parked P-GET first, which only the session can arrange: don't blindly repeat.
    return response.status_code == 500 and b"CallbackChannelError" in response.content[:2048]


def _map_http_error(exc: httpx.HTTPError, host: str) -> TransportError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return CertificateError(host, cause.verify_message or "")
        if "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return CertificateError(host)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return TransportError(f"Could not connect to {host}.")
    return TransportError(f"The connection to {host} failed ({type(exc).__name__}).")


def _short(url: str) -> str:
    return httpx.URL(url).path
