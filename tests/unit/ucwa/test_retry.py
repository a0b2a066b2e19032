"""Retry timing: Retry-After in both of its forms, and capped backoff with jitter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.ucwa.retry import (
    MAX_RETRY_AFTER_S,
    RECOVERY_CAP_S,
    RECOVERY_MAX_RETRY_AFTER_S,
    Backoff,
    parse_retry_after,
    recovery_backoff,
)

NOON = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("5", 5.0), (" 1.5 ", 1.5), ("0", 0.0), ("3600", 3600.0)],
)
def test_delta_seconds_are_waited_as_given(value: str, expected: float) -> None:
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "nan", "inf", "-inf", "-4", "-0.5", "12 apples", "Thu, 99"]
)
def test_absent_garbled_or_negative_values_leave_the_choice_to_the_backoff(
    value: str | None,
) -> None:
    assert parse_retry_after(value) is None


def test_an_http_date_is_the_time_left_until_then() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=lambda: NOON) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0


def test_an_http_date_in_the_past_means_retry_now() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=lambda: NOON) == 0.0


def test_absurdly_long_waits_are_capped() -> None:
    assert parse_retry_after("1e12") == MAX_RETRY_AFTER_S
    assert parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now=lambda: NOON) == (
        MAX_RETRY_AFTER_S
    )


def test_backoff_caps_and_resets() -> None:
    backoff = Backoff(first=1.0, cap=4.0, rng=lambda: 1.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next() == 1.0
    assert backoff.next(retry_after=99) == 4.0


def test_backoff_jitter_is_never_zero() -> None:
    backoff = Backoff(first=1.0, cap=8.0, rng=lambda: 0.0)
    assert [backoff.next() for _ in range(3)] == [0.5, 1.0, 2.0]


def test_retry_after_is_a_floor_never_a_shortcut() -> None:
    backoff = recovery_backoff(rng=lambda: 1.0)
    assert [backoff.next() for _ in range(3)] == [1.0, 2.0, 4.0]
    assert backoff.next(retry_after=0) == 8.0  # "retry now" on every answer is no hot loop
    assert backoff.next(retry_after=120) == 120.0  # longer than our cap: the server is obeyed
    assert backoff.next(retry_after=10_000) == RECOVERY_MAX_RETRY_AFTER_S
    assert [backoff.next() for _ in range(3)] == [RECOVERY_CAP_S] * 3
