"""The history database's schema: numbered migrations applied in order (PRAGMA user_version)."""

from __future__ import annotations

import sqlite3

# Entry N brings a database from user_version N to N + 1. A new version is one more entry here;
# entries already released are never edited (files in the field went through them).
MIGRATIONS: tuple[str, ...] = (
    # v1: one row per call attempt.
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id TEXT,
        typed TEXT NOT NULL,
        sent TEXT NOT NULL,
        answered_by TEXT,
        started_at TEXT NOT NULL,
        duration_s REAL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX calls_by_outcome ON calls(outcome);
    """,
    # v2: which run wrote a row, so only rows of runs that are gone are marked interrupted.
    """
    ALTER TABLE calls ADD COLUMN owner_pid INTEGER;
    ALTER TABLE calls ADD COLUMN owner_started TEXT;
    ALTER TABLE calls ADD COLUMN owner_run TEXT;
    """,
)

VERSION = len(MIGRATIONS)


class TooNew(Exception):
    """The file was written by a newer version of the app; it is left untouched."""


def version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection, migrations: tuple[str, ...] | None = None) -> int:
    """Bring the database up to ``len(migrations)`` (default: MIGRATIONS, read at call time);
    each step commits together with its version number.

    Returns the version reached. Raises TooNew for a file from a newer app.
    """
    if migrations is None:
        migrations = MIGRATIONS
    current = version(connection)
    if current > len(migrations):
        raise TooNew(f"history file has version {current}; this app knows {len(migrations)}")
    for number in range(current, len(migrations)):
        # executescript commits first; BEGIN makes the step and its version number one unit.
        try:
            connection.executescript(
                f"BEGIN; {migrations[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
            )
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return len(migrations)
