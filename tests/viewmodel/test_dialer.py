"""DialerViewModel: cleaning, formatting as you type, hints, dialling, recents, callback choice."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ucwa.errors import InvalidNumber
from app.ucwa.status import ConnectionState
from app.viewmodel.dialer import DialerViewModel
from app.viewmodel.phone import clean
from app.viewmodel.ports import MemorySettingsStore
from tests.viewmodel.fakes import FakeCallService, run


@pytest.fixture
def store() -> MemorySettingsStore:
    return MemorySettingsStore(Settings(default_region="US"))


@pytest.fixture
def dialer(store: MemorySettingsStore) -> DialerViewModel:
    return DialerViewModel(store)


def ready(dialer: DialerViewModel, service: FakeCallService) -> None:
    dialer.set_service(service)
    dialer.set_ready(signed_in=True, call_active=False)


@pytest.mark.parametrize(
    ("pasted", "raw"),
    [
        ("(425) 555.0100", "4255550100"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("１２３", "123"),
        ("1+2", "12"),
    ],
)
def test_pasted_digits_are_cleaned(pasted: str, raw: str) -> None:
    assert clean(pasted) == raw


@pytest.mark.parametrize(
    ("pasted", "shown", "uri"),
    [
        ("tel:+1-425-555-0100;ext=12", "+1 425-555-0100 ext. 12", "tel:+14255550100;ext=12"),
        ("callto://+14255550100", "+1 425-555-0100", "tel:+14255550100"),
        ("sip:+14255550100@contoso.com;user=phone", "+1 425-555-0100", "tel:+14255550100"),
        ("tel:+49%2030%2012345678", "+49 30 12345678", "tel:+493012345678"),
        ("sip:bob@contoso.com", "bob@contoso.com", "sip:bob@contoso.com"),
        ("(425) 555.0100 x123", "(425) 555.0100 x123", "tel:+14255550100;ext=123"),
        ("+1 425 555 0100 ext. 5", "+1 425 555 0100 ext. 5", "tel:+14255550100;ext=5"),
        ("tel:%ZZ", "tel:%ZZ", None),
    ],
)
def test_pasted_links_show_what_they_dial(
    dialer: DialerViewModel, pasted: str, shown: str, uri: str | None
) -> None:
    dialer.setNumber(pasted)
    assert dialer.number == shown
    assert (dialer.target.uri if dialer.target else None) == uri
    if uri is None:
        assert "%-escape" in dialer.hint


def test_formats_as_you_type_and_keeps_the_plus(dialer: DialerViewModel) -> None:
    shown = []
    dialer.numberChanged.connect(shown.append)
    for ch in "+442079460000":
        dialer.appendDigit(ch)
    assert dialer.number == "+44 20 7946 0000"
    assert shown[-1] == "+44 20 7946 0000"
    assert dialer.numberValid
    dialer.backspace()
    assert dialer.number == "+44 20 7946 000"


def test_paste_into_the_field_is_cleaned_and_formatted(dialer: DialerViewModel) -> None:
    dialer.setNumber("+1 (425) 555-0100")
    assert dialer.number == "+1 425-555-0100"
    assert dialer.numberValid and dialer.hint == ""


def test_00_counts_as_the_international_prefix(dialer: DialerViewModel) -> None:
    dialer.setNumber("0044 20 7946 0000")
    assert dialer.target is not None and dialer.target.uri == "tel:+442079460000"


def test_national_number_uses_the_default_region(dialer: DialerViewModel) -> None:
    dialer.setNumber("425.555.0100")
    assert dialer.number == "(425) 555-0100"
    assert dialer.target is not None and dialer.target.uri == "tel:+14255550100"


def test_same_text_emits_nothing(qtbot: QtBot, dialer: DialerViewModel) -> None:
    dialer.setNumber("+1425")
    with qtbot.assertNotEmitted(dialer.numberChanged):
        dialer.setNumber("+1 425")


def test_deleting_a_formatting_character_deletes_the_digit_before_it(
    dialer: DialerViewModel,
) -> None:
    dialer.setNumber("4255550")
    assert dialer.number == "425-5550"
    dialer.setNumber("4255550")  # backspace right after the dash
    assert dialer.number == "425-550"
    dialer.setNumber("+1 425-555-0100")
    dialer.setNumber("+14255550100")  # pasting the same number unformatted changes nothing
    assert dialer.number == "+1 425-555-0100" and dialer.numberValid


def test_hints_before_anything_is_sent(dialer: DialerViewModel) -> None:
    dialer.setNumber("+999 123")
    assert dialer.hint == "That number starts with an unknown country code."
    dialer.setNumber("+1 425")
    assert dialer.hint == ""  # still typing: no nagging
    service = FakeCallService()
    ready(dialer, service)
    dialer.dial()
    assert dialer.hint == "That is not a complete phone number."
    assert not dialer.canDial
    assert service.calls == []
    dialer.setNumber("*21#")
    assert "cannot be part of a number" in dialer.hint


def test_without_a_region_a_national_number_is_left_to_the_dial_plan() -> None:
    dialer = DialerViewModel(MemorySettingsStore(), region=None)
    dialer._region = None  # the test machine's locale must not matter
    dialer.setNumber("4255550100")
    assert dialer.hint == "Your company's dial plan will complete this number."
    assert dialer.target is not None and dialer.target.uri == "tel:4255550100"


def test_an_extension_and_a_sip_address_can_be_dialled(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    service = FakeCallService()
    ready(dialer, service)
    dialer.setNumber("5500")
    assert dialer.canDial
    assert dialer.hint == "Your company's dial plan will complete this number."
    dialer.setNumber("bob@contoso.com")
    assert dialer.canDial and dialer.hint == ""
    assert dialer.number == "bob@contoso.com"
    dialer.dial()
    qtbot.waitUntil(lambda: not dialer.dialing)
    assert service.calls[-1] == ("start_call", "sip:bob@contoso.com", None)


def test_own_numbers_give_the_region_when_nothing_else_does(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("locale.getlocale", lambda *a: ("C", "UTF-8"))
    dialer = DialerViewModel(MemorySettingsStore())
    service = FakeCallService()
    service.phones = [("+442079460001", "Work")]
    ready(dialer, service)
    run(qtbot, dialer.load_phones())
    dialer.setNumber("020 7946 0000")
    assert dialer.target is not None and dialer.target.uri == "tel:+442079460000"


def test_can_dial_needs_a_valid_number_a_session_and_no_call(dialer: DialerViewModel) -> None:
    dialer.setNumber("+14255550100")
    assert not dialer.canDial  # not signed in
    service = FakeCallService()
    dialer.set_service(service)
    dialer.set_ready(signed_in=True, call_active=False)
    assert dialer.canDial
    dialer.set_ready(signed_in=True, call_active=True)
    assert not dialer.canDial


def test_dial_places_the_call_with_the_callback_and_remembers_it(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: MemorySettingsStore
) -> None:
    dialer = DialerViewModel(store)
    service = FakeCallService()
    ready(dialer, service)
    run(qtbot, dialer.load_phones())
    assert dialer.callbackChoices == ["Work +1 425-555-0123", "Mobile +1 425-555-0124"]
    dialer.setCallbackIndex(1)
    assert dialer.callbackNumber == "+14255550124"
    dialer.setNumber("+44 20 7946 0000")
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["+442079460000"]
    assert service.calls[-1] == ("start_call", "+442079460000", "+14255550124")
    assert dialer.recentNumbers == ["+44 20 7946 0000"]
    saved = store.load()
    assert saved.recent_numbers == ("tel:+442079460000",)  # as sent: an extension would stay
    assert saved.callback_number == "+14255550124"
    # A new dialer (next start) has the recents and the chosen phone.
    again = DialerViewModel(store)
    assert again.recentNumbers == ["+44 20 7946 0000"]
    again.set_service(service)
    run(qtbot, again.load_phones())
    assert again.callbackIndex == 1


def test_redial_calls_the_most_recent_number(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: MemorySettingsStore
) -> None:
    store.save(store.load().replace(recent_numbers=("+14255550101", "+14255550100")))
    dialer = DialerViewModel(store)
    service = FakeCallService()
    ready(dialer, service)
    with qtbot.waitSignal(dialer.dialed):
        dialer.redial()
    assert service.calls[-1] == ("start_call", "+14255550101", None)
    assert dialer.number == "+1 425-555-0101"


def test_a_failed_dial_reports_the_error_and_allows_another_try(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    service = FakeCallService(start_error=InvalidNumber("The number +1 is not a phone number."))
    ready(dialer, service)
    dialer.setNumber("+14255550100")
    with qtbot.waitSignal(dialer.errorOccurred) as blocker:
        dialer.dial()
    assert blocker.args[0] == "The number +1 is not a phone number."
    assert "Traceback" not in blocker.args[1]
    assert dialer.canDial and not dialer.dialing
    assert dialer.recentNumbers == []


def test_dialling_disables_dial_until_the_server_answers(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    service = FakeCallService()
    ready(dialer, service)
    dialer.setNumber("+14255550100")
    with qtbot.waitSignal(dialer.dialed):
        dialer.dial()
        assert dialer.dialing and not dialer.canDial
        dialer.dial()  # a second Enter while the first is in flight does nothing
    assert [c[0] for c in service.calls].count("start_call") == 1


def test_custom_callback_is_validated_and_remembered(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: MemorySettingsStore
) -> None:
    dialer = DialerViewModel(store)
    dialer.setCustomCallback("1")
    assert dialer.callbackHint == "That is not a complete phone number."
    assert dialer.callbackNumber == ""
    dialer.setCustomCallback("+44 20 7946 0001")
    assert dialer.callbackHint == ""
    assert dialer.callbackChoices == ["Other +44 20 7946 0001"]
    assert dialer.callbackNumber == "+442079460001"
    service = FakeCallService()
    ready(dialer, service)
    run(qtbot, dialer.load_phones())
    assert dialer.callbackChoices[-1] == "Other +44 20 7946 0001"
    assert dialer.callbackNumber == "+442079460001"  # still the user's choice
    assert store.load().callback_number == "+442079460001"


def test_ready_follows_the_shell(dialer: DialerViewModel) -> None:
    dialer.setNumber("+14255550100")
    service = FakeCallService()
    dialer.set_service(service)
    for state, expected in [
        (ConnectionState.SIGNED_IN, True),
        (ConnectionState.RECONNECTING, False),
    ]:
        dialer.set_ready(signed_in=state is ConnectionState.SIGNED_IN, call_active=False)
        assert dialer.canDial is expected


def test_redial_calls_the_extension_too(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    service = FakeCallService()
    ready(dialer, service)
    dialer.setNumber("(425) 555-0100 x12")
    with qtbot.waitSignal(dialer.dialed):
        dialer.dial()
    assert dialer.recentNumbers == ["+1 425-555-0100 ext. 12"]

    dialer.clear()
    with qtbot.waitSignal(dialer.dialed):
        dialer.redial()
    assert dialer.target is not None and dialer.target.uri == "tel:+14255550100;ext=12"
    assert dialer.number == "+1 425-555-0100 ext. 12"


def test_a_number_the_server_listed_is_redialled_as_it_was_sent(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    # Carol's work number is the server's own short form, which the typing rules find incomplete.
    service = FakeCallService()
    ready(dialer, service)
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    with qtbot.waitSignal(dialer.dialed):
        dialer.dial()
    sent = dialer.target.uri if dialer.target is not None else None
    assert sent == "tel:+1425554321;ext=54321"

    dialer.clear()
    with qtbot.waitSignal(dialer.dialed):
        dialer.redial()
    assert dialer.target is not None and dialer.target.uri == sent
    assert [c[1] for c in service.calls if c[0] == "start_call"] == ["+1425554321"] * 2


def test_choosing_a_recent_number_puts_it_in_the_field_as_it_was_sent(
    store: MemorySettingsStore,
) -> None:
    saved = ("tel:+1425554321;ext=54321", "+14255550101")  # the older, bare form still reads
    store.save(store.load().replace(recent_numbers=saved))
    dialer = DialerViewModel(store)
    assert dialer.recentNumbers == ["+1425554321 ext. 54321", "+1 425-555-0101"]
    dialer.chooseRecent(0)
    assert dialer.numberValid and dialer.target is not None
    assert dialer.target.uri == "tel:+1425554321;ext=54321"
    dialer.chooseRecent(1)
    assert dialer.target is not None and dialer.target.uri == "tel:+14255550101"


def test_redial_needs_a_recent_number_and_no_call(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: MemorySettingsStore
) -> None:
    dialer = DialerViewModel(store)
    service = FakeCallService()
    ready(dialer, service)
    assert not dialer.canRedial  # nothing called yet
    store.save(store.load().replace(recent_numbers=("+14255550101",)))
    dialer.set_store(store)
    assert dialer.canRedial
    with qtbot.waitSignal(dialer.canRedialChanged, check_params_cb=lambda on: not on):
        dialer.set_ready(signed_in=True, call_active=True)
    dialer.setNumber("+1 206 555 0111")  # typed during the call, for the next one
    dialer.redial()
    qtbot.wait(10)
    assert dialer.number == "+1 206-555-0111"  # not overwritten
    assert service.calls == []
    dialer.set_ready(signed_in=True, call_active=False)
    assert dialer.canRedial


def test_changing_ring_me_at_tells_the_server_the_new_number(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: MemorySettingsStore
) -> None:
    dialer = DialerViewModel(store)
    service = FakeCallService()
    ready(dialer, service)
    run(qtbot, dialer.load_phones())
    assert ("set_callback_number", "+14255550124") not in service.calls
    dialer.setCallbackIndex(1)
    qtbot.waitUntil(lambda: ("set_callback_number", "+14255550124") in service.calls)
    dialer.setCustomCallback("+44 20 7946 0001")
    qtbot.waitUntil(lambda: ("set_callback_number", "+442079460001") in service.calls)
