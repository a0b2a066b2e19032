"""RecordingSession: a UcwaSession that tells its CallRecorder the number as the user typed it."""

from __future__ import annotations

from typing import Any

from app.history.recorder import CallRecorder
from app.ucwa.session import UcwaSession


class RecordingSession(UcwaSession):
    """The session's snapshots carry only the number as sent; the typed form comes from here."""

    def __init__(self, *args: Any, recorder: CallRecorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self.add_listener(recorder)

    # Any: whatever UcwaSession.start_call accepts is passed on to it unchanged.
    async def start_call(self, number: Any, callback: str | None = None) -> None:
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


def dialled(number: object) -> tuple[str, str | None]:
    """(as typed, as sent) for what start_call was given: the text itself, or a target object
    that names the ``uri`` sent to the server and the ``display`` form the user saw."""
    if isinstance(number, str):
        return number, None
    shown, uri = getattr(number, "display", None), getattr(number, "uri", None)
    return (
        shown if isinstance(shown, str) else "",
        uri if isinstance(uri, str) else None,
    )
