"""What a failed step's error means, and one sentence on what to try for each kind of failure."""

from __future__ import annotations

import enum
import socket
import ssl

import httpx

from app.auth.errors import (
    AccountLocked,
    InteractionRequired,
    InvalidCredentials,
    PasswordExpired,
    ProviderUnreachable,
    UntrustedCertificate,
)
from app.diagnostics.steps import Step
from app.ucwa.discovery import DiscoveryError
from app.ucwa.errors import (
    AuthenticationError,
    CertificateError,
    RemoteProtocolError,
    ServerError,
    TransportError,
)

__all__ = ["ADVICE", "Failure", "advice_for", "classify", "diagnostics_of"]


class Failure(enum.Enum):
    NAME = "name"  # the host name does not resolve
    CONNECT = "connect"  # nothing answers at that address
    TIMEOUT = "timeout"
    TLS = "tls"
    CREDENTIALS = "credentials"  # 401, invalid grant, locked or expired account
    NO_PASSWORD = "no_password"  # nothing stored and no password given
    UNTRUSTED = "untrusted"  # the server sent sign-in somewhere we refuse to send a password
    FORBIDDEN = "forbidden"  # 403: the account is not enabled
    DISCOVERY_NOT_FOUND = "discovery_not_found"  # 404 at discovery: wrong URL
    NOT_FOUND = "not_found"
    BUSY = "busy"  # 429/5xx
    PROTOCOL = "protocol"  # an answer we cannot interpret
    OTHER = "other"


# One sentence each, for a person; never a secret, never "turn verification off".
ADVICE: dict[Failure, str] = {
    Failure.NAME: "Check the server address for typos and that this computer is on the network "
    "(or VPN) where that name resolves.",
    Failure.CONNECT: "Check the server address and your network connection (VPN, firewall); "
    "the server did not accept a connection.",
    Failure.TIMEOUT: "Check your network and any proxy settings; the server did not answer in "
    "time.",
    Failure.TLS: "The server's certificate is not trusted: ask your administrator for the "
    "company CA bundle and set it in the settings.",
    Failure.CREDENTIALS: "Check your user name and password (and that the account is not locked "
    "or its password expired), then sign in again.",
    Failure.NO_PASSWORD: "No password or saved sign-in was available: sign in once in the window "
    "(or with `ucwa-phone login`), or set the password in the environment variable for this run.",
    Failure.UNTRUSTED: "The server sent the sign-in to another domain; if that domain is your "
    "company's, add it to the allowed redirect domains in the settings.",
    Failure.FORBIDDEN: "Your account is not enabled for this service; ask your administrator to "
    "enable it for Skype for Business (call via work).",
    Failure.DISCOVERY_NOT_FOUND: "The discovery URL looks wrong; use the address your "
    "administrator gave (https://lyncdiscover.<your domain>/) or your sign-in address.",
    Failure.NOT_FOUND: "The server does not offer what was asked for; ask your administrator "
    "whether UCWA is enabled on this pool.",
    Failure.BUSY: "The server is busy or having trouble; try again in a few minutes and show the "
    "diagnostics text to your administrator if it persists.",
    Failure.PROTOCOL: "The server's answer was not a Skype for Business (UCWA) answer; check that "
    "the address points at the right server and no proxy rewrites it.",
    Failure.OTHER: "Try again; if it keeps failing, copy the diagnostics and send them to your "
    "administrator.",
}


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 16:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify(exc: BaseException, step: Step) -> Failure:
    """The kind of a step's failure, from the error and what caused it."""
    chain = _causes(exc)
    if any(isinstance(c, CertificateError | UntrustedCertificate | ssl.SSLError) for c in chain):
        return Failure.TLS
    if any(isinstance(c, socket.gaierror) for c in chain) or any(
        word in str(c).lower()
        for c in chain
        for word in ("name or service not known", "nodename nor servname", "getaddrinfo failed")
    ):
        return Failure.NAME
    if any(isinstance(c, TimeoutError | httpx.TimeoutException) for c in chain):
        return Failure.TIMEOUT
    if any(isinstance(c, InvalidCredentials | AccountLocked | PasswordExpired) for c in chain):
        return Failure.CREDENTIALS
    if any(isinstance(c, InteractionRequired) for c in chain):
        return Failure.NO_PASSWORD
    if any(isinstance(c, ProviderUnreachable) for c in chain):
        return Failure.CONNECT
    if isinstance(exc, AuthenticationError) or step is Step.SIGN_IN:
        if isinstance(exc, AuthenticationError) and exc.code == "UntrustedServer":
            return Failure.UNTRUSTED
        if isinstance(exc, TransportError):
            return Failure.CONNECT
        return Failure.CREDENTIALS
    if isinstance(exc, TransportError):
        return Failure.CONNECT
    if isinstance(exc, ServerError):
        if exc.status == 401:
            return Failure.CREDENTIALS
        if exc.status == 403:
            return Failure.FORBIDDEN
        if exc.status in (404, 410):
            return Failure.DISCOVERY_NOT_FOUND if step is Step.DISCOVERY else Failure.NOT_FOUND
        if exc.status == 429 or exc.status >= 500:
            return Failure.BUSY
        return Failure.OTHER
    if isinstance(exc, DiscoveryError | RemoteProtocolError):
        return Failure.PROTOCOL
    return Failure.OTHER


def advice_for(exc: BaseException, step: Step) -> str:
    return ADVICE[classify(exc, step)]


def diagnostics_of(exc: BaseException) -> str | None:
    """The server's X-Ms-Diagnostics text carried by ``exc`` or what caused it, if any."""
    for cause in _causes(exc):
        text = getattr(cause, "diagnostics", None)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None
