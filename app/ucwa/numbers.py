"""Phone numbers: normalise what a person typed or pasted to E.164 before anything is sent."""

from __future__ import annotations

import locale
import re
import unicodedata

import phonenumbers

from app.ucwa.errors import InvalidNumber
from app.ucwa.reasons import reason_message

__all__ = ["display", "format_as_you_type", "normalize", "reason_message", "resolve_region"]

FALLBACK_REGION = "US"
# E.164 allows 15 digits; a few more leave room for an international prefix typed by hand.
MAX_DIGITS = 17

# tel:, callto:, sip:, sips: — also the docs' "tel : +1..." spelling with spaces (samples/README).
_SCHEME = re.compile(r"^\s*(?:tel|callto|sips?)\s*:\s*", re.IGNORECASE)
# Extensions are not part of E.164: ";ext=123", "x123", "ext. 123", "extension 123", "#123".
_EXTENSION = re.compile(r"(?:;\s*ext\s*=|\s*(?:ext(?:ension)?\.?|x|#))\s*\d+\s*$", re.IGNORECASE)
_ALLOWED = re.compile(r"^[0-9+().\-/\s]*$")
_LETTER = re.compile(r"[^\W\d_]")


def resolve_region(region: str | None = None) -> str:
    """``region`` if phonenumbers knows it, else the locale's country, else "US"."""
    candidates = [region]
    try:
        name = locale.getlocale()[0]
    except ValueError:  # an unparsable LANG/LC_* setting
        name = None
    if name and "_" in name:
        candidates.append(name.split("_", 1)[1].split(".", 1)[0])
    for candidate in candidates:
        if candidate and candidate.upper() in phonenumbers.SUPPORTED_REGIONS:
            return candidate.upper()
    return FALLBACK_REGION


def _ascii_digits(text: str) -> str:
    # Digits from other scripts (Arabic-Indic, full-width) are digits all the same.
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else "+" if ch == "\uff0b" else ch
        for ch in text
    )


def _strip_uri(text: str) -> str:
    text = _SCHEME.sub("", text, count=1)
    if "@" in text:  # sip:+14255550100@contoso.com;user=phone
        text = text.split("@", 1)[0]
    # URI parameters other than an extension (";user=phone", ";phone-context=...") are not digits.
    head, _, params = text.partition(";")
    ext = next((p for p in params.split(";") if p.strip().lower().startswith("ext")), None)
    return f"{head};{ext}" if ext else head


def normalize(number: str, *, default_region: str | None = None) -> str:
    """Return ``number`` in E.164 (``+14255550100``) or raise InvalidNumber with a plain sentence.

    Accepts separators (spaces, dots, dashes, slashes, brackets), a tel:/callto:/sip: prefix, an
    extension (dropped), a leading ``+`` or an ``00`` international prefix. National numbers are
    read in ``default_region`` (else the locale's country, else US).
    """
    text = _strip_uri(_ascii_digits(number.strip())) if isinstance(number, str) else ""
    text = _EXTENSION.sub("", text).strip()
    if not text:
        raise InvalidNumber("Enter a phone number.")
    if _LETTER.search(text):
        raise InvalidNumber("A phone number cannot contain letters.")
    if not _ALLOWED.match(text):
        raise InvalidNumber("A phone number can only contain digits, spaces and + ( ) - .")
    if "+" in text[1:]:
        raise InvalidNumber("The + sign can only come first in a phone number.")
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise InvalidNumber("Enter a phone number.")
    if len(digits) > MAX_DIGITS:
        raise InvalidNumber("That phone number is too long.")
    if not text.startswith("+") and digits.startswith("00"):
        # Most of the world dials abroad with 00; phonenumbers only knows the region's own prefix.
        digits = "+" + digits[2:]
    elif text.startswith("+"):
        digits = "+" + digits
    region = resolve_region(default_region)
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(_parse_failure(exc)) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("That is not a complete phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _parse_failure(exc: phonenumbers.NumberParseException) -> str:
    if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        return "That number starts with an unknown country code."
    if exc.error_type in (
        phonenumbers.NumberParseException.TOO_SHORT_NSN,
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return "That is not a complete phone number."
    if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
        return "That phone number is too long."
    return "That is not a phone number."


def format_as_you_type(text: str, region: str | None = None) -> str:
    """Format a partly typed number for display ("+1 425-555-01"); keeps only digits and a +."""
    formatter = phonenumbers.AsYouTypeFormatter(resolve_region(region))
    result, fed = "", False
    for char in text:
        # A + counts only before the first digit; everything else (separators, letters) is noise.
        if char in "0123456789" or (char == "+" and not fed):
            result, fed = formatter.input_digit(char), True
    return result


def display(e164: str) -> str:
    """International display form of an E.164 number ("+1 425-555-0100"); input unchanged if not."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
