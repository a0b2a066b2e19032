"""What a call looks like to everyone above the protocol: states, actions, reasons, snapshots.

The table-driven state machine that produces these snapshots from wire events lives in this module
too (added below the public types).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class CallState(enum.Enum):
    """Where a call-via-work call is, in words a user understands. Values are the CLI's names."""

    IDLE = "idle"
    CALLING_YOU = "calling_you"  # the server rings the user's own phone
    CONNECTING = "connecting"  # the user answered; the far end is being called / rings
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    ENDING = "ending"
    ENDED = "ended"  # ended normally (either side hung up)
    FAILED = "failed"  # never connected, or dropped by an error

    @property
    def is_final(self) -> bool:
        return self in (CallState.ENDED, CallState.FAILED)


class CallAction(enum.Enum):
    """Things the user may do now; present only when the server offered the matching link."""

    HOLD = "hold"  # phoneAudio._links.holdPhoneAudio
    RESUME = "resume"  # phoneAudio._links.resumePhoneAudio
    HANG_UP = "hang_up"  # phoneAudio._links.stopPhoneAudio while connected
    CANCEL = "cancel"  # invitation cancel / stopPhoneAudio while connecting


@dataclass(frozen=True, slots=True)
class CallReason:
    """Why a call ended or failed: UCWA code/subcode plus one plain sentence."""

    code: str | None
    subcode: str | None
    message: str  # plain language, e.g. "The line was busy."
    diagnostics: str | None = None  # X-Ms-Diagnostics text when the reason came from an HTTP answer


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    """One immutable picture of the current call, emitted on every change."""

    state: CallState
    number: str = ""  # the dialled number, E.164
    reason: CallReason | None = None
    actions: frozenset[CallAction] = field(default_factory=frozenset)
    answered_by: str | None = None  # who actually answered (forwarding), display form
    connected_at: float | None = None  # time.monotonic() when first connected
    call_id: str | None = None  # the operationId of this call
