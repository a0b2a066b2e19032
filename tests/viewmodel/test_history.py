"""HistoryViewModel on a real history file: rows, search, redial, delete, clear, export, opt-out."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.history.service import HistoryService
from app.history.store import HistoryStore, Outcome, duration_text
from app.settings import Settings
from app.ucwa.calls import CallSnapshot, CallState
from app.ucwa.status import ConnectionState
from app.viewmodel.dialer import DialerViewModel
from app.viewmodel.history import DIALING, IN_CALL, SIGN_IN_FIRST, HistoryViewModel
from app.viewmodel.ports import MemorySettingsStore
from tests.ui.fakes import FakeCallViewModel
from tests.viewmodel.fakes import FakeCallService


@pytest.fixture
def service(tmp_path: Path) -> HistoryService:
    return HistoryService(tmp_path / "data")


def add(
    service: HistoryService,
    typed: str,
    sent: str,
    outcome: Outcome = Outcome.BUSY,
    who: str | None = None,
    demo: bool = False,
) -> int:
    store = service.store(demo)
    assert store is not None
    row = store.start(typed=typed, sent=sent, call_id=None, started_at="2026-03-04T05:06:07+00:00")
    store.finish(row, outcome=outcome, reason="Why.", answered_by=who, duration_s=65.4)
    return row


@pytest.fixture
def settings() -> MemorySettingsStore:
    return MemorySettingsStore(Settings(default_region="US"))


@pytest.fixture
def dialer(settings: MemorySettingsStore) -> DialerViewModel:
    return DialerViewModel(settings)


@pytest.fixture
def call() -> FakeCallViewModel:
    return FakeCallViewModel()


@pytest.fixture
def vm(
    service: HistoryService,
    dialer: DialerViewModel,
    call: FakeCallViewModel,
    settings: MemorySettingsStore,
) -> HistoryViewModel:
    return HistoryViewModel(service, dialer, call, settings)


def test_rows_show_number_who_when_duration_and_outcome_newest_first(
    service: HistoryService, vm: HistoryViewModel
) -> None:
    add(service, "(425) 555-0100", "tel:+14255550100", Outcome.CONNECTED, "Bob")
    add(service, "+44 20 7946 0000", "tel:+442079460000")
    vm.refresh()
    newest, oldest = vm.rows
    assert newest["number"] == "+44 20 7946 0000" and newest["outcome"] == "Busy"
    assert (oldest["number"], oldest["who"], oldest["duration"]) == (
        "(425) 555-0100",
        "Bob",
        "1:05",
    )
    assert oldest["when"].startswith("2026-03-0") and len(oldest["when"]) == 16
    assert duration_text(3725) == "1:02:05" and duration_text(None) == ""


def test_a_recorded_call_shows_up_without_a_refresh(
    service: HistoryService, vm: HistoryViewModel
) -> None:
    service.recorder(False).on_call(
        CallSnapshot(CallState.CALLING_YOU, "+14255550100", call_id="x")
    )
    assert [r["outcome"] for r in vm.rows] == ["In progress"]


def test_search_filters_by_number_or_name(service: HistoryService, vm: HistoryViewModel) -> None:
    add(service, "425 555 0100", "tel:+14255550100", who="Carol Smith")
    add(service, "+44 20 7946 0000", "tel:+442079460000")
    vm.setSearch("carol")
    assert [r["number"] for r in vm.rows] == ["425 555 0100"]
    vm.setSearch("7946")
    assert [r["number"] for r in vm.rows] == ["+44 20 7946 0000"]
    vm.setSearch("")
    assert len(vm.rows) == 2


def _signed_in(dialer: DialerViewModel) -> FakeCallService:
    """A signed-in call service behind ``dialer``, with no call in progress."""
    session = FakeCallService()
    session.push_status(ConnectionState.SIGNED_IN)
    dialer.set_service(session)
    dialer.set_ready(signed_in=True, call_active=False)
    return session


@pytest.mark.parametrize(
    ("typed", "sent", "called", "shown"),
    [
        ("(425) 555-0100", "tel:+14255550100", "+14255550100", "+1 425-555-0100"),
        # A short number from the address book, with an extension: incomplete by typing rules.
        ("carol", "tel:+1425554321;ext=54321", "+1425554321", "+1425554321 ext. 54321"),
    ],
)
def test_redial_fills_the_dialer_and_places_the_call_as_it_was_sent(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    service: HistoryService,
    vm: HistoryViewModel,
    dialer: DialerViewModel,
    typed: str,
    sent: str,
    called: str,
    shown: str,
) -> None:
    session = _signed_in(dialer)
    entry = add(service, typed, sent)
    vm.refresh()
    with qtbot.waitSignal(dialer.dialed, timeout=3000):
        vm.redial(entry)
    assert ("start_call", called, None) in session.calls
    assert dialer.target is not None and dialer.target.uri == sent
    assert dialer.number == shown
    assert vm.message == ""


def test_redial_during_a_call_is_refused_with_the_reason(
    service: HistoryService, vm: HistoryViewModel, dialer: DialerViewModel, call: FakeCallViewModel
) -> None:
    entry = add(service, "(425) 555-0100", "tel:+14255550100")
    vm.refresh()
    call.set(active=True)
    vm.redial(entry)
    assert vm.message == IN_CALL
    assert dialer.number == ""  # the number being typed stays as it was


def test_redial_before_signing_in_says_so_instead_of_doing_nothing(
    service: HistoryService, vm: HistoryViewModel, dialer: DialerViewModel
) -> None:
    entry = add(service, "(425) 555-0100", "tel:+14255550100")
    vm.refresh()
    vm.redial(entry)
    assert vm.message == SIGN_IN_FIRST


def test_redial_while_a_call_is_being_placed_says_so(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    service: HistoryService,
    vm: HistoryViewModel,
    dialer: DialerViewModel,
) -> None:
    _signed_in(dialer)
    entry = add(service, "(425) 555-0100", "tel:+14255550100")
    vm.refresh()
    dialer.setNumber("+14255550199")
    dialer.dial()  # in flight
    assert dialer.dialing
    vm.redial(entry)
    assert vm.message == DIALING


def test_delete_one_and_clear_all(service: HistoryService, vm: HistoryViewModel) -> None:
    first = add(service, "1", "tel:+1")
    add(service, "2", "tel:+2")
    vm.refresh()
    vm.deleteEntry(first)
    assert [r["number"] for r in vm.rows] == ["2"]
    vm.clearAll()
    assert vm.rows == []


def test_export_writes_every_entry_as_csv(
    tmp_path: Path, service: HistoryService, vm: HistoryViewModel
) -> None:
    add(service, "(425) 555-0100", "tel:+14255550100", Outcome.CONNECTED, "Bob")
    add(service, "+44 20 7946 0000", "tel:+442079460000")
    vm.setSearch("Bob")  # the export is not limited to what the search shows
    target = tmp_path / "out" / "calls.csv"
    target.parent.mkdir()
    assert vm.exportCsv(str(target)) is True
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["typed"] for r in rows] == ["+44 20 7946 0000", "(425) 555-0100"]
    assert rows[1]["answered_by"] == "Bob" and rows[1]["outcome"] == "connected"
    assert rows[1]["duration_s"] == "65.4" and rows[0]["reason"] == "Why."
    assert "calls.csv" in vm.message


def test_an_export_that_cannot_be_written_says_so(
    qtbot: QtBot, tmp_path: Path, vm: HistoryViewModel
) -> None:
    (tmp_path / "file").write_text("x")
    with qtbot.waitSignal(vm.errorOccurred) as blocker:
        assert vm.exportCsv(str(tmp_path / "file" / "calls.csv")) is False
    assert blocker.args[0].startswith("Could not export the call history")


def test_turning_history_off_is_saved_in_the_settings(
    vm: HistoryViewModel, settings: MemorySettingsStore
) -> None:
    assert vm.enabled
    vm.setEnabled(False)
    assert settings.load().history_enabled is False and not vm.enabled


def test_deleting_history_removes_the_files_and_the_rows(
    service: HistoryService, vm: HistoryViewModel
) -> None:
    add(service, "1", "tel:+1")
    add(service, "2", "tel:+2", demo=True)
    vm.refresh()
    vm.deleteHistory()
    assert vm.rows == []
    assert not service.path(False).exists() and not service.path(True).exists()
    assert vm.message == "The call history was deleted."


def test_demo_mode_shows_the_demo_calls_only(service: HistoryService, vm: HistoryViewModel) -> None:
    add(service, "real", "tel:+1")
    add(service, "demo", "tel:+2", demo=True)
    service.recorder(True)  # a demo session starts
    assert vm.demo and [r["number"] for r in vm.rows] == ["demo"]
    service.recorder(False)
    assert not vm.demo and [r["number"] for r in vm.rows] == ["real"]


def test_rows_survive_a_new_service_on_the_same_files(tmp_path: Path) -> None:
    first = HistoryService(tmp_path)
    add(first, "1", "tel:+1")
    first.close()
    assert [e.typed for e in HistoryStore.open(HistoryService(tmp_path).path(False)).entries()] == [
        "1"
    ]


def test_a_history_that_breaks_during_the_run_is_reported_once(
    qtbot: QtBot, service: HistoryService, vm: HistoryViewModel
) -> None:
    recorder = service.recorder(False)
    store = service.store(False)
    assert store is not None
    store.close()  # every write fails from now on
    with qtbot.waitSignal(vm.errorOccurred) as blocker:
        recorder.on_call(CallSnapshot(CallState.CALLING_YOU, "+14255550100", call_id="x"))
    assert "off for this run" in blocker.args[0]
    with qtbot.assertNotEmitted(vm.errorOccurred):
        vm.refresh()


def test_a_damaged_file_is_reported_in_the_banner(
    qtbot: QtBot, service: HistoryService, vm: HistoryViewModel
) -> None:
    service.path(False).parent.mkdir(parents=True)
    service.path(False).write_bytes(b"garbage" * 500)
    with qtbot.waitSignal(vm.errorOccurred) as blocker:
        service.recorder(False).on_call(
            CallSnapshot(CallState.CALLING_YOU, "+14255550100", call_id="x")
        )
    assert "moved aside" in blocker.args[0]
    assert [r["outcome"] for r in vm.rows] == ["In progress"]
