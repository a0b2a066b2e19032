"""Who may call the /_sim/ control endpoints, and the bounds on the values they accept."""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

TOKEN_HEADER = "X-Sim-Control-Token"
"""Header carrying SimConfig.control_token when the simulator is embedded in the app."""

MAX_SECONDS = 60.0
"""Longest latency or stall one control call may inject: a demo must never hang for good."""
MAX_RETRY_AFTER_S = 3600.0
MAX_COUNT = 1000
"""Most requests one forced status may answer."""
MAX_TEXT = 200
"""Longest path fragment, method, code or subcode a control call may pass."""

# A Host header naming the loopback interface, with an optional port. Only these names are
# accepted: a page served from any other name that resolves to 127.0.0.1 (DNS rebinding) is
# refused, because its requests carry that name.
_LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?")


class Refused(Exception):
    """A control call that must not run: HTTP status and a sentence saying why."""

    def __init__(self, status: int, message: str, subcode: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.subcode = subcode


def check_caller(request: Request, token: str | None) -> None:
    """Raise Refused unless the request may drive the simulator.

    Browsers send `Origin` on cross-site requests and on every POST, so its presence means a
    web page is calling; a text/plain POST needs no preflight, hence the JSON requirement.
    """
    host = request.headers.get("host", "")
    if not _LOOPBACK_HOST.fullmatch(host.strip().lower()):
        raise Refused(403, "The control API answers only to a loopback Host header.")
    if "origin" in request.headers:
        raise Refused(403, "The control API does not answer web pages (Origin header sent).")
    if token is not None:
        given = request.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise Refused(403, "The control API needs this run's token.")
    if request.method.upper() == "POST":
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            raise Refused(415, "Control calls must be sent as application/json.")


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number the control API accepts")


def parse_body(raw: bytes) -> Any:
    """The JSON body; `NaN`/`Infinity` literals and overflowing numbers raise ValueError."""
    return json.loads(raw or b"{}", parse_constant=_no_constants)


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def check_arguments(args: Mapping[str, object]) -> None:
    """Raise ValueError when a control argument is of the wrong type or out of bounds."""
    for name, value in args.items():
        if name == "seconds":
            _number(value, name, 0.0, MAX_SECONDS)
        elif name == "retry_after":
            if value is not None:
                _number(value, name, 0.0, MAX_RETRY_AFTER_S)
        elif name == "count":
            _integer(value, name, 1, MAX_COUNT)
        elif name == "status":
            _integer(value, name, 100, 599)
        elif name == "drip_ms":
            _number(value, name, 1.0, 1000.0)
        elif name == "inactive":
            if not isinstance(value, bool):
                raise ValueError("inactive must be true or false")
        elif name in ("path_contains", "method", "code", "subcode", "kind"):
            if name != "path_contains" and value is None:
                continue
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ValueError(f"{name} must be a string of at most {MAX_TEXT} characters")
