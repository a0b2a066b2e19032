"""HistoryViewModel: the call history as the history view shows it; search, redial, export."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.files import write_private_atomically
from app.history.service import HistoryService
from app.history.store import Entry, duration_text, to_csv
from app.viewmodel import phone
from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import SettingsStore
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.protocols import CallSurface, DialerSurface

log = logging.getLogger(__name__)

IN_CALL = "Hang up first: a call is in progress."
DIALING = "A call is being placed; wait for it."
SIGN_IN_FIRST = "Sign in first."


def when_text(started_at: str) -> str:
    """The start time in the user's local time zone, to the minute."""
    try:
        return datetime.fromisoformat(started_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return started_at


def row(entry: Entry) -> dict[str, Any]:
    """One entry as the view shows it."""
    sent = entry.sent.removeprefix("tel:")
    return {
        "id": entry.id,
        "number": entry.typed or phone.display(sent),
        "dial": sent,  # what "copy number" copies: the number as sent
        "sent": entry.sent,  # what redial dials again: the URI as sent (extension included)
        "who": entry.answered_by or "",
        "when": when_text(entry.started_at),
        "duration": duration_text(entry.duration_s),
        "outcome": entry.outcome.capitalize(),
        "reason": entry.reason,
    }


class HistoryViewModel(ViewModelBase):
    """The calls of the history file in use (the demo's in demo mode), newest first.

    Properties (each with a ``<name>Changed`` signal):
        rows (list[dict]): id, number, dial, sent, who, when, duration, outcome, reason (all
            display text but ``id`` and ``sent``, the URI redial calls), filtered by ``search``.
        search (str): the filter: part of a number or a name.
        message (str): one sentence about the last command ("" = nothing to say).
        enabled (bool): history is recorded (the ``history_enabled`` setting).
        demo (bool): the rows are the demo mode's calls.
    """

    rowsChanged = Signal(list)
    searchChanged = Signal(str)
    messageChanged = Signal(str)
    enabledChanged = Signal(bool)
    demoChanged = Signal(bool)

    def __init__(
        self,
        service: HistoryService,
        dialer: DialerSurface,
        call: CallSurface,
        store: SettingsStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._dialer = dialer
        self._call = call
        self._store = store
        self._rows: list[dict[str, Any]] = []
        self._search = ""
        self._message = ""
        self._enabled = store.load().history_enabled
        self._demo = service.demo
        service.subscribe(self.refresh)
        self.refresh()

    rows = NotifyProperty(list, rowsChanged)
    search = NotifyProperty(str, searchChanged)
    message = NotifyProperty(str, messageChanged)
    enabled = NotifyProperty(bool, enabledChanged)
    demo = NotifyProperty(bool, demoChanged)

    def _entries(self, search: str = "") -> list[Entry]:
        # Reading never creates a file: after "Delete history" the files stay gone.
        store = self._service.store(self._service.demo, create=False)
        if store is None:
            return []
        try:
            return store.entries(search)
        except sqlite3.Error as exc:  # the file went bad under us: show nothing, never crash
            log.warning("could not read the call history: %s", exc)
            return []

    @Slot()
    def refresh(self) -> None:
        HistoryViewModel.demo.set(self, self._service.demo)
        HistoryViewModel.rows.set(self, [row(e) for e in self._entries(self._search)])
        # A damaged file moved aside, or history off for this run: said once, in the banner.
        notice = self._service.take_notice()
        if notice:
            self.errorOccurred.emit(notice, "")

    @Slot(str)
    def setSearch(self, text: str) -> None:
        if HistoryViewModel.search.set(self, text):
            self.refresh()

    @Slot(int)
    def redial(self, entry_id: int) -> None:
        """Fill the dialer with the entry's number and dial it, as the Call button would."""
        if self._call.active:
            HistoryViewModel.message.set(self, IN_CALL)
            return
        number = self._number(entry_id)
        if number is None:
            return
        self._dialer.setSentNumber(number)
        if not self._dialer.canDial:
            # dial() would do nothing; say why (the view stays open when there is a message).
            if self._dialer.dialing:
                reason = DIALING
            elif self._dialer.numberValid:
                reason = SIGN_IN_FIRST
            else:
                reason = self._dialer.hint or "This number cannot be called."
            HistoryViewModel.message.set(self, reason)
            return
        HistoryViewModel.message.set(self, "")
        self._dialer.dial()

    def _number(self, entry_id: int) -> str | None:
        return next((r["sent"] for r in self._rows if r["id"] == entry_id), None)

    @Slot(int)
    def deleteEntry(self, entry_id: int) -> None:
        store = self._service.store(self._service.demo, create=False)
        if store is not None:
            self._write(lambda: store.delete(entry_id))

    @Slot()
    def clearAll(self) -> None:
        store = self._service.store(self._service.demo, create=False)
        if store is not None:
            self._write(store.clear)
        HistoryViewModel.message.set(self, "The call history was cleared.")

    @Slot(str, result=bool)
    def exportCsv(self, path: str) -> bool:
        """Write every entry (not only the shown ones) as CSV to ``path``; False on failure."""
        try:
            write_private_atomically(Path(path), to_csv(self._entries()))
        except OSError as exc:
            self.errorOccurred.emit(f"Could not export the call history: {exc.strerror or exc}", "")
            return False
        HistoryViewModel.message.set(self, f"Exported to {Path(path).name}.")
        return True

    @Slot(bool)
    def setEnabled(self, enabled: bool) -> None:
        if not HistoryViewModel.enabled.set(self, enabled):
            return
        try:
            self._store.save(self._store.load().replace(history_enabled=enabled))
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    @Slot()
    def deleteHistory(self) -> None:
        """Delete the history files (real and demo) from disk."""
        try:
            self._service.delete_all()
        except OSError as exc:
            self.errorOccurred.emit(f"Could not delete the call history: {exc.strerror or exc}", "")
            return
        HistoryViewModel.message.set(self, "The call history was deleted.")

    def _write(self, change: Callable[[], None]) -> None:
        try:
            change()
        except sqlite3.Error as exc:  # locked by another process, or the disk is full
            self.errorOccurred.emit(f"Could not change the call history: {exc}", "")
        self.refresh()
