"""Phone-number text for the dialer: clean pasted text, format as you type, validate to E.164."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from app.ucwa import numbers

_PREFIX = re.compile(r"^\s*(?:tel|callto|sips?)\s*:\s*(?://)?", re.IGNORECASE)
# ";ext=12", "x123", "ext. 123", "extension 5" at the end; ";param=..." URI parameters anywhere.
_EXTENSION = re.compile(r"(?:;\s*ext\s*=\s*[\d\s]*|\s*(?:extension|ext\.?|x)\s*\d+\s*)$", re.I)
_PARAMS = re.compile(r";.*$")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_DIALLABLE = set("0123456789*#")


def clean(text: str) -> str:
    """What to dial from typed or pasted text: a leading ``+`` kept, then digits, ``*`` and ``#``.

    Drops spaces, dots, dashes, brackets, ``tel:``/``callto:``/``sip:`` prefixes, a SIP domain,
    URI parameters and extensions (``;ext=12``, ``x123``).
    """
    text = _PREFIX.sub("", text.strip())
    text = _EXTENSION.sub("", text)
    text = _PARAMS.sub("", text)
    text = text.split("@", 1)[0]  # sip:+1425...@contoso.com
    if text.lstrip().startswith("+"):
        text = _TRUNK_ZERO.sub("", text)  # "+44 (0)20 ..." : the (0) is dialled only nationally
    out: list[str] = []
    for ch in text:
        if (ch == "+" and not out) or ch in _DIALLABLE:
            out.append(ch)
        elif ch.isdigit():  # full-width and other Unicode digits
            out.append(str(unicodedata.digit(ch)))
    return "".join(out)


def format_as_you_type(raw: str, region: str | None) -> str:
    """phonenumbers' AsYouTypeFormatter over a cleaned dial string."""
    formatter = phonenumbers.AsYouTypeFormatter(region or "ZZ")
    result = ""
    for ch in raw:
        result = formatter.input_digit(ch)
    return result.rstrip() or raw


def validate(raw: str, region: str | None) -> tuple[str | None, str]:
    """(E.164 number or None, hint). The hint is "" when valid or empty, else one plain sentence."""
    if not raw:
        return None, ""
    if any(ch in "*#" for ch in raw):
        return None, "* and # cannot be part of a number to call."
    if raw.startswith("00"):
        raw = "+" + raw[2:]  # most of the world dials abroad with 00 (as app.ucwa.numbers does)
    if not raw.startswith("+") and not region:
        return None, "Start with + and the country code, e.g. +44 20 7946 0000."
    try:
        parsed = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return None, "Unknown country code."
        if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            return None, "Too long for a phone number."
        return None, "Too short for a phone number."
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    reasons = phonenumbers.ValidationResult
    if reason in (reasons.TOO_SHORT, reasons.INVALID_LENGTH):
        return None, "Too short for a phone number."
    if reason == reasons.TOO_LONG:
        return None, "Too long for a phone number."
    if reason == reasons.INVALID_COUNTRY_CODE:
        return None, "Unknown country code."
    return None, "This is not a valid phone number."


def display(number: str) -> str:
    """International display form of an E.164 number ("+44 20 7946 0000"); other text unchanged."""
    return numbers.display(number)


def is_incomplete(hint: str) -> bool:
    """Whether the hint only says the number is unfinished (noise while still typing)."""
    return hint == "Too short for a phone number."
