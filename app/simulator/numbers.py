"""Phone-number normalisation the way the simulated server does it (docs/protocol.md §12 #10)."""

from __future__ import annotations

import re

from app.simulator.errors import SimError

_SEPARATORS = re.compile(r"[\s\-.()/]")
_TEL = re.compile(r"^\s*tel\s*:\s*", re.IGNORECASE)
_SIP = re.compile(r"^\s*sip\s*:\s*([^@\s]+@[^@\s]+)\s*$", re.IGNORECASE)


def normalize_number(raw: str, field: str) -> str:
    """E.164 `+<digits>` from `tel:+1 (425) 555-0100`, `+14255550100`, `4255550100` (NANP) …

    Anything else raises 400 NormalizationFailed naming *field*.
    """
    text = _TEL.sub("", raw).split(";", 1)[0]
    text = _SEPARATORS.sub("", text)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isascii() or not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise SimError(
            400,
            "NormalizationFailed",
            f"'{field}' is not a phone number that can be normalised",
            parameters={field: "cannot be normalised"},
        )
    if not plus and len(digits) == 10:
        digits = "1" + digits  # a bare 10-digit number is North American (the samples use them)
    return "+" + digits


def normalize_target(raw: str) -> str:
    """The `to` of startPhoneAudio as a URI: `sip:user@domain` or `tel:+<digits>`."""
    sip = _SIP.match(raw)
    if sip:
        return "sip:" + sip.group(1).lower()
    return "tel:" + normalize_number(raw, "to")
