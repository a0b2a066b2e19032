"""The number policy: what people type, paste and click becomes a tel:/sip: target or a sentence."""

from __future__ import annotations

import locale
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.dialing import (
    DIAL_PLAN_HINT,
    DialKind,
    dial_target,
    dial_target_from_server,
    phone_number,
    region_of,
    resolve_region,
)
from app.ucwa.errors import InvalidNumber
from app.ucwa.numbers import display, format_as_you_type


@pytest.mark.parametrize(
    "text",
    [
        "+14255550100",
        "+1 (425) 555-0100",
        "+1.425.555.0100",
        "425 555 0100",
        "(425) 555-0100",
        "425-555-0100",
        "4255550100",
        "1 425 555 0100",
        "tel:+14255550100",
        "TEL:+1-425-555-0100",
        "tel : +1 425 555 0100",
        "callto:+14255550100",
        "callto://+14255550100",
        "sip:+14255550100@contoso.com;user=phone",
        "tel:4255550100;phone-context=defaultprofile",
        "tel:425-555-0100;phone-context=+1",
        "tel:+1%20425%20555%200100",
        "  +1 425 555 0100  ",
        "0014255550100",
        "٤٢٥٥٥٥٠١٠٠",  # Arabic-Indic digits
        "＋１ ４２５ ５５５ ０１００",  # full-width
    ],
)
def test_us_spellings_become_one_e164_target(text: str) -> None:
    target = dial_target(text, "US")
    assert (target.kind, target.uri, target.display) == (
        DialKind.E164,
        "tel:+14255550100",
        "+1 425-555-0100",
    )
    assert not target.needs_dial_plan


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("tel:+14255554321;ext=54321", "tel:+14255554321;ext=54321"),
        ("425-555-0100 x123", "tel:+14255550100;ext=123"),
        ("425-555-0100 ext. 7", "tel:+14255550100;ext=7"),
        ("+1 425 555 0100 extension 12", "tel:+14255550100;ext=12"),
    ],
)
def test_extensions_stay_with_the_number(text: str, uri: str) -> None:
    assert dial_target(text, "US").uri == uri


@pytest.mark.parametrize(
    ("text", "region", "uri"),
    [
        ("020 7946 0000", "GB", "tel:+442079460000"),
        ("0044 20 7946 0000", "US", "tel:+442079460000"),
        ("+44 (0)20 7946 0000", "US", "tel:+442079460000"),
        ("030 1234567", "DE", "tel:+49301234567"),
        ("00 49 30 1234567", "DE", "tel:+49301234567"),
        ("tel:+49%2030%2012345678", "US", "tel:+493012345678"),
        ("+33 1 23 45 67 89", "gb", "tel:+33123456789"),
    ],
)
def test_international_and_regional(text: str, region: str, uri: str) -> None:
    assert dial_target(text, region).uri == uri


@pytest.mark.parametrize(
    ("text", "region", "uri"),
    [
        ("5500", "US", "tel:5500"),
        ("55", "US", "tel:55"),
        ("555-0100", "US", "tel:5550100"),  # a local number: the dial plan adds the area code
        ("5500", "DE", "tel:5500"),  # possible in Germany, but no valid number: an extension
        ("200 200 0000", "US", "tel:2002000000"),  # no such area code: the dial plan decides
        ("4255550100", None, "tel:4255550100"),  # no region known: the server's plan decides
        ("tel:5500", "GB", "tel:5500"),
    ],
)
def test_dial_strings_go_to_the_servers_dial_plan(text: str, region: str | None, uri: str) -> None:
    target = dial_target(text, region)
    assert (target.kind, target.uri) == (DialKind.DIAL_STRING, uri)
    assert target.needs_dial_plan
    assert DIAL_PLAN_HINT == "Your company's dial plan will complete this number."


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("sip:bob@contoso.com", "sip:bob@contoso.com"),
        ("bob@contoso.com", "sip:bob@contoso.com"),
        ("SIP:Bob.Smith@Contoso.COM", "sip:Bob.Smith@contoso.com"),
        ("sip:bob@contoso.com;transport=tls", "sip:bob@contoso.com"),
        ("sip:bob%40contoso.com", "sip:bob@contoso.com"),
        ("callto:bob@contoso.com", "sip:bob@contoso.com"),
        ("bob@localhost", "sip:bob@localhost"),
    ],
)
def test_sip_addresses(text: str, uri: str) -> None:
    target = dial_target(text, "US")
    assert (target.kind, target.uri) == (DialKind.SIP, uri)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Enter a number"),
        ("   ", "Enter a number"),
        ("tel:", "Enter a number"),
        ("call me", "letters"),
        ("1-800-FLOWERS", "letters"),
        ("12ab", "letters"),
        ("1" * 40, "too long"),
        ("📞", "only contain digits"),
        ("+1 425 555 0100 😀", "only contain digits"),
        ("*21#", "* and #"),
        ("1", "not a complete phone number"),
        ("+1 425 +555", "+ sign"),
        ("+999 1234 5678", "country code"),
        ("+1425554321", "not a complete"),  # one digit short (as in one vendor sample)
        ("tel:%ZZ", "%-escape"),
        ("tel:%FF%FE", "%-escape"),
        ("tel:+1425%0a5550100", "control characters"),
        ("+1425\x005550100", "control characters"),
        ("http://evil.example/", '"http:"'),
        ("javascript:alert(1)", '"javascript:"'),
        ("tel:bob@contoso.com", "not an address"),
        ("bob@@contoso.com", "exactly one @"),
        ("bob smith@contoso.com", "spaces"),
        ("bob@contoso", "domain"),
        ("bob@-contoso.com", "domain"),
        ("@contoso.com", "before the @"),
        ("x" * 65 + "@contoso.com", "before the @"),
        ("5" * 300, "too long"),
    ],
)
def test_what_cannot_be_called_is_refused_with_a_sentence(text: str, words: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        dial_target(text, "US")
    message = info.value.user_message
    assert words in message
    assert message.endswith(".") and "\n" not in message


def test_phone_number_gives_e164_for_callbacks_and_server_lists() -> None:
    assert phone_number("tel:+14255551234") == "+14255551234"
    assert phone_number("tel:4255551212;phone-context=defaultprofile", "US") == "+14255551212"
    with pytest.raises(InvalidNumber):
        phone_number("5500", "US")
    with pytest.raises(InvalidNumber):
        phone_number("sip:bob@contoso.com", "US")


def test_region_comes_from_the_setting_then_the_locale_then_own_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(locale, "getlocale", lambda *a: ("en_GB", "UTF-8"))
    assert resolve_region() == "GB"
    assert resolve_region("de") == "DE"  # an explicit region wins
    monkeypatch.setattr(locale, "getlocale", lambda *a: ("C", "UTF-8"))
    assert resolve_region() is None
    assert resolve_region(None, ["tel:+14255551234"]) == "US"  # me/phones serves tel: URIs
    assert resolve_region(None, ["5500", "+442079460000"]) == "GB"
    assert resolve_region("not-a-region", ["+14255551234"]) == "US"


def test_unparsable_locale_is_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> tuple[str, str]:
        raise ValueError("unknown locale")

    monkeypatch.setattr(locale, "getlocale", broken)
    assert resolve_region() is None
    assert region_of("+14255550100") == "US"
    assert region_of("nonsense") is None


def test_format_as_you_type() -> None:
    assert format_as_you_type("+1425555", "US") == "+1 425-555"
    assert format_as_you_type("4255550100", "US") == "(425) 555-0100"
    assert format_as_you_type("+1 (425) 555-01x", "US") == "+1 425-555-01"
    assert format_as_you_type("", "US") == ""


def test_display() -> None:
    assert display("+14255550100") == "+1 425-555-0100"
    assert display("+442079460000") == "+44 20 7946 0000"
    assert display("not a number") == "not a number"


# -- properties ----------------------------------------------------------------------------

_SHAPES = re.compile(r"tel:\+[1-9]\d{1,14}(;ext=\d{1,15})?|tel:\d{2,15}|sip:[^@\s]+@[a-z0-9.\-]+")
us_numbers = st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z")
separators = st.sampled_from(["", " ", "-", ".", " - "])
regions = st.sampled_from([None, "US", "GB", "DE", "IN"])
link_alphabet = st.sampled_from([*"0123456789+-.() ;=%@:/abcxyzADFtelsipcallo#*?\x00\n", "ext"])
links = st.builds(
    lambda scheme, body: scheme + body,
    st.sampled_from(["tel:", "callto:", "sip:", "sips:", "TEL:", "callto://", "", "foo:"]),
    st.lists(link_alphabet, max_size=30).map("".join),
)


@settings(max_examples=150, deadline=None)
@given(number=us_numbers, sep=separators, prefix=st.sampled_from(["", "+1", "1", "tel:+1", "001"]))
def test_separators_never_change_the_result(number: str, sep: str, prefix: str) -> None:
    expected = dial_target(prefix + number, "US")
    spaced = f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"
    if prefix:
        spaced = f"{prefix}{sep or ' '}{spaced}"
    assert dial_target(spaced, "US").uri == expected.uri


def _check_policy(text: str, region: str | None) -> None:
    try:
        target = dial_target(text, region)
    except InvalidNumber as exc:
        assert exc.user_message.endswith(".")
        return
    assert _SHAPES.fullmatch(target.uri), target.uri
    # Its own output reads back as itself, in any region.
    assert dial_target(target.uri, region).uri == target.uri
    assert dial_target(target.uri, "FR").uri == target.uri
    if target.kind is DialKind.E164:
        e164 = target.number
        assert phonenumbers.is_possible_number(phonenumbers.parse(e164, None))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), regions)
def test_policy_fuzz_any_text(text: str, region: str | None) -> None:
    _check_policy(text, region)


@settings(max_examples=300, deadline=None)
@given(links, regions)
def test_link_parser_fuzz(text: str, region: str | None) -> None:
    _check_policy(text, region)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_as_you_type_and_display_never_raise(text: str) -> None:
    assert isinstance(format_as_you_type(text, "US"), str)
    assert isinstance(display(text), str)


# -- numbers the server lists for a contact ------------------------------------------------------


def test_server_listed_number_one_digit_short_is_still_dialled_through_the_dial_plan() -> None:
    target = dial_target_from_server("tel:+1425554321;ext=54321", "US")
    assert target.kind is DialKind.DIAL_STRING and target.needs_dial_plan
    assert target.uri == "tel:+1425554321;ext=54321"
    assert target.display == "+1425554321 ext. 54321"
    # Typed by a person, the same number is refused: only the server vouches for it.
    with pytest.raises(InvalidNumber):
        dial_target("tel:+1425554321;ext=54321", "US")


@pytest.mark.parametrize(
    ("region", "uri", "shown"),
    [("US", "tel:+14255551212", "+1 425-555-1212"), (None, "tel:4255551212", "4255551212")],
)
def test_server_listed_local_number_with_named_context(
    region: str | None, uri: str, shown: str
) -> None:
    target = dial_target_from_server("tel:4255551212;phone-context=defaultprofile", region)
    assert (target.uri, target.display) == (uri, shown)


def test_server_listed_complete_numbers_become_e164() -> None:
    assert dial_target_from_server("tel:+1-425-555-0190", None).uri == "tel:+14255550190"
    assert dial_target_from_server("tel:5550106;phone-context=+1425", None).uri == (
        "tel:+14255550106"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "sip:bob@contoso.com",
        "tel:abc",
        "tel:+1425\u202e554321",
        "tel:%zz1234",
        "tel:+1425554321;ext=5x",
        "tel:1",
        "tel:+1234567890123456789",
        "https://evil.example/1234",
        "",
    ],
)
def test_server_listed_malformed_or_hostile_numbers_are_refused(uri: str) -> None:
    with pytest.raises(InvalidNumber):
        dial_target_from_server(uri, "US")
