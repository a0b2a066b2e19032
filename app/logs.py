"""Logging setup, named loggers, and the filter that keeps secrets out of every log line."""

from __future__ import annotations

import logging
import re
import threading

# Every module logs through ``logging.getLogger(__name__)``; all of them live under "app".
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# Shapes that are secrets whatever their value: web tickets, bearer tokens, password fields.
_PATTERNS = [
    re.compile(r"cwt=[A-Za-z0-9+/=_\-.%]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9+/=_\-.%]+"),
    re.compile(
        r"(?i)((?:password|access_token|refresh_token|id_token)[\"']?\s*[:=]\s*[\"']?)[^&\"'\s,}]+"
    ),
]


class SecretRegistry:
    """Exact secret strings (passwords, tokens) to scrub from log records; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        # Very short strings would blank out ordinary words.
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
        return text


secrets = SecretRegistry()


def register_secret(secret: str | None) -> None:
    """Remember *secret* so that no later log record can show it."""
    secrets.add(secret)


class RedactingFilter(logging.Filter):
    """Formats the record's message once, scrubbed, so arguments cannot smuggle secrets out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = secrets.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are rendered later by the handler; scrub the exception text now.
            record.exc_text = secrets.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg, record.args = scrubbed, None
        return True


def configure(verbosity: int = 0) -> None:
    """Send WARNING+ (INFO with -v, DEBUG with -vv) to stderr, always through the redactor."""
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("app")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for noisy in ("httpx", "httpcore", "uvicorn", "msal"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    install_redaction()


def install_redaction() -> None:
    """Put the redactor on every handler of the root logger too (pytest's capture included)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
