"""Dial-field text: which typed text is a plain number to format, and what a target means to a user.

Whether and as what something can be called is decided in app.ucwa.dialing alone.
"""

from __future__ import annotations

from app.ucwa import dialing, numbers
from app.ucwa.errors import InvalidNumber

__all__ = [
    "DialCheck",
    "check",
    "clean",
    "display",
    "format_as_you_type",
    "is_incomplete",
    "is_plain",
]

_PLAIN = set("0123456789+*# -.()/\u00a0\uff0b")


def is_plain(text: str) -> bool:
    """Only digits (of any script) and separators: formatted as typed, not kept as written."""
    return all(ch in _PLAIN or ch.isdecimal() or ch.isspace() for ch in text)


def clean(text: str) -> str:
    """What a dial pad holds of plain typed text: a leading ``+``, then digits, ``*`` and ``#``."""
    return dialing.typed_digits(text)


def format_as_you_type(raw: str, region: str | None) -> str:
    """phonenumbers' AsYouTypeFormatter over a cleaned dial string."""
    return numbers.format_as_you_type(raw, region)


class DialCheck:
    """The dial field's verdict: the target (or None) and the hint line under the field."""

    __slots__ = ("hint", "target")

    def __init__(self, target: dialing.DialTarget | None, hint: str) -> None:
        self.target = target
        self.hint = hint


def check(text: str, region: str | None) -> DialCheck:
    """The target for ``text`` and the hint: "" when fine or empty, the dial-plan note for a
    dial string, else the policy's plain sentence."""
    if not text.strip():
        return DialCheck(None, "")
    try:
        target = dialing.dial_target(text, region)
    except InvalidNumber as exc:
        return DialCheck(None, exc.user_message)
    return DialCheck(target, dialing.DIAL_PLAN_HINT if target.needs_dial_plan else "")


def display(number: str) -> str:
    """International display form of an E.164 number ("+44 20 7946 0000"); other text unchanged."""
    return numbers.display(number)


def is_incomplete(hint: str) -> bool:
    """Whether the hint only says the number is unfinished (noise while still typing)."""
    return hint == dialing.INCOMPLETE_NUMBER
