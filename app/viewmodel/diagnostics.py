"""DiagnosticsViewModel: "Test connection" step by step, and the "Copy diagnostics" text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import PySide6
from PySide6.QtCore import QObject, Signal, Slot, qVersion

from app.diagnostics.report import report_text
from app.diagnostics.steps import STEPS, Outcome, StepResult
from app.viewmodel.base import ViewModelBase
from app.viewmodel.properties import NotifyProperty

__all__ = ["FACTS_DEADLINE_S", "DiagnosticsService", "DiagnosticsViewModel"]

# Gathering the facts can hang (the first keyring use probes D-Bus); the copy must still come.
FACTS_DEADLINE_S = 5.0


class DiagnosticsService(Protocol):
    """Runs the connection check (app.diagnostics.checker.AccountChecker in the app)."""

    async def check(self, on_step: Callable[[StepResult], None]) -> list[StepResult]:
        """One result per step, in order; ``on_step`` hears each as it ends. Never raises for
        what the server does."""
        ...

    def facts(self, extra: Mapping[str, str]) -> dict[str, str]:
        """Versions, platform, keyring backend and settings (no secrets), plus ``extra``.
        Blocking (keyring and platform probes): called in a worker thread."""
        ...


def _row(result: StepResult) -> dict[str, Any]:
    return {**result.as_dict(), "line": result.line()}


class DiagnosticsViewModel(ViewModelBase):
    """Properties (each with a ``<name>Changed`` signal):
        running (bool): a check is under way.
        steps (list of dict): one row per step so far: step, title, result ("ok", "failed",
            "skipped", "pending"), ms, detail, diagnostics, advice, line (a printable line).
        summary (str): one sentence on where the check stands.

    Slots: ``run()`` (again) and ``cancel()``; ``copyReport(platform_plugin)`` gathers the
    "Copy diagnostics" text, redacted, off the GUI thread.

    Signals:
        reportReady(str): the text ``copyReport`` asked for, for the clipboard.
    """

    runningChanged = Signal(bool)
    stepsChanged = Signal(list)
    summaryChanged = Signal(str)
    reportReady = Signal(str)

    def __init__(self, service: DiagnosticsService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._running = False
        self._steps: list[dict[str, Any]] = []
        self._summary = "Not tested yet."
        self._results: list[StepResult] = []
        self._task: asyncio.Task[None] | None = None

    running = NotifyProperty(bool, runningChanged)
    steps = NotifyProperty(list, stepsChanged)
    summary = NotifyProperty(str, summaryChanged)

    @Slot()
    def run(self) -> None:
        if self._running:
            return
        # Shown at once, not when the task first runs: a second click already sees it running.
        self._results = []
        DiagnosticsViewModel.running.set(self, True)
        DiagnosticsViewModel.summary.set(self, "Testing the connection…")
        self._show()
        self._task = self.tasks.spawn(self._run(), group="check")

    @Slot()
    def cancel(self) -> None:
        """Stop a running check (it still deletes what it created on the server)."""
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        try:
            results = await self._service.check(self._on_step)
        except asyncio.CancelledError:
            DiagnosticsViewModel.summary.set(self, "Test stopped.")
            raise
        except Exception:  # a bug, not the server: the banner shows it (ViewModelBase)
            DiagnosticsViewModel.summary.set(self, "The test could not run; see the log.")
            raise
        finally:
            DiagnosticsViewModel.running.set(self, False)
        self._results = list(results)
        self._show()
        failed = next((r for r in results if r.outcome is Outcome.FAILED), None)
        if failed is None:
            DiagnosticsViewModel.summary.set(self, "Every step passed.")
        else:
            DiagnosticsViewModel.summary.set(self, f"{failed.step.title} failed.")

    def _on_step(self, result: StepResult) -> None:
        self._results.append(result)
        self._show()

    def _show(self) -> None:
        rows = [_row(r) for r in self._results]
        done = {r.step for r in self._results}
        rows += [
            {"step": s.value, "title": s.title, "result": "pending", "line": f"… {s.title}"}
            for s in STEPS
            if s not in done
        ]
        DiagnosticsViewModel.steps.set(self, rows)

    @Slot(str)
    def copyReport(self, platform_plugin: str) -> None:
        extra = {
            "Qt": qVersion(),
            "PySide6": PySide6.__version__,
            "Qt platform plugin": platform_plugin or "(unknown)",
        }
        self.tasks.spawn(self._report(extra), group="report")

    async def _report(self, extra: dict[str, str]) -> None:
        results = list(self._results)  # the steps as they were when the user asked
        try:
            facts = await asyncio.wait_for(
                asyncio.to_thread(self._service.facts, extra), FACTS_DEADLINE_S
            )
        except TimeoutError:
            # The thread is left to finish on its own; the user gets what is known now.
            facts = {"environment": f"not gathered within {FACTS_DEADLINE_S:g} s", **extra}
        self.reportReady.emit(report_text(facts, results))
