"""The sign-in / connection status of a UCWA session, as the UI and the CLI show it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ConnectionState(enum.Enum):
    SIGNED_OUT = "signed_out"
    SIGNING_IN = "signing_in"
    SIGNED_IN = "signed_in"
    RECONNECTING = "reconnecting"  # event channel or application being re-established
    TAKEN_OVER = "taken_over"  # another client replaced our event channel
    FAILED = "failed"  # sign-in failed; detail says why


@dataclass(frozen=True, slots=True)
class SessionStatus:
    state: ConnectionState
    user: str | None = None  # who is signed in (display form)
    detail: str | None = None  # plain sentence for the UI (error text, "retrying in 4 s")
