"""SessionListener: what a UcwaSession tells the code above it (status and call changes)."""

from __future__ import annotations

from typing import Protocol

from app.ucwa.calls import CallSnapshot
from app.ucwa.status import SessionStatus

__all__ = ["SessionListener"]


class SessionListener(Protocol):
    """Called synchronously on the session's event loop; must not block."""

    def on_status(self, status: SessionStatus) -> None: ...
    def on_call(self, snapshot: CallSnapshot) -> None: ...
