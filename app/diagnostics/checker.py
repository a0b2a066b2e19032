"""The window's connection checker: which account to check is asked anew on every run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.diagnostics.report import environment
from app.diagnostics.steps import StepResult
from app.settings import Settings

__all__ = ["AccountChecker", "CheckTarget"]


@dataclass(frozen=True)
class CheckTarget:
    """An account to check; ``keep=False`` for the demo account (no keyring)."""

    settings: Settings
    password: str | None = None
    keep: bool = True


class AccountChecker:
    """What app.viewmodel.diagnostics.DiagnosticsService asks for, for ``target()``'s account.

    The checking stack (app.ucwa, the sign-in providers) is imported on the first run only, so
    the window does not pay for it at start.
    """

    def __init__(self, target: Callable[[], CheckTarget]) -> None:
        self._target = target

    async def check(self, on_step: Callable[[StepResult], None]) -> list[StepResult]:
        from app.diagnostics.account import check_account

        target = self._target()
        return await check_account(
            target.settings, password=target.password, keep=target.keep, on_step=on_step
        )

    def facts(self, extra: Mapping[str, str]) -> dict[str, str]:
        return environment(self._target().settings, extra)
