"""Finding a colleague from the number field: debounce, newest query wins, 403, choosing a row."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ucwa.errors import SearchNotAllowed, ServerError
from app.viewmodel.dialer import PICK_A_PERSON, DialerViewModel
from app.viewmodel.ports import MemorySettingsStore
from tests.viewmodel.fakes import FakeCallService

REFUSED = "Your account is not allowed to search the address book; type a number instead."


@pytest.fixture
def dialer() -> DialerViewModel:
    return DialerViewModel(MemorySettingsStore(Settings(default_region="US")))


@pytest.fixture
def service(dialer: DialerViewModel) -> FakeCallService:
    service = FakeCallService()
    dialer.set_service(service)
    dialer.set_ready(signed_in=True, call_active=False)
    return service


def searches(service: FakeCallService) -> list[str]:
    return [c[1] for c in service.calls if c[0] == "search_people"]


def type_slowly_enough_to_not_pause(qtbot: QtBot, dialer: DialerViewModel, text: str) -> None:
    for end in range(1, len(text) + 1):
        dialer.setNumber(text[:end])
        qtbot.wait(50)  # well under the 300 ms pause that starts a search


def test_typing_a_name_searches_once_typing_pauses(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    type_slowly_enough_to_not_pause(qtbot, dialer, "carol")
    assert searches(service) == []  # still typing
    assert dialer.search.busy and dialer.hint == ""  # no "letters" complaint meanwhile
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert searches(service) == ["carol"]
    assert dialer.search.results == [
        {"person": "Carol Diaz", "about": "Engineer 2 · Engineering", "kind": "Work",
         "number": "+1425554321 ext. 54321"},
        {"person": "Carol Diaz", "about": "Engineer 2 · Engineering", "kind": "Mobile",
         "number": "+1 425-555-1212"},
    ]  # fmt: skip
    assert dialer.search.currentIndex == 0 and not dialer.search.busy


def test_digits_are_a_number_and_never_searched(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    for text in ("4255550100", "+44 20 7946 0000", "(425) 555-0100 x12"):
        dialer.setNumber(text)
        qtbot.wait(400)
    assert searches(service) == []
    assert not dialer.search.showing and dialer.numberValid


def test_an_out_of_date_query_is_cancelled_and_its_answer_never_shown(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    service.search_gate = asyncio.Event()  # the server holds every answer
    dialer.setNumber("carl")
    qtbot.waitUntil(lambda: searches(service) == ["carl"], timeout=2000)
    dialer.setNumber("carol")  # typed on while "carl" is at the server
    qtbot.waitUntil(lambda: searches(service) == ["carl", "carol"], timeout=2000)
    service.search_gate.set()
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    qtbot.wait(100)
    assert {row["person"] for row in dialer.search.results} == {"Carol Diaz"}


def test_going_back_to_digits_clears_the_list_and_drops_the_pending_answer(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    service.search_gate = asyncio.Event()
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: searches(service) == ["carol"], timeout=2000)
    dialer.setNumber("5500")
    service.search_gate.set()
    qtbot.wait(200)
    assert not dialer.search.showing and dialer.search.results == []
    assert not dialer.search.busy


def test_nobody_found_says_so(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("xyz")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert dialer.search.message == "No one found for 'xyz'."
    assert dialer.search.results == [] and dialer.search.currentIndex == -1


def test_refused_search_hides_the_feature_for_the_session_with_one_sentence(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    service.search_error = SearchNotAllowed(403, "Forbidden")
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert dialer.search.message == REFUSED and not dialer.search.available
    dialer.setNumber("bob")
    qtbot.wait(400)
    assert searches(service) == ["carol"]  # never asked again in this session
    assert dialer.hint == REFUSED and not dialer.search.showing
    # A new session (signing in again) may be allowed.
    dialer.set_service(FakeCallService())
    assert dialer.search.available


def test_other_failures_are_shown_in_the_list_not_as_a_banner(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    service.search_error = ServerError(500, "ServiceFailure", message="The server failed.")
    errors: list[object] = []
    dialer.errorOccurred.connect(lambda *a: errors.append(a))
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert dialer.search.message == "The address book search failed: The server failed."
    assert dialer.search.available and errors == []


def test_arrows_choose_a_number_and_enter_dials_it(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    dialer.search.moveDown()
    dialer.search.moveDown()  # stays on the last row
    assert dialer.search.currentIndex == 1
    dialer.search.moveUp()
    dialer.search.moveDown()
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["+14255551212"]
    assert service.calls[-1] == ("start_call", "+14255551212", None)
    assert dialer.number == "+1 425-555-1212" and not dialer.search.showing


def test_the_servers_own_short_number_is_dialled_as_listed(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("carol")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    with qtbot.waitSignal(dialer.dialed):
        dialer.dial()
    assert dialer.target is not None and dialer.target.uri == "tel:+1425554321;ext=54321"


def test_a_person_without_numbers_is_called_at_their_sip_address(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("uma")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert [r["kind"] for r in dialer.search.results] == ["SIP"]
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["sip:uma@contoso.com"]


def test_enter_before_the_answer_asks_to_choose(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    service.search_gate = asyncio.Event()
    dialer.setNumber("carol")
    dialer.dial()
    assert dialer.hint == PICK_A_PERSON
    assert [c for c in service.calls if c[0] == "start_call"] == []


def test_not_signed_in_nothing_is_searched(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel
) -> None:
    service = FakeCallService()
    dialer.set_service(service)
    dialer.setNumber("carol")
    qtbot.wait(400)
    assert searches(service) == [] and not dialer.search.available


def test_a_chosen_number_enables_the_call_button(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("carol")
    assert not dialer.canDial  # a name alone cannot be called
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    assert dialer.canDial
    dialer.setNumber("carol-x")  # typed on: the old rows are gone until the new answer
    assert not dialer.canDial


def test_enter_on_a_typed_sip_address_calls_that_address_not_the_persons_phone(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("carol@contoso.com")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)  # her numbers are listed
    assert dialer.search.currentIndex == -1  # but none is chosen for the user
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["sip:carol@contoso.com"]


def test_arrowing_to_a_listed_number_under_a_sip_address_dials_that_number(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("carol@contoso.com")
    qtbot.waitUntil(lambda: dialer.search.showing, timeout=2000)
    dialer.search.moveDown()
    dialer.search.moveDown()
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["+14255551212"]


def test_a_sip_link_is_not_looked_up_and_enter_calls_the_link(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, dialer: DialerViewModel, service
) -> None:
    dialer.setNumber("sip:carol@contoso.com")
    assert dialer.number == "carol@contoso.com"
    qtbot.wait(500)  # longer than the typing pause that starts a search
    assert searches(service) == [] and not dialer.search.showing
    with qtbot.waitSignal(dialer.dialed) as blocker:
        dialer.dial()
    assert blocker.args == ["sip:carol@contoso.com"]
