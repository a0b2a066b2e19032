"""HistoryService: the history files of this run (real and demo), opened on first use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from app.history.recorder import CallRecorder
from app.history.store import HistoryStore, HistoryUnavailable, delete_files, history_path

log = logging.getLogger(__name__)


class HistoryService:
    """Opens each file once, remembers which one the current session writes, and says what went
    wrong (a damaged file moved aside, history off for this run) through ``notices``.

    ``enabled`` is read at the start of every call, so turning history off takes effect at once.
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        enabled: Callable[[], bool] = lambda: True,
    ) -> None:
        self._directory = directory
        self.enabled = enabled
        self._stores: dict[bool, HistoryStore] = {}
        self._failed: set[bool] = set()
        self._notices: list[str] = []
        self._observers: list[Callable[[], None]] = []
        self.demo = False  # which file the history view shows: the last session's

    def path(self, demo: bool) -> Path:
        return history_path(demo, self._directory)

    def store(self, demo: bool, *, create: bool = True) -> HistoryStore | None:
        """The open store, or None when history cannot be used this run (with one notice).

        ``create=False`` (reading): None when there is no file yet, and none is made.
        """
        if demo in self._stores:
            return self._stores[demo]
        if demo in self._failed or not (create or self.path(demo).exists()):
            return None
        try:
            store = HistoryStore.open(self.path(demo))
        except HistoryUnavailable as exc:
            log.warning("%s", exc)
            self._failed.add(demo)
            self._notices.append(str(exc))
            return None
        if store.notice:
            self._notices.append(store.notice)
        self._stores[demo] = store
        return store

    def recorder(self, demo: bool) -> CallRecorder:
        """A recorder for a session on the real account or the demo one."""
        if self.demo != demo:
            self.demo = demo
            self._changed()
        if self.enabled():
            self.store(demo)  # opened now: a notice about the file shows at sign-in, not mid-call
        return CallRecorder(
            lambda: self.store(demo),
            enabled=self.enabled,
            on_change=self._changed,
            on_problem=self._problem,
        )

    def take_notice(self) -> str | None:
        """What went wrong since the last call, in plain sentences; None when nothing did."""
        if not self._notices:
            return None
        text = " ".join(self._notices)
        self._notices.clear()
        return text

    def subscribe(self, observer: Callable[[], None]) -> None:
        """``observer()`` runs whenever entries change or the shown file switches."""
        self._observers.append(observer)

    def delete_all(self) -> None:
        """Delete both history files (raises OSError when one cannot be removed)."""
        for demo, store in list(self._stores.items()):
            store.close()
            del self._stores[demo]
        for demo in (False, True):
            delete_files(self.path(demo))
        self._failed.clear()
        self._changed()

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def _problem(self, message: str) -> None:
        self._notices.append(message)
        self._changed()

    def _changed(self) -> None:
        for observer in list(self._observers):
            try:
                observer()
            except Exception:
                log.exception("history observer failed")
