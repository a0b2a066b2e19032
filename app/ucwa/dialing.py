"""What a person typed, pasted or clicked, turned into the one target a call is placed to.

The single home of the number policy (docs/architecture.md): the window, ``ucwa-phone call``
and desktop links all call ``dial_target``; the server's own phone lists go through
``phone_number``; a number the server lists for a contact goes through
``dial_target_from_server``. Three shapes ever leave this module as ``DialTarget.uri``:

* ``tel:+<E.164>`` (optionally ``;ext=<digits>``): anything phonenumbers makes E.164 in the region;
* ``tel:<2-15 digits>``: a dial string (an extension, a local number) that the company's dial
  plan on the server completes;
* ``sip:user@domain``: a person's SIP address.

One exception: a ``tel:`` number that the server itself lists for a contact
(``dial_target_from_server``) but that phonenumbers does not think complete, such as
``tel:+1425554321;ext=54321``, is passed through as ``tel:[+]<digits>[;ext=<digits>]`` for
the server's dial plan: the server is the authority on its own numbers.

Links (``tel:``, ``callto:``, ``sip:``) are RFC 3966/3261 URIs: percent-escapes are decoded once,
parameters are split off (``;ext=``, ``;phone-context=``, ``;user=phone``), and visual separators
``-.()`` and spaces are dropped. A malformed link is refused; nothing is ever sent for it.
"""

from __future__ import annotations

import enum
import locale
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

import phonenumbers

from app.ucwa.errors import InvalidNumber
from app.ucwa.numbers import display

__all__ = [
    "DIAL_PLAN_HINT",
    "EMPTY_INPUT",
    "INCOMPLETE_NUMBER",
    "DialKind",
    "DialTarget",
    "dial_target",
    "dial_target_from_server",
    "is_link",
    "phone_number",
    "region_of",
    "resolve_region",
    "typed_digits",
]

EMPTY_INPUT = "Enter a number or address to call."
INCOMPLETE_NUMBER = "That is not a complete phone number."
DIAL_PLAN_HINT = "Your company's dial plan will complete this number."

MAX_INPUT = 256  # longer input is refused before any parsing (a pasted page, not a number)
MAX_E164_DIGITS = 15  # E.164 allows 15 digits after the +
MIN_DIAL_STRING, MAX_DIAL_STRING = 2, 15
MAX_SIP_USER, MAX_SIP_DOMAIN = 64, 253  # RFC 5321 local part and DNS name bounds

# The docs' "tel : +1..." spelling (spaces around the colon) is accepted too.
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)\s*:\s*")
_KNOWN_SCHEMES = {"tel", "callto", "sip", "sips"}
# A typed extension at the end: "x123", "ext. 123", "extension 123", "#123".
_TYPED_EXTENSION = re.compile(r"\s*(?:extension|ext\.?|x|#)\s*(\d{1,15})\s*$", re.IGNORECASE)
_VISUAL = re.compile(r"[\s\-.()/]")  # RFC 3966 visual separators, and spaces/slashes people type
_TRUNK_ZERO = re.compile(r"^(\+\d{1,3})\s*\(\s*0\s*\)")  # "+44 (0)20 ...": (0) is national only
_SIP_USER = re.compile(r"^[A-Za-z0-9!$&'*+\-._~=,;?/]+$")  # RFC 3261 "user" without escapes
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class DialKind(enum.Enum):
    """Which of the three shapes a target has."""

    E164 = "e164"
    DIAL_STRING = "dial_string"
    SIP = "sip"


@dataclass(frozen=True, slots=True)
class DialTarget:
    """Where a call goes: ``uri`` is sent as startPhoneAudio's ``to``; ``display`` is shown."""

    kind: DialKind
    uri: str
    display: str
    typed: str = field(default="", compare=False)
    """What the person typed, pasted or clicked ("" when not known): kept for the call history."""

    @property
    def needs_dial_plan(self) -> bool:
        """The server's dial plan, not this app, turns the number into one it can ring."""
        return self.kind is DialKind.DIAL_STRING

    @property
    def number(self) -> str:
        """The target without ``tel:`` or parameters: "+14255550100", "5500", "sip:bob@x.com"."""
        if self.kind is DialKind.SIP:
            return self.uri
        return self.uri.removeprefix("tel:").split(";", 1)[0]


# -- the region ----------------------------------------------------------------------------------


def resolve_region(setting: str | None = None, own_numbers: Iterable[str] = ()) -> str | None:
    """The region national numbers are read in: ``setting``, else the locale's country, else
    the country of the user's own numbers (E.164); None when none of them names one."""
    if setting and setting.strip().upper() in phonenumbers.SUPPORTED_REGIONS:
        return setting.strip().upper()
    try:
        name = locale.getlocale()[0]
    except ValueError:  # an unparsable LANG/LC_* setting
        name = None
    if name and "_" in name:
        country = name.split("_", 1)[1].split(".", 1)[0].split("@", 1)[0].upper()
        if country in phonenumbers.SUPPORTED_REGIONS:
            return country
    for number in own_numbers:
        if region := region_of(number):
            return region
    return None


def region_of(number: str) -> str | None:
    """The country of an international number ("+14255550100" → "US"), else None."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region in phonenumbers.SUPPORTED_REGIONS else None


# -- the policy ----------------------------------------------------------------------------------


def dial_target(text: str, region: str | None = None) -> DialTarget:
    """The target for what a person typed, pasted or clicked; InvalidNumber (one plain
    sentence) for anything that cannot be called. National numbers are read in ``region``."""
    return replace(_dial_target(text, region), typed=text.strip())


def _dial_target(text: str, region: str | None) -> DialTarget:
    if not isinstance(text, str) or not text.strip():
        raise InvalidNumber(EMPTY_INPUT)
    if len(text) > MAX_INPUT:
        raise InvalidNumber("That is too long for a number or address.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidNumber("That contains control characters; it is not a number or address.")
    scheme_match = _SCHEME.match(text)
    scheme = scheme_match.group(1).lower() if scheme_match else None
    if scheme is not None and scheme_match is not None and scheme in _KNOWN_SCHEMES:
        return _from_link(scheme, text[scheme_match.end() :], region)
    if scheme is not None and not _looks_like_host_port(text):
        raise InvalidNumber(f'Links starting with "{scheme}:" cannot be called.')
    if "@" in text:
        return _sip(text.strip())
    return _phone(text, region)


def dial_target_from_server(uri: str, region: str | None = None) -> DialTarget:
    """The target for a number the server lists (a contact's ``workPhoneNumber``, ...).

    Read exactly as ``dial_target`` reads a link. Where that refuses a well-formed ``tel:`` URI
    only because phonenumbers finds the number incomplete or the extension lacks a country code,
    the number is passed to the server's dial plan as written (without separators), since the
    server knows its own numbers. Anything else that is not a phone number (a SIP address in a
    phone field, letters, control characters, broken escapes) is refused with InvalidNumber.
    """
    try:
        target = dial_target(uri, region)
    except InvalidNumber:
        passed = _server_dial_string(uri)
        if passed is None:
            raise
        return passed
    if target.kind is DialKind.SIP:
        raise InvalidNumber("The server listed an address where a phone number belongs.")
    return target


def _server_dial_string(uri: str) -> DialTarget | None:
    match = _SCHEME.match(uri) if isinstance(uri, str) and len(uri) <= MAX_INPUT else None
    if match is None or match.group(1).lower() != "tel":
        return None
    rest = uri[match.end() :]
    if "%" in rest or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in rest):
        return None
    number, params = _split_params(rest)
    body = _VISUAL.sub("", number)
    digits = body.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        return None
    if not MIN_DIAL_STRING <= len(digits) <= MAX_E164_DIGITS:
        return None
    extension = params.get("ext") or params.get("extension")
    if extension is not None and not (
        extension.isascii() and extension.isdigit() and len(extension) <= MAX_DIAL_STRING
    ):
        return None
    uri_out = f"tel:{body}" + (f";ext={extension}" if extension else "")
    shown = body + (f" ext. {extension}" if extension else "")
    return DialTarget(DialKind.DIAL_STRING, uri_out, shown)


def is_link(text: str) -> bool:
    """Whether ``text`` is written as a tel:, callto: or sip: link."""
    match = _SCHEME.match(text)
    return match is not None and match.group(1).lower() in _KNOWN_SCHEMES


def phone_number(text: str, region: str | None = None) -> str:
    """An E.164 number ("+14255550100") from typed text or a server's ``tel:`` URI; a callback
    or a number from me/phones must be one, so dial strings and SIP addresses are refused."""
    target = dial_target(text, region)
    if target.kind is not DialKind.E164:
        raise InvalidNumber("Give the full number with + and the country code, e.g. +14255550123.")
    return target.number


def _looks_like_host_port(text: str) -> bool:
    # "bob@contoso.com:5061" is an address with a port, not a "bob@contoso.com" scheme.
    return "@" in text.split(":", 1)[0]


def _from_link(scheme: str, rest: str, region: str | None) -> DialTarget:
    if _BAD_ESCAPE.search(rest):
        raise InvalidNumber("That link has a broken %-escape; nothing was dialled.")
    try:
        decoded = unquote(rest, errors="strict") if "%" in rest else rest
    except UnicodeDecodeError:
        raise InvalidNumber("That link has a broken %-escape; nothing was dialled.") from None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in decoded):
        raise InvalidNumber("That link contains control characters; nothing was dialled.")
    if scheme == "callto":
        decoded = decoded.removeprefix("//")
    if scheme in ("sip", "sips"):
        # startPhoneAudio's `to` knows only sip: (docs/protocol.md §11 check 24); the client
        # reaches the server over TLS either way.
        return _sip_uri(decoded, region)
    if "@" in decoded:
        return _sip(decoded) if scheme == "callto" else _refuse_tel_address()
    number, params = _split_params(decoded)
    if not number.strip():
        raise InvalidNumber(EMPTY_INPUT)
    context = params.get("phone-context", "")
    if context.startswith("+") and not number.lstrip().startswith("+"):
        # RFC 3966: a local number whose context is a global prefix belongs to that country.
        number = context + number
    return _phone(number, region, extension=params.get("ext") or params.get("extension"))


def _refuse_tel_address() -> DialTarget:
    raise InvalidNumber("A tel: link holds a phone number, not an address.")


def _split_params(text: str) -> tuple[str, dict[str, str]]:
    head, *parts = text.split(";")
    params: dict[str, str] = {}
    for part in parts:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip()
    return head, params


def _sip_uri(rest: str, region: str | None) -> DialTarget:
    address = rest.split("?", 1)[0]  # URI headers (?subject=...) are not part of the address
    user_host, params = _split_params(address)
    user, at, _ = user_host.partition("@")
    if at and params.get("user") == "phone":
        # sip:+14255550100@contoso.com;user=phone is a telephone number in SIP clothing.
        return _phone(user, region)
    return _sip(user_host)


def _sip(text: str) -> DialTarget:
    address = text.strip()
    if any(ch.isspace() for ch in address):
        raise InvalidNumber("A SIP address cannot contain spaces.")
    if address.count("@") != 1:
        raise InvalidNumber("A SIP address has exactly one @, like bob@contoso.com.")
    user, domain = address.split("@")
    domain = domain.lower().rstrip(".")
    if ":" in domain:  # a port is a routing detail the server decides, not part of the address
        domain, _, port = domain.partition(":")
        if not port.isdigit():
            raise InvalidNumber("That SIP address has an invalid port.")
    if not user or len(user) > MAX_SIP_USER or not _SIP_USER.match(user):
        raise InvalidNumber("That SIP address has an invalid name before the @.")
    labels = domain.split(".")
    if (
        len(domain) > MAX_SIP_DOMAIN
        or not all(_LABEL.match(label) for label in labels)
        or (len(labels) < 2 and domain != "localhost")
    ):
        raise InvalidNumber("That SIP address needs a domain like contoso.com after the @.")
    uri = f"sip:{user}@{domain}"
    return DialTarget(DialKind.SIP, uri, f"{user}@{domain}")


def typed_digits(text: str) -> str:
    """What a dial pad holds of typed or pasted text: a leading ``+``, then digits, ``*``, ``#``.

    Separators go, digits of other scripts (full-width, Arabic-Indic) become ASCII, and the
    "(0)" of "+44 (0)20 ..." (dialled only nationally) is dropped.
    """
    text = _TRUNK_ZERO.sub(r"\1", text.strip().replace("\uff0b", "+"))
    out: list[str] = []
    for ch in text:
        if (ch == "+" and not out) or ch in "*#0123456789":
            out.append(ch)
        elif ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
    return "".join(out)


def _phone(text: str, region: str | None, *, extension: str | None = None) -> DialTarget:
    text = text.strip()
    typed_ext = _TYPED_EXTENSION.search(text)
    if typed_ext and extension is None:
        extension, text = typed_ext.group(1), text[: typed_ext.start()]
    if extension is not None:
        extension = typed_digits(extension)
        if not extension or not extension.isdigit() or len(extension) > MAX_DIAL_STRING:
            raise InvalidNumber("That extension is not a number.")
    body = _VISUAL.sub("", _TRUNK_ZERO.sub(r"\1", text.replace("\uff0b", "+")))
    if not body:
        raise InvalidNumber(EMPTY_INPUT)
    if any(ch.isalpha() for ch in body):
        raise InvalidNumber("A phone number cannot contain letters.")
    if any(ch in "*#" for ch in body):
        raise InvalidNumber("* and # cannot be part of a number to call.")
    if "+" in body[1:]:
        raise InvalidNumber("The + sign can only come first in a phone number.")
    digits = typed_digits(body)
    if len(digits) != len(body) or not digits.lstrip("+"):
        raise InvalidNumber("A phone number can only contain digits, spaces and + ( ) - .")
    international = digits.startswith("+") or digits.startswith("00")
    national = digits.removeprefix("+") if digits.startswith("+") else digits
    if digits.startswith("00"):
        national = digits[2:]  # most of the world dials abroad with 00
    if len(national) > MAX_E164_DIGITS + (0 if international else 2):
        raise InvalidNumber("That phone number is too long.")
    if international:
        return _international(national, extension)
    parsed = _parse(digits, region)
    # Valid, not merely possible: in Germany or Austria "5500" is a possible number, but typed
    # there it is an extension for the dial plan, not +49 5500.
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return _e164(parsed, extension)
    if not MIN_DIAL_STRING <= len(digits) <= MAX_DIAL_STRING:
        raise InvalidNumber(
            "That phone number is too long." if len(digits) > MAX_DIAL_STRING else INCOMPLETE_NUMBER
        )
    if extension is not None:
        raise InvalidNumber("Give the full number with the country code to dial an extension.")
    return DialTarget(DialKind.DIAL_STRING, f"tel:{digits}", digits)


def _international(digits: str, extension: str | None) -> DialTarget:
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(_parse_failure(exc)) from None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidNumber("That number starts with an unknown country code.")
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        raise InvalidNumber("That phone number is too long.")
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidNumber(INCOMPLETE_NUMBER)
    return _e164(parsed, extension)


def _parse(digits: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    if region is None:
        return None
    try:
        return phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(parsed: phonenumbers.PhoneNumber, extension: str | None) -> DialTarget:
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    shown = display(e164)
    if extension:
        return DialTarget(DialKind.E164, f"tel:{e164};ext={extension}", f"{shown} ext. {extension}")
    return DialTarget(DialKind.E164, f"tel:{e164}", shown)


def _parse_failure(exc: phonenumbers.NumberParseException) -> str:
    if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        return "That number starts with an unknown country code."
    if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
        return "That phone number is too long."
    return INCOMPLETE_NUMBER
