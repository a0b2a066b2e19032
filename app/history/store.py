"""HistoryStore: the call history in one private SQLite file (WAL, short transactions, bounded).

Opening never crashes the app: a damaged file is moved aside (``<name>.corrupt-<timestamp>``) and
a new one started, with a notice; a locked or unwritable file raises HistoryUnavailable, and the
caller runs this time without history. Opened ``read_only`` (``ucwa-phone history``) the file is
never changed.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import io
import logging
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from app.files import FILE_MODE, private_directory
from app.history import schema
from app.history.runs import Run
from app.settings import APP_NAME

log = logging.getLogger(__name__)

REAL_FILE = "history.sqlite"
DEMO_FILE = "history-demo.sqlite"  # demo calls never mix with real ones
MAX_ENTRIES = 10_000
_BUSY_TIMEOUT_S = 1.0  # a short transaction of another process is waited for, a stuck one is not
_SIDE_FILES = ("-wal", "-shm", "-journal")


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def history_path(demo: bool, directory: Path | None = None) -> Path:
    return (directory or data_dir()) / (DEMO_FILE if demo else REAL_FILE)


class Outcome(enum.Enum):
    """How a call attempt ended, as stored and shown."""

    IN_PROGRESS = "in progress"
    CONNECTED = "connected"  # was connected, then ended normally
    ENDED = "ended"  # ended normally before connecting
    BUSY = "busy"
    DECLINED = "declined"
    NO_ANSWER = "no answer"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the app died during the call


INTERRUPTED_REASON = "The app stopped during the call."


@dataclass(frozen=True, slots=True)
class Entry:
    """One call attempt."""

    id: int
    typed: str  # the number as the user typed it
    sent: str  # the dial target as sent to the server, e.g. "tel:+14255550100"
    answered_by: str | None
    started_at: str  # UTC, ISO 8601
    duration_s: float | None  # from Connected to the end; None when never connected
    outcome: str  # an Outcome value
    reason: str  # the plain sentence of why the call ended ("" when none)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS: tuple[str, ...] = (
    "id",
    "typed",
    "sent",
    "answered_by",
    "started_at",
    "duration_s",
    "outcome",
    "reason",
)


_SELECT = "SELECT id, typed, sent, answered_by, started_at, duration_s, outcome, reason FROM calls"


_OWNER_COLUMNS = ", owner_pid, owner_started, owner_run"


def _run_gone(pid: int | None, started: str | None, token: str | None) -> bool:
    """Whether the run that wrote an "in progress" row is gone (rows before v2 have none)."""
    return pid is None or not Run(pid, started, token or "").alive()


class HistoryUnavailable(Exception):
    """History cannot be used this run (locked, unwritable, from a newer app); a plain sentence."""


def duration_text(seconds: float | None) -> str:
    """ "1:05", "1:02:03"; "" for a call that never connected."""
    if seconds is None:
        return ""
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_PHONE_LIKE = re.compile(r"[+-]?[\d\s().\-/]*")


def _cell(value: object) -> object:
    """A value a spreadsheet shows as text, never runs: names come from the server, and a cell
    starting with = + - @ would be read as a formula. Phone numbers like "+1 425…" stay as they are.
    """
    if value is None:
        return ""
    formula = isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    if formula and not _PHONE_LIKE.fullmatch(str(value)):
        return "'" + str(value)
    return value


def to_csv(entries: Sequence[Entry]) -> str:
    """The entries as CSV with a header row (the export of the history view)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for entry in entries:
        values = entry.as_dict()
        writer.writerow([_cell(values[f]) for f in FIELDS])
    return out.getvalue()


class HistoryStore:
    """An open history file. Not thread-safe: used from the thread that opened it."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        notice: str | None,
        run: Run | None = None,
    ) -> None:
        self._db = connection
        self.path = path
        self.notice = notice  # what opening had to do (a damaged file moved aside), or None
        self.max_entries = MAX_ENTRIES
        self._run = run  # None: read-only

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> HistoryStore:
        """Open (creating, migrating, repairing) the file at ``path``; see the module docstring.

        Rows still "in progress" whose run is gone (its process ended, or its store in this
        process was closed) become "interrupted"; those of live runs, such as a call up in the
        window while the command line looks, stay as they are. ``read_only``: nothing is
        created, migrated, repaired or marked (a damaged file raises HistoryUnavailable).
        """
        if read_only:
            return cls(_connect_read_only(path), path, None)
        private_directory(path.parent)
        notice = None
        try:
            connection = _connect(path)
        except _Damaged as exc:
            moved = _move_aside(path)
            log.warning("call history %s is damaged (%s); moved aside to %s", path, exc, moved)
            notice = (
                f"The call history was damaged and has been moved aside to {moved.name}; "
                "a new one was started."
            )
            try:
                connection = _connect(path)
            except _Damaged as again:
                raise HistoryUnavailable(f"The call history cannot be used: {again}") from again
        store = cls(connection, path, notice, Run.begin())
        try:
            store._mark_interrupted()
        except sqlite3.Error as exc:
            store.close()
            raise HistoryUnavailable(_unavailable(exc)) from exc
        return store

    def close(self) -> None:
        if self._run is not None:
            self._run.end()
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:  # commits, or rolls back on an error
            yield self._db

    def _mark_interrupted(self) -> None:
        with self._transaction() as db:
            # The write lock now, even when nothing is to be marked: a file another process
            # holds locked turns history off at once, not at the first call.
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(
                "SELECT id, owner_pid, owner_started, owner_run FROM calls WHERE outcome = ?",
                (Outcome.IN_PROGRESS.value,),
            ).fetchall()
            gone = [
                (Outcome.INTERRUPTED.value, INTERRUPTED_REASON, row_id)
                for row_id, pid, started, token in rows
                if _run_gone(pid, started, token)
            ]
            db.executemany("UPDATE calls SET outcome = ?, reason = ? WHERE id = ?", gone)

    def start(self, *, typed: str, sent: str, call_id: str | None, started_at: str) -> int:
        """A new "in progress" entry; the oldest entries beyond ``max_entries`` go. Its id."""
        with self._transaction() as db:
            run = self._run
            if run is None:
                raise sqlite3.OperationalError("the history was opened read-only")
            cursor = db.execute(
                "INSERT INTO calls (call_id, typed, sent, started_at, outcome,"
                " owner_pid, owner_started, owner_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call_id,
                    typed,
                    sent,
                    started_at,
                    Outcome.IN_PROGRESS.value,
                    run.pid,
                    run.started,
                    run.token,
                ),
            )
            row_id = cursor.lastrowid
            assert row_id is not None
            db.execute(
                "DELETE FROM calls WHERE id <= "
                "(SELECT id FROM calls ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (self.max_entries,),
            )
        return row_id

    def answered(self, row_id: int, answered_by: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE calls SET answered_by = ? WHERE id = ?", (answered_by, row_id))

    def finish(
        self,
        row_id: int,
        *,
        outcome: Outcome,
        reason: str,
        answered_by: str | None,
        duration_s: float | None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE calls SET outcome = ?, reason = ?, answered_by = COALESCE(?, answered_by),"
                " duration_s = ? WHERE id = ?",
                (outcome.value, reason, answered_by, duration_s, row_id),
            )

    def entries(self, search: str = "", limit: int | None = None) -> list[Entry]:
        """Newest first; ``search`` matches the number (typed or sent) or who answered."""
        # Read-only, a call whose run is gone is shown as interrupted (the file is not changed).
        owners = self._run is None
        sql = _SELECT.replace(" FROM", _OWNER_COLUMNS + " FROM") if owners else _SELECT
        params: list[Any] = []
        if search.strip():
            pattern = "%" + _escape_like(search.strip()) + "%"
            sql += (
                " WHERE typed LIKE ? ESCAPE '\\' OR sent LIKE ? ESCAPE '\\'"
                " OR answered_by LIKE ? ESCAPE '\\'"
            )
            params += [pattern, pattern, pattern]
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        if not owners:
            return [Entry(*row) for row in self._db.execute(sql, params)]
        entries = []
        for *fields, pid, started, token in self._db.execute(sql, params):
            entry = Entry(*fields)
            if entry.outcome == Outcome.IN_PROGRESS.value and _run_gone(pid, started, token):
                entry = replace(entry, outcome=Outcome.INTERRUPTED.value, reason=INTERRUPTED_REASON)
            entries.append(entry)
        return entries

    def delete(self, row_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM calls WHERE id = ?", (row_id,))

    def clear(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM calls")


def delete_files(path: Path) -> None:
    """Remove a history file and its WAL/SHM companions (close its store first)."""
    for candidate in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


class _Damaged(Exception):
    """Not a SQLite file, or it fails its integrity check."""


def _unavailable(exc: BaseException) -> str:
    return f"Call history is off for this run: {exc}."


def _connect(path: Path) -> sqlite3.Connection:
    """A migrated connection in WAL mode; raises _Damaged or HistoryUnavailable."""
    # Created 0600 before SQLite sees it: SQLite gives its WAL and SHM files the same mode.
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        os.close(fd)
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)
        connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryUnavailable(_unavailable(exc)) from exc
    # isolation_level=None: no implicit transactions; `with connection` still wraps each write.
    connection.isolation_level = "DEFERRED"
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise _Damaged(str(check[0] if check else "no answer to quick_check"))
        connection.execute("PRAGMA journal_mode = WAL").fetchone()
        schema.migrate(connection)
    except sqlite3.DatabaseError as exc:
        connection.close()
        if isinstance(exc, sqlite3.OperationalError):
            raise HistoryUnavailable(_unavailable(exc)) from exc  # locked, read-only, ...
        raise _Damaged(str(exc)) from exc
    except schema.TooNew as exc:
        connection.close()
        raise HistoryUnavailable(_unavailable(exc)) from exc
    except _Damaged:
        connection.close()
        raise
    return connection


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (SQLite's read-only URI mode)."""
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S
        )
    except (OSError, sqlite3.Error) as exc:
        raise HistoryUnavailable(_unavailable(exc)) from exc
    try:
        if schema.version(connection) > schema.VERSION:
            raise HistoryUnavailable(_unavailable(schema.TooNew("the file is from a newer app")))
        connection.execute("SELECT count(*) FROM calls").fetchone()
        columns = {row[1] for row in connection.execute("PRAGMA table_info(calls)")}
        if "owner_pid" not in columns:  # an older file, not migrated when only read
            connection.execute(
                "CREATE TEMP VIEW calls AS SELECT *, NULL AS owner_pid, NULL AS owner_started,"
                " NULL AS owner_run FROM main.calls"
            )
    except sqlite3.Error as exc:
        connection.close()
        raise HistoryUnavailable(_unavailable(exc)) from exc
    except HistoryUnavailable:
        connection.close()
        raise
    return connection


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
