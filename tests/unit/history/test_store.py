"""The history file: entries survive, interrupted calls, damaged files, migrations, bounds."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.history import runs, schema
from app.history.store import (
    HistoryStore,
    HistoryUnavailable,
    Outcome,
    delete_files,
    history_path,
    to_csv,
)


def _start(store: HistoryStore, typed: str = "425 555 0100", sent: str = "tel:+14255550100") -> int:
    return store.start(typed=typed, sent=sent, call_id=None, started_at="2026-01-02T03:04:05+00:00")


def test_a_finished_call_is_there_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    store = HistoryStore.open(path)
    row = _start(store)
    store.finish(row, outcome=Outcome.CONNECTED, reason="", answered_by="Bob", duration_s=12.5)
    store.close()

    again = HistoryStore.open(path)
    [entry] = again.entries()
    assert again.notice is None
    assert (entry.typed, entry.sent, entry.answered_by) == (
        "425 555 0100",
        "tel:+14255550100",
        "Bob",
    )
    assert (entry.outcome, entry.duration_s, entry.started_at) == (
        "connected",
        12.5,
        "2026-01-02T03:04:05+00:00",
    )


def test_a_call_left_in_progress_is_interrupted_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    store = HistoryStore.open(path)
    _start(store)
    assert store.entries()[0].outcome == "in progress"
    store.close()  # the app "died" before the call ended

    [entry] = HistoryStore.open(path).entries()
    assert entry.outcome == "interrupted"
    assert entry.reason == "The app stopped during the call."


def test_a_call_up_in_another_open_store_is_not_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    window = HistoryStore.open(path)
    _start(window)  # a call is up in the window
    command_line = HistoryStore.open(path)  # `ucwa-phone call` starts meanwhile
    assert command_line.entries()[0].outcome == "in progress"
    command_line.close()
    window.close()


def _owned_row(path: Path, pid: int, started: str | None) -> None:
    """A row "in progress" written by another process."""
    HistoryStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO calls (typed, sent, started_at, outcome, owner_pid, owner_started,"
            " owner_run) VALUES ('1', 'tel:+1', 'x', 'in progress', ?, ?, 'their-run')",
            (pid, started),
        )


def test_a_call_of_a_process_that_still_runs_stays_in_progress(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _owned_row(path, other.pid, runs._start_time(other.pid))
        store = HistoryStore.open(path)
        assert store.entries()[0].outcome == "in progress"
        store.close()
    finally:
        other.kill()
        other.wait()
    store = HistoryStore.open(path)  # now that process is gone
    assert store.entries()[0].outcome == "interrupted"
    store.close()


def test_a_call_of_a_process_whose_id_was_reused_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    # Each live process started at "2" (Linux reads it from /proc; the row says "1"): the same
    # comparison on every system, whether or not it tells a process's start time.
    monkeypatch.setattr(runs, "_start_time", lambda _pid: "2")
    _owned_row(path, os.getppid(), "1")  # a live id, but not the process that wrote the row
    store = HistoryStore.open(path)
    assert store.entries()[0].outcome == "interrupted"
    store.close()


def test_reading_read_only_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    window = HistoryStore.open(path)
    _start(window)
    window.close()  # the window died with the call up
    before = path.read_bytes()
    reader = HistoryStore.open(path, read_only=True)
    assert reader.entries()[0].outcome == "interrupted"  # shown so, but not written
    with pytest.raises(sqlite3.OperationalError):
        reader.clear()
    reader.close()
    assert path.read_bytes() == before
    assert HistoryStore.open(path).entries()[0].outcome == "interrupted"


def test_reading_a_version_1_file_read_only_shows_a_left_call_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as v1:
        schema.migrate(v1, schema.MIGRATIONS[:1])
        v1.execute(
            "INSERT INTO calls (typed, sent, started_at, outcome)"
            " VALUES ('1', 'tel:+1', 'x', 'in progress')"
        )
    v1.close()
    reader = HistoryStore.open(path, read_only=True)
    assert [e.outcome for e in reader.entries()] == ["interrupted"]
    reader.close()
    with sqlite3.connect(path) as db:
        assert schema.version(db) == 1


def test_reading_a_file_that_is_not_sqlite_read_only_leaves_it_in_place(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_text("not a database\n" * 200)
    with pytest.raises(HistoryUnavailable):
        HistoryStore.open(path, read_only=True)
    assert path.read_text() == "not a database\n" * 200
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())


def test_newest_first_and_search_by_number_or_name(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite")
    first = _start(store, "+1 425 555 0100", "tel:+14255550100")
    store.answered(first, "Carol Smith")
    _start(store, "0044 20 7946 0000", "tel:+442079460000")
    assert [e.typed for e in store.entries()] == ["0044 20 7946 0000", "+1 425 555 0100"]
    assert [e.id for e in store.entries(search="carol")] == [first]
    assert [e.id for e in store.entries(search="4255550100")] == [first]
    assert store.entries(search="%") == []  # LIKE wildcards are plain text
    assert len(store.entries(limit=1)) == 1


def test_delete_one_and_clear_all(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite")
    a, b = _start(store), _start(store)
    store.delete(a)
    assert [e.id for e in store.entries()] == [b]
    store.clear()
    assert store.entries() == []


def test_only_the_newest_entries_are_kept(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite")
    store.max_entries = 3
    rows = [_start(store, typed=str(n)) for n in range(5)]
    assert [e.id for e in store.entries()] == rows[:1:-1]


def test_a_file_that_is_not_sqlite_is_moved_aside_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = HistoryStore.open(path)
    assert store.notice and "moved aside" in store.notice
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.sqlite.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert store.notice is not None and aside[0].name in store.notice
    _start(store)
    assert len(store.entries()) == 1


def test_a_file_failing_its_integrity_check_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    store = HistoryStore.open(path)
    for n in range(300):
        _start(store, typed=f"{n:0>200}")
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2 : page * 2 + 200] = b"\xff" * 200  # wreck a b-tree page, keep the header
    path.write_bytes(bytes(data))

    repaired = HistoryStore.open(path)
    assert repaired.notice and "damaged" in repaired.notice
    assert repaired.entries() == []


def test_a_locked_file_turns_history_off_for_this_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    HistoryStore.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryUnavailable, match="off for this run"):
            HistoryStore.open(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())  # nothing was lost


def test_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ucwa-phone" / "history.sqlite"
    store = HistoryStore.open(path)
    _start(store)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_a_version_1_file_is_migrated_to_a_new_version(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    v1 = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(v1, schema.MIGRATIONS[:1]) == 1
    v1.execute(
        "INSERT INTO calls (typed, sent, started_at, outcome) VALUES ('1', 'tel:+1', 'x', 'busy')"
    )
    v2_step = "ALTER TABLE calls ADD COLUMN note TEXT NOT NULL DEFAULT '-'"
    assert schema.migrate(v1, (*schema.MIGRATIONS[:1], v2_step)) == 2
    assert schema.version(v1) == 2
    assert v1.execute("SELECT typed, outcome, note FROM calls").fetchall() == [("1", "busy", "-")]
    v1.close()


def test_opening_a_version_1_file_runs_the_new_migration_and_keeps_the_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    v1 = HistoryStore.open(path)
    _start(v1, typed="kept")
    v1.close()
    v2_step = "ALTER TABLE calls ADD COLUMN note TEXT NOT NULL DEFAULT ''"
    newer = schema.VERSION + 1
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, v2_step))

    v2 = HistoryStore.open(path)
    assert [e.typed for e in v2.entries()] == ["kept"]
    v2.close()
    with sqlite3.connect(path) as db:
        assert schema.version(db) == newer
        assert "note" in {row[1] for row in db.execute("PRAGMA table_info(calls)")}


def test_a_failing_migration_leaves_the_old_version(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "h.sqlite", isolation_level=None)
    schema.migrate(db, schema.MIGRATIONS[:1])
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(db, (*schema.MIGRATIONS[:1], "ALTER TABLE nowhere ADD COLUMN x TEXT"))
    assert schema.version(db) == 1


def test_a_file_from_a_newer_app_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    with pytest.raises(HistoryUnavailable, match="version"):
        HistoryStore.open(path)
    assert path.exists() and not any(".corrupt-" in p.name for p in tmp_path.iterdir())


def test_demo_calls_have_their_own_file(tmp_path: Path) -> None:
    assert history_path(True, tmp_path) != history_path(False, tmp_path)
    assert history_path(True, tmp_path).name == "history-demo.sqlite"


def test_deleting_removes_the_file_and_its_companions(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.sqlite"
    store = HistoryStore.open(path)
    _start(store)
    assert len(list(path.parent.iterdir())) > 1  # the WAL and SHM files exist while open
    delete_files(path)
    store.close()
    assert list(path.parent.iterdir()) == []


def test_csv_export_has_a_header_and_one_row_per_entry(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite")
    row = _start(store, typed='say "hi", 1')
    store.finish(
        row, outcome=Outcome.BUSY, reason="The line was busy.", answered_by=None, duration_s=None
    )
    text = to_csv(store.entries())
    assert text.splitlines() == [
        "id,typed,sent,answered_by,started_at,duration_s,outcome,reason",
        f'{row},"say ""hi"", 1",tel:+14255550100,,2026-01-02T03:04:05+00:00,,busy,'
        "The line was busy.",
    ]


def test_csv_export_never_hands_a_spreadsheet_a_formula(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite")
    row = _start(store, typed="+1 (425) 555-0100")
    store.finish(
        row,
        outcome=Outcome.CONNECTED,
        reason="-2+3",
        answered_by='=HYPERLINK("http://evil.example","Bob")',
        duration_s=1.0,
    )
    [line] = to_csv(store.entries()).splitlines()[1:]
    assert ",+1 (425) 555-0100," in line  # a number stays a number
    assert """'=HYPERLINK(""http://evil.example"",""Bob"")""" in line
    assert ",'-2+3" in line
