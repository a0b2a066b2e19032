"""Errors raised by the UCWA client.

    UcwaError
    ├── LocalError                 we refused before sending anything
    │   ├── InvalidNumber          a dialled or callback number that is not a phone number
    │   └── LocalProtocolError     an action the protocol state does not allow (hold not offered)
    ├── TransportError             network trouble: connect/read failure, timeout, TLS
    │   └── CertificateError       the server's certificate is not trusted (names the host)
    ├── AuthenticationError        sign-in failed (wrong password, locked account, provider error)
    ├── ServerError                an HTTP error answer with a UCWA error body (status/code/subcode)
    │   ├── ApplicationGone        404 ApplicationNotFound / 410: the application must be recreated
    │   └── SearchNotAllowed       403 from people/search: this account may not search
    ├── RemoteProtocolError        the server sent something we cannot interpret
    │   └── UnreadableBody         a body too large, too deep, not JSON, not UTF-8 or malformed
    ├── SessionTakenOver           the event channel was replaced by another client, twice in a row
    └── CallFailed                 a call ended unsuccessfully; carries the CallReason

Every error has ``user_message``: one plain sentence for a person, never a traceback or a secret.
"""

from __future__ import annotations

from app.ucwa.reasons import CallReason

__all__ = [
    "ApplicationGone",
    "AuthenticationError",
    "CallFailed",
    "CertificateError",
    "InvalidNumber",
    "LocalError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "SearchNotAllowed",
    "ServerError",
    "SessionTakenOver",
    "TransportError",
    "UcwaError",
    "UnreadableBody",
]


class UcwaError(Exception):
    """Root of every error raised by app.ucwa."""

    @property
    def user_message(self) -> str:
        return str(self)


class LocalError(UcwaError):
    """We refused the request ourselves; nothing was sent."""


class InvalidNumber(LocalError):
    """A phone number that cannot be normalised to E.164."""


class LocalProtocolError(LocalError):
    """We were asked for something the current protocol state does not allow."""


class TransportError(UcwaError):
    """Network trouble: the server could not be reached or did not answer in time."""


class CertificateError(TransportError):
    """TLS verification failed for ``host``; never offer to turn verification off."""

    def __init__(self, host: str, detail: str = "") -> None:
        super().__init__(
            f"The certificate of {host} is not trusted{': ' + detail if detail else ''}"
        )
        self.host = host


class AuthenticationError(UcwaError):
    """Sign-in failed. ``code``/``subcode`` come from the token endpoint or the server."""

    def __init__(
        self, message: str, *, code: str | None = None, subcode: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode


class ServerError(UcwaError):
    """The server answered with an HTTP error (and usually a UCWA error body)."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        subcode: str | None = None,
        *,
        message: str | None = None,
        diagnostics: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        text = (
            message
            or f"The server answered {status} {code or ''}{'/' + subcode if subcode else ''}"
        )
        super().__init__(text.strip())
        self.status = status
        self.code = code
        self.subcode = subcode
        self.diagnostics = diagnostics  # the X-Ms-Diagnostics header, for the Details view
        self.retry_after = retry_after


class ApplicationGone(ServerError):
    """The UCWA application no longer exists (404 ApplicationNotFound, 410 Gone)."""


class SearchNotAllowed(ServerError):
    """The server refused the address-book search (403): the account may not search at all."""

    MESSAGE = "Your account is not allowed to search the address book; type a number instead."

    @property
    def user_message(self) -> str:
        return self.MESSAGE


class RemoteProtocolError(UcwaError):
    """The server sent something this client cannot interpret."""


class UnreadableBody(RemoteProtocolError):
    """A body refused by app.httpbody (over its size limit, nested too deeply, not UTF-8, not
    JSON, malformed); handled like any answer we cannot interpret."""


class SessionTakenOver(UcwaError):
    """Another client took over this application's event channel."""


class CallFailed(UcwaError):
    """A call ended without success; ``reason`` says why in words and codes."""

    def __init__(self, reason: CallReason) -> None:
        super().__init__(reason.message)
        self.reason = reason
