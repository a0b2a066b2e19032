"""The steps of a connection check and the result of each."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["STEPS", "Outcome", "Step", "StepResult"]


class Step(enum.Enum):
    """One link of the chain a sign-in walks, in order."""

    DISCOVERY = "discovery"
    SIGN_IN = "sign_in"
    APPLICATION = "application"
    MAKE_ME_AVAILABLE = "make_me_available"
    EVENT_POLL = "event_poll"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Step.DISCOVERY: "Find the server (discovery)",
    Step.SIGN_IN: "Sign in",
    Step.APPLICATION: "Create the application",
    Step.MAKE_ME_AVAILABLE: "Make me available",
    Step.EVENT_POLL: "First event poll",
}

STEPS: tuple[Step, ...] = tuple(Step)


class Outcome(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # an earlier step failed, so this one was not tried


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did. ``diagnostics`` is the server's X-Ms-Diagnostics text, if it sent one;
    ``advice`` one sentence on what to try (failures only)."""

    step: Step
    outcome: Outcome
    ms: int = 0
    detail: str = ""
    diagnostics: str | None = None
    advice: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def as_dict(self) -> dict[str, object]:
        return {
            "step": self.step.value,
            "title": self.step.title,
            "result": self.outcome.value,
            "ms": self.ms,
            "detail": self.detail,
            "diagnostics": self.diagnostics,
            "advice": self.advice,
        }

    def line(self) -> str:
        """One line for a terminal or the clipboard: ✔/✘/–, title, time, details."""
        mark = {Outcome.OK: "✔", Outcome.FAILED: "✘", Outcome.SKIPPED: "–"}[self.outcome]
        text = f"{mark} {self.step.title:<28} {self.ms:>6} ms"
        if self.outcome is Outcome.SKIPPED:
            text = f"{mark} {self.step.title:<28} {'':>6}   skipped"
        if self.detail:
            text += f"  {self.detail}"
        if self.diagnostics:
            text += f"\n    X-Ms-Diagnostics: {self.diagnostics}"
        if self.advice:
            text += f"\n    Try: {self.advice}"
        return text
