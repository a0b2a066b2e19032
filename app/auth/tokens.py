"""AccessToken: a token value with its lifetime; its repr never shows the value."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.logs import register_secret

# Renew this long before the end: 5 minutes, but never more than a tenth of the lifetime, so an
# 8-hour web ticket is renewed 5 minutes early, a 60 s test token at 90 % (docs/protocol.md §3.3).
RENEW_BEFORE_S = 300.0
RENEW_SHARE = 0.1
# A token this close to its end is treated as expired: a request may take that long.
EXPIRY_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    """``value`` is what follows "Bearer " (e.g. "cwt=..."); times are Unix seconds."""

    value: str = field(repr=False)
    expires_at: float
    issued_at: float
    resource: str = ""

    def __post_init__(self) -> None:
        register_secret(self.value)

    @classmethod
    def issued(
        cls,
        value: str,
        expires_in: float,
        *,
        resource: str = "",
        clock: Callable[[], float] = time.time,
    ) -> AccessToken:
        now = clock()
        return cls(value, now + max(0.0, expires_in), now, resource)

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at - EXPIRY_MARGIN_S

    @property
    def renew_at(self) -> float:
        """When to renew: RENEW_BEFORE_S before the end, at most RENEW_SHARE of the lifetime."""
        lifetime = max(0.0, self.expires_at - self.issued_at)
        return self.expires_at - min(RENEW_BEFORE_S, RENEW_SHARE * lifetime)

    def due_for_refresh(self, now: float | None = None) -> bool:
        """True from ``renew_at`` on: renew if that can happen silently."""
        now = time.time() if now is None else now
        return now >= self.renew_at or self.expired(now)

    def __repr__(self) -> str:
        left = int(self.expires_at - time.time())
        return f"AccessToken(resource={self.resource!r}, expires_in={left}s, value=<hidden>)"

    __str__ = __repr__

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "resource": self.resource,
        }

    @classmethod
    def from_dict(cls, raw: object) -> AccessToken:
        """Raises ValueError for anything that is not a token this app wrote."""
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        value, expires_at, issued_at = raw.get("value"), raw.get("expires_at"), raw.get("issued_at")
        resource = raw.get("resource", "")
        if not isinstance(value, str) or not value:
            raise ValueError("no token value")
        if not isinstance(expires_at, int | float) or not isinstance(issued_at, int | float):
            raise ValueError("no lifetime")
        if not isinstance(resource, str):
            raise ValueError("bad resource")
        return cls(value, float(expires_at), float(issued_at), resource)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def parse_expires_in(raw: object, default: float = 3600.0) -> float:
    """Servers send ``expires_in`` as a number or a numeric string (the AAD template does)."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default
