"""Turns network failures of a token request into the AuthError a user can act on."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from app.auth.errors import ProviderUnreachable, UntrustedCertificate


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url


def is_certificate_failure(exc: BaseException) -> bool:
    """Walks the cause chain: httpx and requests both wrap the ssl error a few levels deep."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        text = str(current)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return True
        nested = [current.__cause__, current.__context__, *current.args]
        current = next((n for n in nested if isinstance(n, BaseException)), None)
    return False


def unreachable(url: str, exc: BaseException) -> ProviderUnreachable:
    host = host_of(url)
    if is_certificate_failure(exc):
        return UntrustedCertificate(host)
    return ProviderUnreachable(host)
