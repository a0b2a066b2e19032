"""The same input dials the same target, or is refused in the same words, from the window's
dialer, from `ucwa-phone call` and from a desktop link."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app import main
from app.commands import call
from app.settings import Settings
from app.ucwa.dialing import is_link
from app.ucwa.errors import InvalidNumber
from tests.ui.real_shell import Real

US = Settings(default_region="US")

# (input, the uri sent as startPhoneAudio's `to`, or None and words of the refusal)
TABLE: list[tuple[str, str | None, str]] = [
    ("5500", "tel:5500", ""),
    ("4255550100", "tel:+14255550100", ""),
    ("+1 425 555 0100", "tel:+14255550100", ""),
    ("0044 20 7946 0000", "tel:+442079460000", ""),
    ("sip:bob@contoso.com", "sip:bob@contoso.com", ""),
    ("bob@contoso.com", "sip:bob@contoso.com", ""),
    # As a vendor sample spells it, one digit short of a US number: refused, not guessed at.
    ("tel:+1425554321;ext=54321", None, "That is not a complete phone number."),
    ("tel:+14255554321;ext=54321", "tel:+14255554321;ext=54321", ""),
    ("tel:4255551212;phone-context=defaultprofile", "tel:+14255551212", ""),
    ("tel:+49%2030%2012345678", "tel:+493012345678", ""),
    ("callto:+14255550100", "tel:+14255550100", ""),
    ("12ab", None, "A phone number cannot contain letters."),
    ("", None, "Enter a number or address to call."),
    ("tel:%ZZ", None, "That link has a broken %-escape; nothing was dialled."),
    ("4" * 40, None, "That phone number is too long."),
]


def _from_the_command_line(text: str) -> str:
    args = main.parse_args(["call", text])
    assert args.link is None  # `call sip:...` is a number to call, not a desktop link
    try:
        target, _ = call.dial_target_for(args.number, None, US)
    except InvalidNumber as exc:
        return exc.user_message
    return target.uri


def _from_the_dialer(real: Real, text: str) -> str:
    dialer = real.shell.dialer
    dialer.setNumber(text)
    if dialer.target is not None:
        return dialer.target.uri
    dialer.dial()  # refused before anything is sent: the hint says why
    return dialer.hint


def _from_a_desktop_link(real: Real, text: str) -> str:
    # The link a web page carries for the input; a link itself is passed as it is.
    link = text if is_link(text) else ("sip:" if "@" in text else "tel:") + text
    rest, found = main.split_link(["-v", link])
    assert (rest, found) == (["-v"], link)
    real.shell.dialer.clear()
    real.win.open_link(link)
    return _from_the_dialer(real, real.shell.dialer.number)


@pytest.mark.parametrize(
    ("text", "uri", "refusal"), TABLE, ids=[row[0] or "empty" for row in TABLE]
)
def test_every_entry_point_gives_the_same_answer(
    qtbot: QtBot, real: Real, text: str, uri: str | None, refusal: str
) -> None:
    expected = uri if uri is not None else refusal
    assert _from_the_command_line(text) == expected
    assert _from_the_dialer(real, text) == expected
    if uri is not None or not text:
        assert _from_a_desktop_link(real, text) == expected
    else:
        # A refused link stays in the field as written, with the same sentence.
        real.win.open_link(text if is_link(text) else "tel:" + text)
        real.shell.dialer.dial()
        assert real.shell.dialer.hint == refusal
    assert "start_call" not in real.session.names()  # filling the dialer never calls
