"""CallRecorder: a session listener that writes each call attempt into the history as it goes."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from app.history.store import INTERRUPTED_REASON, HistoryStore, Outcome, utc_now
from app.ucwa.calls import CallSnapshot, CallState
from app.ucwa.listener import SessionListener
from app.ucwa.reasons import is_cancel
from app.ucwa.status import SessionStatus

log = logging.getLogger(__name__)

# Subcodes (casefolded) that have an outcome of their own; everything else that fails is "failed".
_OUTCOME_BY_SUBCODE = {
    "busy": Outcome.BUSY,
    "declined": Outcome.DECLINED,
    "donotdisturb": Outcome.DECLINED,
    "missed": Outcome.NO_ANSWER,
    "timeout": Outcome.NO_ANSWER,
}


def outcome_of(snapshot: CallSnapshot) -> Outcome:
    """The stored outcome of a call whose final snapshot is ``snapshot``."""
    reason = snapshot.reason
    subcode = reason.subcode if reason is not None else None
    if reason is not None and is_cancel(subcode):
        return Outcome.CANCELLED
    if snapshot.state is CallState.ENDED:
        return Outcome.CONNECTED if snapshot.connected_at is not None else Outcome.ENDED
    if snapshot.state is CallState.FAILED:
        return _OUTCOME_BY_SUBCODE.get((subcode or "").casefold(), Outcome.FAILED)
    return Outcome.IN_PROGRESS


class CallRecorder(SessionListener):
    """Writes an "in progress" entry when a call starts and completes it when the call ends.

    ``enabled`` is asked at the start of each call (the user may turn history off at any time).
    A write that fails turns recording off for the rest of the run and reports it once through
    ``on_problem``; the call itself is never affected.
    """

    def __init__(
        self,
        store: Callable[[], HistoryStore | None],
        *,
        enabled: Callable[[], bool] = lambda: True,
        on_change: Callable[[], None] = lambda: None,
        on_problem: Callable[[str], None] = lambda _message: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store  # asked each time: the files may be deleted and re-created
        self._broken = False
        self._enabled = enabled
        self._on_change = on_change
        self._on_problem = on_problem
        self._monotonic = monotonic  # the session's clock: CallSnapshot.connected_at is on it
        self._typed: str | None = None
        self._sent: str | None = None
        self._pending: tuple[str, str] = ("", "")  # (typed, sent) of the call being started
        self._row: int | None = None
        self._call_id: str | None = None
        self._answered_by: str | None = None

    def dialing(self, typed: str, sent: str | None = None) -> None:
        """The number as the user typed it (and the URI sent, when known) for the next call."""
        self._typed = typed or None
        self._sent = sent

    def dial_done(self) -> None:
        """start_call returned or raised: a number not used by now belongs to no call."""
        self._typed = None
        self._sent = None

    def session_closed(self) -> None:
        """The session is gone: a call it never reported the end of counts as interrupted."""
        store = self._store() if self._row is not None and not self._broken else None
        row, self._row = self._row, None
        if store is None or row is None:
            return
        try:
            store.finish(
                row,
                outcome=Outcome.INTERRUPTED,
                reason=INTERRUPTED_REASON,
                answered_by=None,
                duration_s=None,
            )
        except sqlite3.Error as exc:
            log.warning("could not complete the call history entry: %s", exc)
        self._on_change()

    def on_status(self, status: SessionStatus) -> None:
        return None

    def on_call(self, snapshot: CallSnapshot) -> None:
        if snapshot.state is CallState.IDLE or self._broken:
            return
        if self._row is None and not self._starts(snapshot):
            return
        store = self._store()
        if store is None:
            return
        try:
            self._record(store, snapshot)
        except sqlite3.Error as exc:
            self._broken = True
            self._row = None
            log.warning("call history disabled for this run: %s", exc)
            self._on_problem(f"Call history is off for this run: {exc}.")

    def _starts(self, snapshot: CallSnapshot) -> bool:
        """Whether ``snapshot`` is the first one of a call to record."""
        if snapshot.call_id is not None and snapshot.call_id == self._call_id:
            return False  # a late snapshot of a call already written (or not recorded)
        self._call_id = snapshot.call_id
        typed, sent = self._typed, self._sent
        self._typed = self._sent = None
        if snapshot.state.is_final and typed is None:
            return False  # the end of a call that started before we listened
        if not self._enabled():
            return False
        self._pending = (typed or snapshot.number, sent or _uri(snapshot.number))
        return True

    def _record(self, store: HistoryStore, snapshot: CallSnapshot) -> None:
        if self._row is None:
            self._answered_by = None
            self._row = store.start(
                typed=self._pending[0],
                sent=self._pending[1],
                call_id=snapshot.call_id,
                started_at=utc_now(),
            )
            self._on_change()
        row = self._row
        # Who answered: the server's name when it gave one (forwarding), else the number called.
        who = snapshot.answered_by or self._answered_by
        if who is None and snapshot.connected_at is not None:
            who = snapshot.number
        if snapshot.state.is_final:
            self._row = None
            duration = None
            if snapshot.connected_at is not None:
                duration = round(max(0.0, self._monotonic() - snapshot.connected_at), 1)
            store.finish(
                row,
                outcome=outcome_of(snapshot),
                reason=snapshot.reason.message if snapshot.reason else "",
                answered_by=who,
                duration_s=duration,
            )
            self._on_change()
        elif who is not None and who != self._answered_by:
            self._answered_by = who
            store.answered(row, who)
            self._on_change()


def _uri(number: str) -> str:
    """A snapshot's number as a URI: "+14255550100" → "tel:+14255550100"; a URI stays as it is."""
    return number if ":" in number else f"tel:{number}"
