"""Azure AD scopes: which Skype for Business Online permission each UCWA operation needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["OPERATIONS_USED", "REQUIRED_SCOPES", "SCOPE_TABLE", "scopes_needed"]

# Delegated permissions of "Skype for Business Online" and the UCWA resources each one opens
# (vendor page SkypeForBusinessOnlineScopePermissions; docs/protocol.md §3.2). `application` and
# `batch` accept any of them. Contacts.ReadWrite and Meetings.ReadWrite open nothing this app uses.
SCOPE_TABLE: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "Conversations.Initiate": frozenset(
            {
                "startPhoneAudio",
                "holdPhoneAudio",
                "resumePhoneAudio",
                "stopPhoneAudio",
                "phoneAudio",
                "phoneAudioInvitation",
                "communication",
                "cancel",
            }
        ),
        "Conversations.Receive": frozenset(
            {"makeMeAvailable", "conversation", "communication", "phoneAudio"}
        ),
        "User.ReadWrite": frozenset({"me", "makeMeAvailable", "phones", "reportMyActivity"}),
        "Contacts.ReadWrite": frozenset(),
        "Meetings.ReadWrite": frozenset(),
    }
)

# Every UCWA operation a call-via-work session performs (sign-in, availability, keep-alive, a call).
OPERATIONS_USED: Final = frozenset(
    {
        "me",
        "makeMeAvailable",
        "phones",
        "reportMyActivity",
        "communication",
        "conversation",
        "startPhoneAudio",
        "phoneAudioInvitation",
        "phoneAudio",
        "holdPhoneAudio",
        "resumePhoneAudio",
        "stopPhoneAudio",
        "cancel",
    }
)


def scopes_needed(operations: Iterable[str]) -> tuple[str, ...]:
    """Every scope that opens one of ``operations``, in the table's order."""
    wanted = set(operations)
    return tuple(scope for scope, opens in SCOPE_TABLE.items() if opens & wanted)


REQUIRED_SCOPES: Final = scopes_needed(OPERATIONS_USED)
