"""An excepthook that logs unexpected errors and shows them in the banner, never a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

_MESSAGE = "Something went wrong inside UCWA Phone. Your call is not affected; the log has details."

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def install_excepthook(shell: Any, show_local: Callable[[str, str], None]) -> Callable[[], None]:
    """Route uncaught exceptions to the banner; returns a function that restores the old hook.

    The banner text goes through shell.reportError(message, details) when the shell has it (so
    errorText stays the one source of truth); otherwise show_local(message, details) shows it in the
    banner directly. Details carry only the exception's type name: exception text may quote server
    data, and tracebacks belong in the log, not in front of the user.
    """
    previous: ExceptHook = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C is the main coroutine's business
            previous(exc_type, exc, tb)
            return
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        details = f"Internal error: {exc_type.__name__}"
        try:
            report = getattr(shell, "reportError", None)
            if callable(report):
                report(_MESSAGE, details)
            else:
                show_local(_MESSAGE, details)
        except Exception:  # a broken banner must not recurse into this hook
            log.exception("could not show the error banner")

    sys.excepthook = hook

    def uninstall() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return uninstall
