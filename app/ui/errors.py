"""An excepthook that logs unexpected errors and shows them in the banner, never a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from app.viewmodel.protocols import ShellSurface

log = logging.getLogger(__name__)

_MESSAGE = "Something went wrong inside UCWA Phone; the log has details."

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def install_excepthook(shell: ShellSurface) -> Callable[[], None]:
    """Route uncaught exceptions to the banner; returns a function that restores the old hook.

    The banner text goes through shell.showError(message, details), so errorText stays the one
    source of truth. Details carry only the exception's type name: exception text may quote server
    data, and tracebacks belong in the log, not in front of the user.
    """
    previous: ExceptHook = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C is the main coroutine's business
            previous(exc_type, exc, tb)
            return
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        try:
            shell.showError(_MESSAGE, f"Internal error: {exc_type.__name__}")
        except Exception:  # a broken banner must not recurse into this hook
            log.exception("could not show the error banner")

    sys.excepthook = hook

    def uninstall() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return uninstall
