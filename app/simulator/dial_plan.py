"""The realistic server's dial plan (a US user): extensions, national numbers, known SIP users.

SimConfig.dial_plan picks this over the permissive rules in `numbers`; both answer
400 NormalizationFailed for input they cannot turn into a number (docs/protocol.md §6.2).
"""

from __future__ import annotations

import re

from app.simulator.config import SimConfig
from app.simulator.errors import SimError
from app.simulator.numbers import normalize_number, normalize_target

_SEPARATORS = re.compile(r"[\s\-.()/]")
_TEL = re.compile(r"^\s*tel\s*:\s*", re.IGNORECASE)
_SIP = re.compile(r"^\s*sip\s*:\s*([^@\s:;]+@[^@\s:;]+)\s*$", re.IGNORECASE)
# A national (NANP) number: area code and exchange never start with 0 or 1.
_NATIONAL = re.compile(r"1?([2-9][0-9]{2}[2-9][0-9]{6})")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_EXTENSION = re.compile(r"[0-9]{4}")


def _refuse(field: str) -> SimError:
    return SimError(
        400,
        "NormalizationFailed",
        f"'{field}' could not be normalised by the dial plan",
        parameters={field: "cannot be normalised"},
    )


def dial_number(cfg: SimConfig, raw: str, field: str) -> str:
    """E.164 `+<digits>` for a number the user's dial plan understands, else 400.

    `tel:` URIs lose their parameters (`;ext=`, `;phone-context=`) first; then a 4-digit
    extension gets `cfg.extension_prefix`, a US national number (10 digits, optionally a
    leading 1) gets +1, and an E.164 number stays as it is.
    """
    if not cfg.dial_plan:
        return normalize_number(raw, field)
    text = _SEPARATORS.sub("", _TEL.sub("", raw).split(";", 1)[0])
    if _E164.fullmatch(text):
        return text
    if _EXTENSION.fullmatch(text):
        return cfg.extension_prefix + text
    national = _NATIONAL.fullmatch(text)
    if national:
        return "+1" + national.group(1)
    raise _refuse(field)


def dial_target(cfg: SimConfig, raw: str) -> str:
    """The `to` of startPhoneAudio as a URI: `sip:` of a known user, or `tel:+<digits>`."""
    if not cfg.dial_plan:
        return normalize_target(raw)
    sip = _SIP.match(raw)
    if sip:
        address = sip.group(1).lower()
        known = {u.lower() for u in cfg.users} | {u.lower() for u in cfg.known_sip_users}
        if address not in known:
            raise _refuse("to")
        return "sip:" + address
    if "@" in raw or raw.strip().lower().startswith("sip"):
        raise _refuse("to")
    return "tel:" + dial_number(cfg, raw, "to")
