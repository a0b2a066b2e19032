"""The "Copy diagnostics" text: versions, platform, keyring, settings and the steps, redacted."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping, Sequence

from app import __version__
from app.diagnostics.steps import StepResult
from app.logs import secrets
from app.settings import Settings

__all__ = ["environment", "keyring_backend", "report_json", "report_text"]


def keyring_backend() -> str:
    """Where the app keeps secrets, chosen as sign-in chooses it: a backend module, or "memory"."""
    try:
        from app.auth.store import TokenStore

        return TokenStore().backend_name
    except Exception as exc:  # a broken keyring installation: that is itself a diagnosis
        return f"unavailable ({type(exc).__name__})"


def environment(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Facts for a support request; settings are limited to where and as whom (no secrets).

    ``extra``: what only the caller knows (Qt and PySide6 versions, the Qt platform plugin).
    """
    facts = {
        "app version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "keyring backend": keyring_backend(),
        "server": settings.discovery_url or "(autodiscovery)",
        "sign-in address": settings.address or "",
        "user": settings.user or settings.address or "",
        "sign-in method": settings.method,
        "CA bundle": settings.ca_bundle or "(system)",
    }
    facts.update(extra or {})
    return facts


def report_text(facts: Mapping[str, str], results: Sequence[StepResult]) -> str:
    lines = ["UCWA Phone diagnostics", ""]
    width = max((len(k) for k in facts), default=0)
    lines += [f"{key + ':':<{width + 1}} {value}" for key, value in facts.items()]
    lines += ["", "Test connection:"]
    lines += [result.line() for result in results] or ["(not run)"]
    return secrets.scrub("\n".join(lines) + "\n")


def report_json(facts: Mapping[str, str], results: Sequence[StepResult]) -> str:
    doc = {"environment": dict(facts), "steps": [r.as_dict() for r in results]}
    return secrets.scrub(json.dumps(doc, ensure_ascii=False, indent=2))
