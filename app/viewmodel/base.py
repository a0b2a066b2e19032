"""ViewModelBase (owns a TaskScope, reports errors as plain text) and the error → words mapping."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from app.logs import secrets
from app.ucwa.errors import CallFailed, ServerError, UcwaError
from app.viewmodel.tasks import TaskScope

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(plain message, details) for a person: codes and X-Ms-Diagnostics, never a traceback."""
    details: list[str] = []
    if isinstance(exc, ServerError):
        details.append(f"HTTP {exc.status}")
        if exc.code:
            details.append(f"Code: {exc.code}")
        if exc.subcode:
            details.append(f"Subcode: {exc.subcode}")
        if exc.diagnostics:
            details.append(f"X-Ms-Diagnostics: {exc.diagnostics}")
    elif isinstance(exc, CallFailed):
        if exc.reason.code:
            details.append(f"Code: {exc.reason.code}")
        if exc.reason.subcode:
            details.append(f"Subcode: {exc.reason.subcode}")
        if exc.reason.diagnostics:
            details.append(f"X-Ms-Diagnostics: {exc.reason.diagnostics}")
    user_message = getattr(exc, "user_message", None)  # app.auth errors have one too
    if isinstance(exc, UcwaError) or isinstance(user_message, str):
        message = str(user_message or exc) or type(exc).__name__
        # app.auth errors (possibly wrapped by ucwa as the __cause__) carry their own codes.
        for source in (exc, exc.__cause__):
            if source is None or isinstance(source, ServerError | CallFailed):
                continue
            for attr, label in (
                ("code", "Code"),
                ("subcode", "Subcode"),
                ("diagnostics", "X-Ms-Diagnostics"),
            ):
                value = getattr(source, attr, None)
                line = f"{label}: {value}"
                if isinstance(value, str) and value and line not in details:
                    details.append(line)
    elif isinstance(exc, TimeoutError):
        message = "The server did not answer in time."
    elif isinstance(exc, OSError):
        message = f"A network or system error occurred: {exc.strerror or exc}"
    else:
        message = "Something unexpected went wrong. The details are in the log."
    details.append(f"Error type: {type(exc).__name__}")
    return secrets.scrub(message), secrets.scrub("\n".join(details))


class ViewModelBase(QObject):
    """Base of every view-model: a TaskScope whose failures become ``errorOccurred``.

    Signals:
        errorOccurred(str message, str details): an operation failed; the shell shows the banner.
    """

    errorOccurred = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskScope(self._on_task_error)

    def _on_task_error(self, exc: BaseException) -> None:
        self.report(exc)

    def report(self, exc: BaseException) -> None:
        """Log ``exc`` and show it in the banner (``errorOccurred``)."""
        self.errorOccurred.emit(*self.log_failure(exc))

    def log_failure(self, exc: BaseException) -> tuple[str, str]:
        """Log ``exc`` (a traceback only for our own bugs); returns describe_error's words."""
        message, details = describe_error(exc)
        if isinstance(exc, UcwaError):
            log.info("%s: %s", type(self).__name__, message)
        else:  # our bug or an unexpected library error: keep the traceback, in the log only
            log.error("%s failed", type(self).__name__, exc_info=exc)
        return message, details

    async def aclose(self) -> None:
        await self.tasks.aclose()
