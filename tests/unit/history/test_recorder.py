"""CallRecorder: what a session's call snapshots leave in the history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.history.recorder import CallRecorder
from app.history.service import HistoryService
from app.history.session import dialled
from app.history.store import Entry, HistoryStore
from app.ucwa.calls import CallSnapshot, CallState
from app.ucwa.dialing import DialKind, DialTarget, dial_target
from app.ucwa.reasons import CallReason

NUMBER = "+14255550100"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore.open(tmp_path / "history.sqlite")


def snap(state: CallState, call_id: str = "op1", **kw: object) -> CallSnapshot:
    return CallSnapshot(state, NUMBER, call_id=call_id, **kw)  # type: ignore[arg-type]


def only(store: HistoryStore) -> Entry:
    [entry] = store.entries()
    return entry


def test_a_connected_call_is_written_when_it_starts_and_completed_when_it_ends(
    store: HistoryStore,
) -> None:
    clock = Clock()
    recorder = CallRecorder(lambda: store, monotonic=clock)
    recorder.dialing("(425) 555-0100")
    recorder.on_call(snap(CallState.CALLING_YOU))
    recorder.dial_done()
    assert only(store).outcome == "in progress"
    assert (only(store).typed, only(store).sent) == ("(425) 555-0100", f"tel:{NUMBER}")
    recorder.on_call(snap(CallState.CONNECTING))
    recorder.on_call(snap(CallState.CONNECTED, connected_at=100.0, answered_by="Bob Jones"))
    assert only(store).answered_by == "Bob Jones"
    clock.now = 161.26
    reason = CallReason("Success", "CallTerminated", "The other party hung up.")
    recorder.on_call(snap(CallState.ENDED, connected_at=100.0, reason=reason))
    entry = only(store)
    assert (entry.outcome, entry.duration_s, entry.answered_by) == ("connected", 61.3, "Bob Jones")
    assert entry.reason == "The other party hung up."


@pytest.mark.parametrize(
    ("subcode", "outcome"),
    [
        ("Busy", "busy"),
        ("Declined", "declined"),
        ("Missed", "no answer"),
        ("DestinationNotFound", "failed"),
    ],
)
def test_a_failed_call_gets_its_outcome_and_reason(
    store: HistoryStore, subcode: str, outcome: str
) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.dialing("+1 425 555 0100")
    recorder.on_call(snap(CallState.CALLING_YOU))
    reason = CallReason("Failure", subcode, "Some sentence.")
    recorder.on_call(snap(CallState.FAILED, reason=reason))
    entry = only(store)
    assert (entry.outcome, entry.reason, entry.duration_s) == (outcome, "Some sentence.", None)


def test_a_cancelled_call_is_cancelled(store: HistoryStore) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.on_call(snap(CallState.CALLING_YOU))
    reason = CallReason("Failure", "Canceled", "The call was cancelled.")
    recorder.on_call(snap(CallState.ENDED, reason=reason))
    assert only(store).outcome == "cancelled"
    assert only(store).typed == NUMBER  # no typed form known: the number as sent


def test_each_call_gets_its_own_entry_and_late_snapshots_change_nothing(
    store: HistoryStore,
) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.on_call(snap(CallState.CALLING_YOU, "a"))
    recorder.on_call(snap(CallState.FAILED, "a", reason=CallReason(None, "Busy", "busy")))
    recorder.on_call(snap(CallState.FAILED, "a", reason=CallReason(None, "Busy", "busy")))
    recorder.on_call(snap(CallState.CALLING_YOU, "b"))
    assert [e.outcome for e in store.entries()] == ["in progress", "busy"]


def test_nothing_is_recorded_while_history_is_off(store: HistoryStore) -> None:
    enabled = False
    recorder = CallRecorder(lambda: store, enabled=lambda: enabled)
    recorder.on_call(snap(CallState.CALLING_YOU, "a"))
    recorder.on_call(snap(CallState.ENDED, "a"))
    assert store.entries() == []
    enabled = True
    recorder.on_call(snap(CallState.CALLING_YOU, "b"))
    assert len(store.entries()) == 1


def test_a_call_still_open_when_the_session_closes_is_interrupted(store: HistoryStore) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.on_call(snap(CallState.CONNECTED, connected_at=1.0))
    recorder.session_closed()
    assert only(store).outcome == "interrupted"


def test_a_failing_write_turns_history_off_once_and_never_raises(store: HistoryStore) -> None:
    problems: list[str] = []
    recorder = CallRecorder(lambda: store, on_problem=problems.append)
    store.close()  # every write now fails
    recorder.on_call(snap(CallState.CALLING_YOU, "a"))
    recorder.on_call(snap(CallState.CALLING_YOU, "b"))
    assert len(problems) == 1 and "off for this run" in problems[0]


def test_the_service_reports_a_locked_file_once_and_records_nothing(tmp_path: Path) -> None:
    service = HistoryService(tmp_path)
    HistoryStore.open(service.path(False)).close()
    holder = sqlite3.connect(service.path(False), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        recorder = service.recorder(False)
        recorder.on_call(snap(CallState.CALLING_YOU))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    notice = service.take_notice()
    assert notice is not None and "off for this run" in notice
    assert service.take_notice() is None
    assert HistoryStore.open(service.path(False)).entries() == []


def test_the_service_keeps_demo_calls_apart(tmp_path: Path) -> None:
    service = HistoryService(tmp_path)
    service.recorder(True).on_call(snap(CallState.CALLING_YOU))
    demo, real = service.store(True), service.store(False)
    assert demo is not None and real is not None
    assert len(demo.entries()) == 1 and real.entries() == []
    assert service.demo is True


def test_deleting_history_removes_both_files_and_recording_goes_on(tmp_path: Path) -> None:
    service = HistoryService(tmp_path)
    recorder = service.recorder(False)
    recorder.on_call(snap(CallState.CALLING_YOU, "a"))
    recorder.on_call(snap(CallState.ENDED, "a"))
    service.store(True)
    service.delete_all()
    assert not service.path(False).exists() and not service.path(True).exists()
    recorder.on_call(snap(CallState.CALLING_YOU, "b"))
    store = service.store(False)
    assert store is not None and len(store.entries()) == 1


def test_turning_history_off_opens_no_file(tmp_path: Path) -> None:
    service = HistoryService(tmp_path, enabled=lambda: False)
    recorder = service.recorder(False)
    recorder.on_call(snap(CallState.CALLING_YOU))
    assert not service.path(False).exists()


def test_a_sip_address_is_stored_as_the_uri_it_is(store: HistoryStore) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.dialing("bob@contoso.com")
    recorder.on_call(CallSnapshot(CallState.CALLING_YOU, "sip:bob@contoso.com", call_id="s"))
    assert (only(store).typed, only(store).sent) == ("bob@contoso.com", "sip:bob@contoso.com")


def test_a_dial_target_gives_the_text_typed_and_the_uri_sent() -> None:
    assert dialled(dial_target(" (425) 555-0100 ", "US")) == ("(425) 555-0100", "tel:+14255550100")
    assert dialled("(425) 555-0100") == ("(425) 555-0100", None)


def test_a_target_made_without_typed_text_is_recorded_in_its_display_form() -> None:
    target = DialTarget(DialKind.E164, "tel:+14255550100;ext=12", "+1 425-555-0100 ext. 12")
    assert dialled(target) == ("+1 425-555-0100 ext. 12", "tel:+14255550100;ext=12")


def test_the_uri_given_when_dialling_is_what_is_stored_as_sent(store: HistoryStore) -> None:
    recorder = CallRecorder(lambda: store)
    recorder.dialing("+1 425-555-0100 x12", "tel:+14255550100;ext=12")
    recorder.on_call(snap(CallState.CALLING_YOU))
    assert only(store).sent == "tel:+14255550100;ext=12"
