"""SearchViewModel: a name typed into the number field looked up in the address book."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, Signal, Slot

from app.ucwa.dialing import DialTarget, dial_target
from app.ucwa.errors import InvalidNumber, SearchNotAllowed, UcwaError
from app.ucwa.people import Contact, is_name_query
from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import CallService
from app.viewmodel.properties import NotifyProperty

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.3  # typing pauses this long before the server is asked
MIN_QUERY = 2  # one letter matches half the company; wait for a second
MAX_RESULTS = 10

_KINDS = {"work": "Work", "mobile": "Mobile", "home": "Home", "other": "Other", "sip": "SIP"}


class SearchViewModel(ViewModelBase):
    """The people found for the name being typed, one row per number that can be dialled.

    Properties (each with a ``<name>Changed`` signal):
        results (list[dict]): one dict per dialable row, best match first: ``person`` (name),
            ``about`` ("Engineer 2 · Engineering"), ``kind`` ("Work", "Mobile", "Other", "SIP")
            and ``number`` (as shown). Rows of one person follow each other.
        currentIndex (int): the row Enter dials, -1 when none. The first row is chosen when
            the results arrive unless the text itself can be called (a SIP address): then
            Enter dials what was typed until the user picks a row.
        message (str): "" or one sentence: nobody found, the search failed, or searching is
            not allowed for this account.
        busy (bool): a search is waiting for typing to pause or for the server.
        showing (bool): there are results or a message to show under the field.
        available (bool): names typed are searched (signed in, and the server did not refuse).
    """

    resultsChanged = Signal(list)
    currentIndexChanged = Signal(int)
    messageChanged = Signal(str)
    busyChanged = Signal(bool)
    showingChanged = Signal(bool)
    availableChanged = Signal(bool)

    def __init__(self, *, debounce_s: float = DEBOUNCE_S, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._debounce_s = debounce_s
        self._service: CallService | None = None
        self._signed_in = False
        self._refused = False
        self._query = ""
        self._query_dialable = False
        self._targets: list[DialTarget] = []
        self._results: list[dict[str, str]] = []
        self._currentIndex = -1
        self._message = ""
        self._busy = False
        self._showing = False
        self._available = False

    results = NotifyProperty(list, resultsChanged)
    currentIndex = NotifyProperty(int, currentIndexChanged)
    message = NotifyProperty(str, messageChanged)
    busy = NotifyProperty(bool, busyChanged)
    showing = NotifyProperty(bool, showingChanged)
    available = NotifyProperty(bool, availableChanged)

    # -- wiring from the dialer ---------------------------------------------------------------
    def set_service(self, service: CallService | None) -> None:
        """A new session: a refusal by the old one no longer applies."""
        self._service = service
        self._refused = False
        self._reset()
        self._update_available()

    def set_ready(self, *, signed_in: bool) -> None:
        self._signed_in = signed_in
        if not signed_in:
            self._reset()
        self._update_available()

    @property
    def refused(self) -> bool:
        """The server said this account may not search (403): names are not looked up."""
        return self._refused

    @property
    def current_target(self) -> DialTarget | None:
        """What Enter dials: the chosen row's target, or None when no row is chosen."""
        index = self._currentIndex
        return self._targets[index] if 0 <= index < len(self._targets) else None

    def wants(self, text: str, region: str | None) -> bool:
        """Whether ``text`` is looked up (a name, searching available), not dialled as typed."""
        return self._available and is_name_query(text, region)

    def set_query(self, text: str, region: str | None) -> None:
        """The number field changed: search names after a pause; anything else clears the list.

        A newer query cancels the older one (exclusive task group), so the rows shown always
        belong to the text in the field.
        """
        query = " ".join(text.split())
        if query == self._query:
            return
        self._query = query
        self._query_dialable = _dialable(query, region)
        self._reset(keep_query=True)
        if not self.wants(query, region) or len(query) < MIN_QUERY or self._service is None:
            return
        SearchViewModel.busy.set(self, True)
        self.tasks.spawn(self._search(self._service, query), group="search")

    # -- slots for the view -------------------------------------------------------------------
    @Slot()
    def moveDown(self) -> None:
        if self._targets:
            SearchViewModel.currentIndex.set(
                self, min(len(self._targets) - 1, self._currentIndex + 1)
            )

    @Slot()
    def moveUp(self) -> None:
        if self._targets:
            SearchViewModel.currentIndex.set(self, max(0, self._currentIndex - 1))

    @Slot(int)
    def setCurrentIndex(self, index: int) -> None:
        if 0 <= index < len(self._targets):
            SearchViewModel.currentIndex.set(self, index)

    @Slot()
    def dismiss(self) -> None:
        """Hide the list (Esc); the text stays, and typing on searches again."""
        self._reset(keep_query=True)

    # -- the search ---------------------------------------------------------------------------
    async def _search(self, service: CallService, query: str) -> None:
        await asyncio.sleep(self._debounce_s)
        try:
            found = await service.search_people(query, MAX_RESULTS)
        except SearchNotAllowed as exc:
            log.info("address-book search refused (403): %s", exc.diagnostics or exc)
            self._refused = True
            self._update_available()
            self._show([], [], exc.user_message)
            return
        except UcwaError as exc:
            if service is self._service and query == self._query:
                self._show([], [], f"The address book search failed: {exc.user_message}")
            return
        finally:
            if self._query == query:
                SearchViewModel.busy.set(self, False)
        if service is not self._service or query != self._query:
            return  # cancelled in spirit: the field or the session changed meanwhile
        rows: list[dict[str, str]] = []
        targets: list[DialTarget] = []
        for contact in found:
            for kind, target in contact.choices():
                rows.append(_row(contact, kind, target))
                targets.append(target)
        message = "" if rows else f"No one found for '{query}'."
        self._show(rows, targets, message, choose_first=not self._query_dialable)

    def _show(
        self,
        rows: list[dict[str, str]],
        targets: list[DialTarget],
        message: str,
        *,
        choose_first: bool = True,
    ) -> None:
        self._targets = targets
        SearchViewModel.results.set(self, rows)
        SearchViewModel.currentIndex.set(self, 0 if targets and choose_first else -1)
        SearchViewModel.message.set(self, message)
        SearchViewModel.showing.set(self, bool(rows or message))

    def _reset(self, *, keep_query: bool = False) -> None:
        if not keep_query:
            self._query = ""
        self.tasks.cancel("search")  # a late answer of the old query is never shown
        SearchViewModel.busy.set(self, False)
        self._show([], [], "")

    def _update_available(self) -> None:
        SearchViewModel.available.set(
            self, self._service is not None and self._signed_in and not self._refused
        )


def _dialable(text: str, region: str | None) -> bool:
    try:
        dial_target(text, region)
    except InvalidNumber:
        return False
    return True


def _row(contact: Contact, kind: str, target: DialTarget) -> dict[str, str]:
    about = " · ".join(part for part in (contact.title, contact.department) if part)
    return {
        "person": contact.name,
        "about": about,
        "kind": _KINDS.get(kind, kind.capitalize()),
        "number": target.display,
    }
