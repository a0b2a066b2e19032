"""Errors raised by sign-in; each carries one plain sentence telling the user what to do.

    AuthError
    ├── InvalidCredentials     the user name or password was rejected
    ├── AccountLocked          too many attempts, or an administrator locked the account
    ├── PasswordExpired        the password must be changed before signing in again
    ├── InteractionRequired    a person has to act: type the password, or sign in in a browser
    │   └── MfaRequired        a second factor is needed: use the browser or device-code sign-in
    ├── ProviderUnreachable    the sign-in server could not be reached or failed
    │   └── UntrustedCertificate   TLS verification failed for ``host``
    └── ProviderError          the sign-in server refused for another reason (code/subcode kept)

Messages never contain a password or token: callers pass only codes, hosts and server sentences.
"""

from __future__ import annotations

__all__ = [
    "AccountLocked",
    "AuthError",
    "InteractionRequired",
    "InvalidCredentials",
    "MfaRequired",
    "PasswordExpired",
    "ProviderError",
    "ProviderUnreachable",
    "UntrustedCertificate",
]


class AuthError(Exception):
    """Root of every sign-in error. ``code``/``subcode`` are the server's, for the Details view."""

    default_message = "Sign-in failed. Try again, or check the account settings."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        subcode: str | None = None,
        diagnostics: str | None = None,
    ) -> None:
        super().__init__(message or self.default_message)
        self.code = code
        self.subcode = subcode
        self.diagnostics = diagnostics

    @property
    def user_message(self) -> str:
        """One sentence for a person: what happened and what to do."""
        return str(self)


class InvalidCredentials(AuthError):
    default_message = "The user name or password is not correct. Check them and sign in again."


class AccountLocked(AuthError):
    default_message = (
        "Your account is locked. Wait a while or ask your administrator to unlock it, "
        "then sign in again."
    )


class PasswordExpired(AuthError):
    default_message = (
        "Your password has expired. Change it (for example in your web mail or on a work PC), "
        "then sign in with the new password."
    )


class InteractionRequired(AuthError):
    default_message = "Your sign-in has expired. Enter your password to sign in again."


class MfaRequired(InteractionRequired):
    default_message = (
        "Your organisation requires a second sign-in step. Choose Azure AD sign-in, which "
        "opens the browser or shows a device code, and complete it there."
    )


class ProviderUnreachable(AuthError):
    default_message = (
        "The sign-in server could not be reached. Check the network and the server address."
    )

    def __init__(
        self,
        host: str | None = None,
        message: str | None = None,
        *,
        code: str | None = None,
        subcode: str | None = None,
    ) -> None:
        if message is None and host:
            message = (
                f"The sign-in server {host} could not be reached. "
                "Check the network and the server address, then try again."
            )
        super().__init__(message, code=code, subcode=subcode)
        self.host = host


class UntrustedCertificate(ProviderUnreachable):
    """Never suggest turning verification off: a private CA bundle can be set instead."""

    def __init__(self, host: str) -> None:
        super().__init__(
            host,
            f"The certificate of {host} is not trusted. If your organisation uses its own "
            "certificate authority, set its CA bundle in the settings.",
        )


class ProviderError(AuthError):
    default_message = (
        "The sign-in server refused the request. Try again later or contact your administrator."
    )
