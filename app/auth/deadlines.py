"""Overall deadlines of the sign-in stack: a whole grant and a whole keyring call, in seconds."""

from __future__ import annotations

from typing import Final

from app.auth.errors import ProviderUnreachable

# A sign-in grant as a whole (web-ticket POST; msal's authority lookup, silent refresh and
# device-code request). Per-read timeouts alone never fire against a server that drips one byte
# at a time; this bounds the total. Waiting for the person (browser, device code) is not a grant
# round trip and has its own, longer limit.
GRANT_DEADLINE_S: Final = 30.0

# One keyring operation (a D-Bus round trip, ~12 ms when healthy). A keyring that does not answer
# in time is treated like no keyring: secrets stay in memory and the no-keyring notice is shown.
KEYRING_DEADLINE_S: Final = 5.0


def grant_too_slow(host: str, deadline_s: float) -> ProviderUnreachable:
    """The error for a sign-in server that did not finish a grant within ``deadline_s``."""
    return ProviderUnreachable(
        host,
        f"The sign-in server {host} did not answer within {deadline_s:g} seconds. "
        "Try again later, or check the network and the server address.",
    )
