"""Phone numbers for display: the international form and formatting while a number is typed.

Which input is callable, and as what, is decided in app.ucwa.dialing.
"""

from __future__ import annotations

import phonenumbers

__all__ = ["display", "format_as_you_type"]


def format_as_you_type(raw: str, region: str | None) -> str:
    """A partly typed number formatted for display ("+1 425-555-01"); only digits and a leading
    + are fed to the formatter, so separators and letters never change the result."""
    formatter = phonenumbers.AsYouTypeFormatter(region or "ZZ")
    result, fed = "", False
    for char in raw:
        if char in "0123456789" or (char == "+" and not fed):
            result, fed = formatter.input_digit(char), True
    return result.rstrip() or raw


def display(number: str) -> str:
    """International display form of an E.164 number ("+1 425-555-0100"); other text unchanged."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
