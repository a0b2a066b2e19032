"""DialerViewModel: the number being typed, its validity, recent numbers, "Ring me at" choice."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from app.ucwa import dialing
from app.ucwa.dialing import DialTarget
from app.ucwa.errors import InvalidNumber, SearchNotAllowed
from app.ucwa.people import is_name_query
from app.viewmodel import phone
from app.viewmodel.base import ViewModelBase
from app.viewmodel.ports import CallService, SettingsStore
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.search import SearchViewModel

log = logging.getLogger(__name__)

MAX_RECENT = 10
PICK_A_PERSON = "Choose a person from the list, or type a number."


class DialerViewModel(ViewModelBase):
    """Dial pad state and the dial command.

    Properties (each with a ``<name>Changed`` signal):
        number (str): as formatted for display while typing ("+1 425-555-0100"); links and
            SIP addresses as written.
        numberValid (bool): the text can be called (a number, a dial string or a SIP address).
        hint (str): "" or one sentence: why the text cannot be called, or that the company's
            dial plan will complete a dial string (such as an extension).
        canDial (bool): callable text or a number chosen among the people found, signed in,
            no call in progress, not already dialling.
        dialing (bool): a start_call request is in flight.
        canRedial (bool): there is a recent number and no call is in progress (Ctrl+R).
        recentNumbers (list[str]): recently dialled numbers, newest first, display form
            (chooseRecent(index) puts one in the field as it was sent).
        callbackChoices (list[str]): "Work +1 425-555-0123", ..., plus a custom number if set.
        callbackIndex (int): the selected choice, -1 when there is none.
        callbackNumber (str): E.164 of the selected choice ("" = the server rings the first phone).
        callbackHint (str): why the custom callback number was refused ("" = fine).

    Signals:
        dialed(str): a call to this number (E.164, dial string or sip: URI) was placed (201).
        errorOccurred(str, str): from ViewModelBase.

    ``search`` (SearchViewModel): a name typed into the field is looked up there; Enter dials
    the row chosen in its results.
    """

    numberChanged = Signal(str)
    numberValidChanged = Signal(bool)
    hintChanged = Signal(str)
    canDialChanged = Signal(bool)
    dialingChanged = Signal(bool)
    canRedialChanged = Signal(bool)
    recentNumbersChanged = Signal(list)
    callbackChoicesChanged = Signal(list)
    callbackIndexChanged = Signal(int)
    callbackNumberChanged = Signal(str)
    callbackHintChanged = Signal(str)
    dialed = Signal(str)

    def __init__(
        self, store: SettingsStore, *, region: str | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        saved = store.load()
        self._region_setting = region or saved.default_region
        self._region = dialing.resolve_region(self._region_setting)
        self._service: CallService | None = None
        self._signed_in = False
        self._call_active = False
        self._raw = ""
        self._target: DialTarget | None = None
        self._number = ""
        self._numberValid = False
        self._hint = ""
        self._canDial = False
        self._dialing = False
        self._canRedial = False
        self._recent: list[str] = self._recents_from(saved.recent_numbers)
        self._recentNumbers = [self._recent_display(n) for n in self._recent]
        self._phones: list[tuple[str, str]] = []
        self._custom: str | None = saved.callback_number
        self._callbackChoices: list[str] = []
        self._callbackIndex = -1
        self._callbackNumber = ""
        self._callbackHint = ""
        self.search = SearchViewModel(parent=self)
        self.search.errorOccurred.connect(self.errorOccurred)
        self.search.currentIndexChanged.connect(self._on_search_choice)
        self._rebuild_choices(prefer=saved.callback_number)
        self._update_can_dial()

    # -- properties ---------------------------------------------------------------------------
    number = NotifyProperty(str, numberChanged)
    numberValid = NotifyProperty(bool, numberValidChanged)
    hint = NotifyProperty(str, hintChanged)
    canDial = NotifyProperty(bool, canDialChanged)
    dialing = NotifyProperty(bool, dialingChanged)
    canRedial = NotifyProperty(bool, canRedialChanged)
    recentNumbers = NotifyProperty(list, recentNumbersChanged)
    callbackChoices = NotifyProperty(list, callbackChoicesChanged)
    callbackIndex = NotifyProperty(int, callbackIndexChanged)
    callbackNumber = NotifyProperty(str, callbackNumberChanged)
    callbackHint = NotifyProperty(str, callbackHintChanged)

    @property
    def target(self) -> DialTarget | None:
        """What a call would be placed to, or None while the text cannot be called."""
        return self._target

    @property
    def region(self) -> str | None:
        """The region national numbers are read in now (None: only +/00 numbers are complete)."""
        return self._region

    def set_region(self, setting: str | None) -> None:
        """A new default region from the settings ("" or None: the locale, then own numbers)."""
        self._region_setting = setting or None
        self._region = dialing.resolve_region(self._region_setting, (n for n, _ in self._phones))
        self._apply(self._raw, show_incomplete=False)

    # -- wiring from the shell ----------------------------------------------------------------
    def set_service(self, service: CallService | None) -> None:
        self._service = service
        self.search.set_service(service)
        self._phones = []
        self._rebuild_choices(prefer=self._callbackNumber or self._custom)
        self._update_can_dial()

    def set_store(self, store: SettingsStore) -> None:
        """Keep recents and the callback choice in ``store`` from now on (demo → real account)."""
        self._store = store
        saved = store.load()
        self._recent = self._recents_from(saved.recent_numbers)
        DialerViewModel.recentNumbers.set(self, [self._recent_display(n) for n in self._recent])
        self._custom = saved.callback_number
        self._rebuild_choices(prefer=saved.callback_number)
        self._update_can_dial()

    def set_ready(self, *, signed_in: bool, call_active: bool) -> None:
        self._signed_in = signed_in
        self._call_active = call_active
        self.search.set_ready(signed_in=signed_in)
        self._update_can_dial()

    async def load_phones(self) -> None:
        """Fetch the user's own phones (me/phones) for the "Ring me at" choice."""
        service = self._service
        if service is None:
            return
        phones = await service.my_phones()
        if service is not self._service:
            return
        self._phones = [(number, kind) for number, kind in phones if number]
        # Without a region setting or locale, the user's own numbers say which country they are in.
        self._region = dialing.resolve_region(self._region_setting, (n for n, _ in self._phones))
        self._rebuild_choices(prefer=self._callbackNumber or self._custom)

    # -- number editing -----------------------------------------------------------------------
    @Slot(str)
    def setNumber(self, text: str) -> None:
        if dialing.is_link(text):
            # A clicked or pasted link shows what it dials ("+1 425-555-0100", "bob@contoso.com").
            target = phone.check(text, self._region).target
            if target is not None and target.display != text:
                self.setNumber(target.display)
                # A link names whom to call: nobody is looked up (typing on searches again).
                self.search.set_query("", self._region)
                return
        if not phone.is_plain(text):
            # An extension written out or a SIP address: kept as written, never reformatted.
            self._apply(text, show_incomplete=False)
            return
        raw = phone.clean(text)
        if raw == self._raw:
            raw = _after_deleting_formatting(self._number, text, raw)
        self._apply(raw, show_incomplete=False)

    @Slot(str)
    def setSentNumber(self, sent: str) -> None:
        """The field holds a number this app dialled before (history, recents), to call it again
        exactly as it was sent: with its extension, and a number the server listed even where the
        typing rules would find it incomplete (the server accepted it once)."""
        target = self._target_sent_before(sent)
        if target is None:
            self.setNumber(sent)  # the typing rules say why it cannot be called
        else:
            self._use_target(target)

    @Slot(int)
    def chooseRecent(self, index: int) -> None:
        """The recent number at ``index`` of recentNumbers, in the field as it was sent."""
        if 0 <= index < len(self._recent):
            self.setSentNumber(self._recent[index])

    @Slot(str)
    def appendDigit(self, ch: str) -> None:
        if ch == "+" and self._raw:
            return
        if ch != "+" and not (len(ch) == 1 and (ch.isdigit() or ch in "*#")):
            return
        self._apply(self._raw + ch, show_incomplete=False)

    @Slot()
    def backspace(self) -> None:
        self._apply(self._raw[:-1], show_incomplete=False)

    @Slot()
    def clear(self) -> None:
        self._apply("", show_incomplete=False)

    def _apply(self, raw: str, *, show_incomplete: bool) -> None:
        self._raw = raw
        verdict = phone.check(raw, self._region)
        self._target, hint = verdict.target, verdict.hint
        if phone.is_incomplete(hint) and not show_incomplete:
            hint = ""  # "too short" while still typing is noise; shown when the user tries to dial
        if self._target is None and self.search.wants(raw, self._region):
            hint = PICK_A_PERSON if show_incomplete else ""  # the list under the field speaks
        elif self._target is None and self.search.refused and is_name_query(raw, self._region):
            hint = SearchNotAllowed.MESSAGE
        shown = phone.format_as_you_type(raw, self._region) if phone.is_plain(raw) else raw
        DialerViewModel.number.set(self, shown)
        DialerViewModel.numberValid.set(self, self._target is not None)
        DialerViewModel.hint.set(self, hint)
        self._update_can_dial()
        self.search.set_query(raw, self._region)

    def _on_search_choice(self, _index: int) -> None:
        self._update_can_dial()  # a chosen person's number can be called (Call button, Enter)

    def _use_target(self, target: DialTarget) -> None:
        """A person's number chosen from the search: the field shows it, Enter dials it."""
        self._raw = target.display
        self._target = target
        self.search.set_query("", self._region)
        DialerViewModel.number.set(self, target.display)
        DialerViewModel.numberValid.set(self, True)
        DialerViewModel.hint.set(self, "")
        self._update_can_dial()

    def _update_can_dial(self) -> None:
        chosen = self._target is not None or self.search.current_target is not None
        DialerViewModel.canDial.set(self, chosen and self._ready_to_dial())
        DialerViewModel.canRedial.set(
            self, bool(self._recent) and not self._call_active and not self._dialing
        )

    # -- commands -----------------------------------------------------------------------------
    @Slot()
    def dial(self) -> None:
        chosen = self.search.current_target
        if chosen is not None and self._ready_to_dial():
            self._use_target(chosen)
        if self._target is None:
            self._apply(self._raw, show_incomplete=True)
            if not self._hint:
                DialerViewModel.hint.set(self, dialing.EMPTY_INPUT)
            return
        if not self._canDial or self._service is None:
            return
        # Dialling starts now, not when the task first runs: a second Enter must see it.
        DialerViewModel.dialing.set(self, True)
        self._update_can_dial()
        try:
            self.tasks.spawn(
                self._dial(self._service, self._target, self._callbackNumber), group="dial"
            )
        except RuntimeError:
            DialerViewModel.dialing.set(self, False)
            self._update_can_dial()
            raise

    def _ready_to_dial(self) -> bool:
        return (
            self._service is not None
            and self._signed_in
            and not self._call_active
            and not self._dialing
        )

    async def aclose(self) -> None:
        await self.search.aclose()
        await super().aclose()

    @Slot()
    def redial(self) -> None:
        # Never during a call: it would overwrite the number being typed for nothing.
        if not self._canRedial:
            return
        self.setSentNumber(self._recent[0])
        self.dial()

    async def _dial(self, service: CallService, target: DialTarget, callback: str) -> None:
        try:
            await service.start_call(target, callback or None)
        finally:
            DialerViewModel.dialing.set(self, False)
            self._update_can_dial()
        self._remember_recent(target.uri)
        self.dialed.emit(target.number)

    def _remember_recent(self, sent: str) -> None:
        self._recent = [sent, *(n for n in self._recent if n != sent)][:MAX_RECENT]
        DialerViewModel.recentNumbers.set(self, [self._recent_display(n) for n in self._recent])
        self._update_can_dial()
        self._save(recent_numbers=tuple(self._recent))

    # Recents are kept as the dial URIs sent ("tel:+14255550100;ext=12"): the bare number would
    # lose the extension, and a number the server listed could fail the typing rules on redial.
    def _target_sent_before(self, sent: str) -> DialTarget | None:
        if sent[:4].lower() == "tel:":
            try:
                return dialing.dial_target_from_server(sent, self._region)
            except InvalidNumber:
                return None
        # A sip: URI, or a bare number that recents saved by earlier versions hold.
        return phone.check(phone.clean(sent) if phone.is_plain(sent) else sent, self._region).target

    def _recents_from(self, saved: tuple[str, ...]) -> list[str]:
        recents: list[str] = []
        for entry in saved:
            target = self._target_sent_before(entry) if entry else None
            sent = target.uri if target is not None else entry
            if sent and sent not in recents:
                recents.append(sent)
        return recents[:MAX_RECENT]

    def _recent_display(self, sent: str) -> str:
        target = self._target_sent_before(sent)
        return target.display if target is not None else sent

    # -- callback number ("Ring me at") -------------------------------------------------------
    @Slot(int)
    def setCallbackIndex(self, index: int) -> None:
        numbers = self._choice_numbers()
        if not 0 <= index < len(numbers):
            return
        DialerViewModel.callbackIndex.set(self, index)
        if DialerViewModel.callbackNumber.set(self, numbers[index]):
            self._save(callback_number=numbers[index])
            self._tell_server()

    @Slot(str)
    def setCustomCallback(self, text: str) -> None:
        if not text.strip():
            DialerViewModel.callbackHint.set(self, "Type the number the server should ring.")
            return
        try:
            e164 = dialing.phone_number(text, self._region)
        except InvalidNumber as exc:
            DialerViewModel.callbackHint.set(self, exc.user_message)
            return
        DialerViewModel.callbackHint.set(self, "")
        self._custom = e164
        before = self._callbackNumber
        self._rebuild_choices(prefer=e164)
        self._save(callback_number=e164)
        if self._callbackNumber != before:
            self._tell_server()

    def _tell_server(self) -> None:
        # The user changed "Ring me at": the server learns it now (makeMeAvailable again), not
        # only with the next call.
        if self._service is not None:
            self.tasks.spawn(
                self._service.set_callback_number(self._callbackNumber or None), group="callback"
            )

    def _choice_numbers(self) -> list[str]:
        numbers = [number for number, _ in self._phones]
        if self._custom and self._custom not in numbers:
            numbers.append(self._custom)
        return numbers

    def _rebuild_choices(self, *, prefer: str | None) -> None:
        labels = [f"{_label(kind)} {phone.display(number)}" for number, kind in self._phones]
        if self._custom and self._custom not in {n for n, _ in self._phones}:
            labels.append(f"Other {phone.display(self._custom)}")
        numbers = self._choice_numbers()
        index = numbers.index(prefer) if prefer in numbers else (0 if numbers else -1)
        DialerViewModel.callbackChoices.set(self, labels)
        DialerViewModel.callbackIndex.set(self, index)
        DialerViewModel.callbackNumber.set(self, numbers[index] if index >= 0 else "")

    def _save(self, **changes: object) -> None:
        try:
            self._store.save(self._store.load().replace(**changes))
        except OSError as exc:  # a read-only config dir must not break dialling
            log.warning("could not save settings: %s", exc)


def _label(kind: str) -> str:
    """The server's phone type as a label: "work" → "Work"; missing → "Phone"."""
    kind = kind.strip()
    return kind[:1].upper() + kind[1:] if kind else "Phone"


def _after_deleting_formatting(shown: str, text: str, raw: str) -> str:
    """The user deleted one formatting character ("(425) 555-01" → "(425) 55501"): delete the
    digit before it instead, or the formatter would put the character straight back."""
    if len(text) != len(shown) - 1:
        return raw
    index = next(
        (i for i, (a, b) in enumerate(zip(shown, text, strict=False)) if a != b), len(text)
    )
    if text != shown[:index] + shown[index + 1 :]:
        return raw
    digits_before = len(phone.clean(shown[:index]))
    if digits_before == 0:
        return raw
    return raw[: digits_before - 1] + raw[digits_before:]
