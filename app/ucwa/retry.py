"""Retry timing: the ``Retry-After`` header and capped exponential backoff with jitter."""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from datetime import UTC
from typing import Final

__all__ = [
    "MAX_RETRY_AFTER_S",
    "RECOVERY_CAP_S",
    "RECOVERY_FIRST_S",
    "RECOVERY_MAX_RETRY_AFTER_S",
    "Backoff",
    "parse_retry_after",
    "recovery_backoff",
]

# Beyond a day a Retry-After is a server bug, not advice; callers cap far lower (Backoff.cap).
MAX_RETRY_AFTER_S: Final = 86_400.0
# The one backoff every recovery path of a session shares (docs/protocol.md §8.4): about 1 s
# doubling to 30 s, so a server that keeps failing sees a few requests a minute, not thousands.
RECOVERY_FIRST_S: Final = 1.0
RECOVERY_CAP_S: Final = 30.0
# A server may ask for a longer pause than our cap; we honour up to five minutes of it.
RECOVERY_MAX_RETRY_AFTER_S: Final = 300.0


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    None when absent, garbled, negative or not a finite number (the caller then backs off on its
    own). A date in the past means "now" (0.0); anything longer than MAX_RETRY_AFTER_S is capped.
    ``now`` gives the current time in seconds since the epoch (for HTTP dates).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        # parsedate_to_datetime returns a naive datetime for "-0000"; HTTP dates are UTC.
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, when.timestamp() - now())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


class Backoff:
    """Capped exponential backoff with jitter; ``Retry-After`` is a floor for the wait.

    ``rng`` is injectable (tests); the caller sleeps (with its own injectable sleep).
    ``max_retry_after`` bounds how long a server's ``Retry-After`` may hold us (default: ``cap``).
    """

    def __init__(
        self,
        first: float = 0.5,
        cap: float = 30.0,
        *,
        rng: Callable[[], float] = random.random,
        max_retry_after: float | None = None,
    ) -> None:
        self.first, self.cap, self._rng = first, cap, rng
        self.max_retry_after = cap if max_retry_after is None else max_retry_after
        self.attempt = 0

    def next(self, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.first * 2.0 ** min(self.attempt, 30))
        self.attempt += 1
        # Half fixed, half random: never zero (no hot loop), still spreads clients apart.
        delay = ceiling / 2 + self._rng() * ceiling / 2
        if retry_after is not None:
            # The server's word is a floor: never sooner than asked, never sooner than our own
            # schedule (a Retry-After of 0 on every answer must not make a hot loop).
            return min(max(retry_after, delay), max(self.max_retry_after, delay))
        return delay

    def reset(self) -> None:
        self.attempt = 0


def recovery_backoff(*, rng: Callable[[], float] = random.random) -> Backoff:
    """The backoff a session's recovery paths share (event channel and application restarts)."""
    return Backoff(
        RECOVERY_FIRST_S, RECOVERY_CAP_S, rng=rng, max_retry_after=RECOVERY_MAX_RETRY_AFTER_S
    )
