"""RecordingSession: a UcwaSession that tells its CallRecorder the number as the user typed it."""

from __future__ import annotations

from typing import Any

from app.history.recorder import CallRecorder
from app.ucwa.dialing import DialTarget
from app.ucwa.session import UcwaSession


class RecordingSession(UcwaSession):
    """The session's snapshots carry only the number as sent; the typed form comes from here."""

    def __init__(self, *args: Any, recorder: CallRecorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self.add_listener(recorder)

    async def start_call(self, number: str | DialTarget, callback: str | None = None) -> None:
        self.recorder.dialing(*dialled(number))
        try:
            await super().start_call(number, callback)
        finally:
            self.recorder.dial_done()

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            self.recorder.session_closed()


def dialled(number: str | DialTarget) -> tuple[str, str | None]:
    """(as typed, as sent) for what start_call was given: the text itself, or a target that
    remembers what was typed (else its display form) and names the ``uri`` sent to the server."""
    if isinstance(number, str):
        return number, None
    return number.typed or number.display, number.uri
