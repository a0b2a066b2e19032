"""Phone numbers as people type and paste them, normalised to E.164 or refused in plain words."""

from __future__ import annotations

import locale

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.errors import InvalidNumber
from app.ucwa.numbers import display, format_as_you_type, normalize, reason_message, resolve_region


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
        "sip:+14255550100@contoso.com;user=phone",
        "+14255550100;ext=123",
        "425-555-0100 x123",
        "425-555-0100 ext. 7",
        "  +1 425 555 0100  ",
        "011 1 425 555 0100",
        "001 425 555 0100",
        "٤٢٥٥٥٥٠١٠٠",  # Arabic-Indic digits
        "＋１ ４２５ ５５５ ０１００",  # full-width
    ],
)
def test_us_spellings_normalise(text: str) -> None:
    assert normalize(text, default_region="US") == "+14255550100"


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("020 7946 0000", "GB", "+442079460000"),
        ("0044 20 7946 0000", "US", "+442079460000"),
        ("+44 (0)20 7946 0000", "US", "+442079460000"),
        ("030 1234567", "DE", "+49301234567"),
        ("00 49 30 1234567", "DE", "+49301234567"),
        ("+33 1 23 45 67 89", "gb", "+33123456789"),
    ],
)
def test_international_and_regional(text: str, region: str, expected: str) -> None:
    assert normalize(text, default_region=region) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Enter a phone number"),
        ("   ", "Enter a phone number"),
        ("tel:", "Enter a phone number"),
        ("call me", "letters"),
        ("1-800-FLOWERS", "letters"),
        ("sip:bob@contoso.com", "letters"),
        ("1" * 40, "too long"),
        ("📞", "only contain digits"),
        ("+1 425 555 0100 😀", "only contain digits"),
        ("425*555", "only contain digits"),
        ("12", "not a complete phone number"),
        ("+1 425 +555", "+ sign"),
        ("+999 1234 5678", "country code"),
    ],
)
def test_bad_numbers_are_refused_with_a_sentence(text: str, words: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        normalize(text, default_region="US")
    message = info.value.user_message
    assert words in message
    assert message.endswith(".") and "\n" not in message


def test_default_region_from_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locale, "getlocale", lambda *a: ("en_GB", "UTF-8"))
    assert resolve_region() == "GB"
    assert normalize("020 7946 0000") == "+442079460000"
    assert resolve_region("DE") == "DE"  # an explicit region wins


@pytest.mark.parametrize("value", [(None, None), ("C", None), ("xx_ZZ", "UTF-8")])
def test_default_region_falls_back_to_us(monkeypatch: pytest.MonkeyPatch, value: object) -> None:
    monkeypatch.setattr(locale, "getlocale", lambda *a: value)
    assert resolve_region() == "US"
    assert resolve_region("not-a-region") == "US"


def test_unparsable_locale_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> tuple[str, str]:
        raise ValueError("unknown locale")

    monkeypatch.setattr(locale, "getlocale", broken)
    assert resolve_region() == "US"


def test_format_as_you_type() -> None:
    assert format_as_you_type("+1425555", "US") == "+1 425-555"
    assert format_as_you_type("4255550100", "US") == "(425) 555-0100"
    assert format_as_you_type("+1 (425) 555-01x", "US") == "+1 425-555-01"
    assert format_as_you_type("", "US") == ""


def test_display() -> None:
    assert display("+14255550100") == "+1 425-555-0100"
    assert display("+442079460000") == "+44 20 7946 0000"
    assert display("not a number") == "not a number"


def test_reason_message_is_reexported() -> None:
    assert reason_message("RemoteFailure", "busy") == "The line was busy."
    assert reason_message(None, "PstnCallFailed") == "Your phone did not answer."
    assert reason_message("RemoteFailure", "Whatever") == "The call could not be completed."
    assert reason_message(None, None) == "The call could not be completed."


# -- properties ----------------------------------------------------------------------------

us_numbers = st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z")
separators = st.sampled_from(["", " ", "-", ".", " - "])


@settings(max_examples=150, deadline=None)
@given(number=us_numbers, sep=separators, prefix=st.sampled_from(["", "+1", "1", "tel:+1", "001"]))
def test_separators_never_change_the_result(number: str, sep: str, prefix: str) -> None:
    plain = "+1" + number
    try:
        expected = normalize(plain)
    except InvalidNumber:
        return  # not a possible number for phonenumbers; the decoration must not change that
    spaced = f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"
    if prefix:
        spaced = f"{prefix}{sep or ' '}{spaced}"
    assert normalize(spaced, default_region="US") == expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_normalize_raises_only_invalid_number(text: str) -> None:
    try:
        result = normalize(text, default_region="US")
    except InvalidNumber as exc:
        assert exc.user_message
        return
    # Whatever got through is real E.164.
    assert result.startswith("+") and result[1:].isdigit() and len(result) <= 16
    assert phonenumbers.is_possible_number(phonenumbers.parse(result, None))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_as_you_type_and_display_never_raise(text: str) -> None:
    assert isinstance(format_as_you_type(text, "US"), str)
    assert isinstance(display(text), str)


@settings(max_examples=100, deadline=None)
@given(us_numbers)
def test_normalize_is_idempotent(number: str) -> None:
    try:
        once = normalize(number, default_region="US")
    except InvalidNumber:
        return
    assert normalize(once, default_region="GB") == once
