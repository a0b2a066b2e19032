"""Logging setup, named loggers, and the redaction that keeps secrets out of every output."""

from __future__ import annotations

import base64
import io
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

import platformdirs

from app.files import FILE_MODE, private_directory

# Every module logs through ``logging.getLogger(__name__)``; all of them live under "app".
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_MASK = "***"

# Headers whose values are secrets whatever they hold: a raw header line ("Cookie: a=b"), a
# repr'd or JSON dict ('Authorization': 'Bearer x'), or a header tuple ('set-cookie', 'x').
_HEADERS = re.compile(
    r"""(?ix)
    (\b(?:proxy-)?authorization|\b(?:set-)?cookie)   # the header name
    (["']?\s*[:=,]\s*(?-i:b(?=["']))?)               # its separator, any quoting
    (?:(["'])(?:\\.|(?!\3).)*\3                      # a quoted value (escapes skipped)
      |[^\r\n]+)                                     # or the rest of the line
    """
)

# Shapes that are secrets whatever their value: web tickets, bearer tokens, password fields.
_PATTERNS = [
    re.compile(r"()cwt=[A-Za-z0-9+/=_\-.%]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9+/=_\-.%]+"),
    re.compile(
        r"(?i)((?:password|access_token|refresh_token|id_token)[\"']?\s*[:=]\s*[\"']?)[^&\"'\s,}]+"
    ),
]

_MIN_LENGTH = 4  # very short strings would blank out ordinary words


def _header_mask(match: re.Match[str]) -> str:
    quote_char = match.group(3) or ""
    return f"{match.group(1)}{match.group(2)}{quote_char}{_MASK}{quote_char}"


def escaped_forms(secret: str) -> set[str]:
    """``secret`` as it can appear in output: plain, JSON-escaped, repr'd, URL-encoded."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        quote_plus(secret, safe=""),
    }
    # A multi-line secret (a serialized cache) may be printed a line at a time.
    forms.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= 8)
    return {form for form in forms if len(form) >= _MIN_LENGTH}


class SecretRegistry:
    """Secret strings (passwords, tokens) and their escaped forms to scrub; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._ordered: list[str] = []

    def add(self, secret: str | None, *, user: str | None = None) -> None:
        if not secret or len(secret) < _MIN_LENGTH:
            return
        forms = escaped_forms(secret)
        if user is not None:  # the Basic scheme's credentials
            forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode("ascii"))
        with self._lock:
            if forms <= self._secrets:
                return
            self._secrets |= forms
            # Longest first, so a secret's escaped form is masked whole, not around a substring.
            self._ordered = sorted(self._secrets, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        with self._lock:
            ordered = self._ordered
        for secret in ordered:
            if secret in text:
                text = text.replace(secret, _MASK)
        text = _HEADERS.sub(_header_mask, text)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
        return text


secrets = SecretRegistry()


def register_secret(secret: str | None, *, user: str | None = None) -> None:
    """Remember *secret* (and its JSON, repr and URL-encoded forms; with ``user``, the Basic
    credentials too) so that no later log record, traceback or crash report can show it."""
    secrets.add(secret, user=user)


class RedactingFilter(logging.Filter):
    """Formats the record's message once, scrubbed, so arguments cannot smuggle secrets out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        record.msg, record.args = secrets.scrub(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are rendered later by the handler; scrub the exception text now.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = secrets.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = secrets.scrub(record.stack_info)
        record._redacted = True
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests and the GUI replace it)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__()
        self.setLevel(level)
        self.addFilter(RedactingFilter())

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # StreamHandler.__init__ assigns it; the property always follows sys.stderr


# The log file: small enough to attach to a support request, a few runs of history.
LOG_FILE_BYTES = 1_000_000
LOG_FILE_BACKUPS = 5


def log_file_path() -> Path:
    """Where the log file lives (the platform's user log directory)."""
    return Path(platformdirs.user_log_dir("ucwa-phone", appauthor=False)) / "ucwa-phone.log"


class _PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file only its owner can read (0600, also for every rotated file)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # a file left by an older version may have had wider bits
        return open(fd, "a", encoding="utf-8", errors="backslashreplace")


def _log_file_handler() -> logging.Handler | None:
    """The redacted log file's handler; None (and a warning on stderr) when it cannot be opened:
    a read-only home must not stop the app."""
    path = log_file_path()
    try:
        private_directory(path.parent)
        handler = _PrivateLogFile(path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS)
    except OSError as exc:
        print(f"ucwa-phone: no log file ({type(exc).__name__})", file=sys.stderr)
        return None
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(_FORMAT))
    return handler


def configure(verbosity: int = 0) -> None:
    """Send WARNING+ (INFO with -v, DEBUG with -vv) to stderr and to the rotating log file
    (``log_file_path``), always through the redactor.

    The handler sits on the root logger, so records of msal, asyncio, httpx and uvicorn are
    redacted like the app's own.
    """
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    # A test framework's capture handlers stay (they get the redactor too); ours are replaced.
    for old in root.handlers:
        if isinstance(old, _PrivateLogFile):
            old.close()
    ours = [handler, *filter(None, [_log_file_handler()])]
    root.handlers[:] = [
        h for h in root.handlers if not isinstance(h, _StderrHandler | _PrivateLogFile)
    ] + ours
    root.setLevel(level)
    app_logger = logging.getLogger("app")
    app_logger.handlers.clear()
    app_logger.setLevel(level)
    app_logger.propagate = True
    for noisy in ("httpx", "httpcore", "uvicorn", "msal"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    install_redaction()


def install_redaction() -> None:
    """Redact everywhere output can come from: every handler of the root logger (pytest's
    capture included), Python's last-resort handler and the uncaught-exception hooks."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if not isinstance(logging.lastResort, _StderrHandler):
        logging.lastResort = _StderrHandler(logging.WARNING)
    # Python's own hooks print raw tracebacks (exception text may quote a token); a hook that
    # something else installed (the window's) already logs through the redactor.
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _thread_excepthook
    if sys.unraisablehook is sys.__unraisablehook__:
        sys.unraisablehook = _unraisablehook


def write_traceback(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
    heading: str = "",
) -> None:
    """Print a traceback to stderr the way Python would, scrubbed."""
    text = heading + "".join(traceback.format_exception(exc_type, exc, tb))
    stream = sys.stderr
    if stream is not None:
        stream.write(secrets.scrub(text))
        stream.flush()


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    write_traceback(exc_type, exc, tb)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    write_traceback(args.exc_type, args.exc_value, args.exc_traceback, f"Exception in {name}:\n")


def _unraisablehook(args: Any) -> None:
    heading = f"{args.err_msg or 'Exception ignored in'}: {args.object!r}\n"
    write_traceback(args.exc_type, args.exc_value, args.exc_traceback, heading)
