"""SettingsViewModel: the Settings dialog's fields, each checked, and saved once valid."""

from __future__ import annotations

import functools
import logging
import ssl
from pathlib import Path

import phonenumbers
from PySide6.QtCore import QObject, Signal, Slot

from app.viewmodel.base import ViewModelBase
from app.viewmodel.dialer import DialerViewModel
from app.viewmodel.ports import SettingsStore
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.signin import METHODS, SignInViewModel

log = logging.getLogger(__name__)

AUTOMATIC_REGION = "Automatic (from your language settings)"
BAD_ADDRESS = "A sign-in address has an @, like alice@contoso.com."
NEXT_START = "Used from the next start."


def region_codes() -> list[str]:
    """ "" (automatic) and then every region phonenumbers knows, alphabetically."""
    return ["", *sorted(phonenumbers.SUPPORTED_REGIONS)]


def region_label(code: str) -> str:
    """ "US (+1)"; "" is the automatic choice."""
    if not code:
        return AUTOMATIC_REGION
    return f"{code} (+{_calling_codes().get(code, 0)})"


@functools.cache
def _calling_codes() -> dict[str, int]:
    """Region -> country calling code from phonenumbers' own index. Asking
    ``country_code_for_region`` region by region would load every region's metadata module
    (~250 modules, ~1.5 MB kept for the whole run) just to label the list."""
    return {
        region: calling_code
        for calling_code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        for region in regions
    }


def address_problem(text: str) -> str:
    """Why ``text`` cannot be a sign-in address ("" when it can, or is empty: no account)."""
    user, at, domain = text.partition("@")
    if not text:
        return ""
    if not at or not user or not domain or "@" in domain or any(c.isspace() for c in text):
        return BAD_ADDRESS
    return ""


def ca_bundle_problem(path: str) -> str:
    """Why ``path`` cannot be used as a CA bundle ("" when it can): it must be a readable file
    holding at least one PEM certificate, or every connection would fail at the next start."""
    file = Path(path).expanduser()
    if not file.exists():
        return "There is no file at that path."
    if not file.is_file():
        return "That is a folder; choose the CA bundle file itself."
    try:
        with file.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"That file cannot be read ({exc.strerror or exc})."
    try:
        ssl.create_default_context(cafile=str(file))
    except (ssl.SSLError, ValueError):
        return "That file holds no PEM certificates."
    return ""


class SettingsViewModel(ViewModelBase):
    """What the Settings dialog edits. A valid value is saved at once; an invalid one is refused
    (the saved value stays) and its ``<field>Error`` says why, for the dialog to show next to it.

    Properties (each with a ``<name>Changed`` signal):
        address (str), addressError (str): the sign-in address; it must contain an @.
        method (str): "webticket" or "aad" (the server's challenge still has the last word).
        region (str), regionIndex (int), regionChoices (list[str]), regionError (str): the
            default region for numbers typed without +; "" is automatic.
        caBundle (str), caBundleError (str): an extra CA bundle file ("" = the system's only).
        caBundleNote (str): that a changed bundle applies from the next start ("" otherwise).
        startMinimised (bool): start hidden in the tray (only when there is one).
        notifications (bool): a desktop notification when a call ends unseen.
    """

    addressChanged = Signal(str)
    addressErrorChanged = Signal(str)
    methodChanged = Signal(str)
    regionChanged = Signal(str)
    regionIndexChanged = Signal(int)
    regionChoicesChanged = Signal(list)
    regionErrorChanged = Signal(str)
    caBundleChanged = Signal(str)
    caBundleErrorChanged = Signal(str)
    caBundleNoteChanged = Signal(str)
    startMinimisedChanged = Signal(bool)
    notificationsChanged = Signal(bool)

    def __init__(
        self,
        store: SettingsStore,
        *,
        dialer: DialerViewModel | None = None,
        signin: SignInViewModel | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._dialer = dialer
        self._signin = signin
        self._codes = region_codes()
        self._address = ""
        self._addressError = ""
        self._method = METHODS[0]
        self._region = ""
        self._regionIndex = 0
        self._regionChoices = [region_label(code) for code in self._codes]
        self._regionError = ""
        self._caBundle = ""
        self._caBundleError = ""
        self._caBundleNote = ""
        self._startMinimised = False
        self._notifications = True
        self.reload()
        if signin is not None:
            # A sign-in from the form saves its account: the dialog must not show the old one.
            signin.accountSaved.connect(self.reload)

    address = NotifyProperty(str, addressChanged)
    addressError = NotifyProperty(str, addressErrorChanged)
    method = NotifyProperty(str, methodChanged)
    region = NotifyProperty(str, regionChanged)
    regionIndex = NotifyProperty(int, regionIndexChanged)
    regionChoices = NotifyProperty(list, regionChoicesChanged)
    regionError = NotifyProperty(str, regionErrorChanged)
    caBundle = NotifyProperty(str, caBundleChanged)
    caBundleError = NotifyProperty(str, caBundleErrorChanged)
    caBundleNote = NotifyProperty(str, caBundleNoteChanged)
    startMinimised = NotifyProperty(bool, startMinimisedChanged)
    notifications = NotifyProperty(bool, notificationsChanged)

    @Slot()
    def reload(self) -> None:
        """Show what the store holds now; others (the sign-in form) save settings too."""
        saved = self._store.load()
        SettingsViewModel.address.set(self, saved.address or "")
        SettingsViewModel.addressError.set(self, "")
        SettingsViewModel.method.set(self, saved.method if saved.method in METHODS else METHODS[0])
        region = (saved.default_region or "").upper()
        region = region if region in self._codes else ""
        SettingsViewModel.region.set(self, region)
        SettingsViewModel.regionIndex.set(self, self._codes.index(region))
        SettingsViewModel.regionError.set(self, "")
        SettingsViewModel.caBundle.set(self, saved.ca_bundle or "")
        SettingsViewModel.caBundleError.set(self, "")
        SettingsViewModel.startMinimised.set(self, saved.start_minimised)
        SettingsViewModel.notifications.set(self, saved.notifications)

    # -- account --------------------------------------------------------------------------------
    @Slot(str)
    def setAddress(self, text: str) -> None:
        value = text.strip()
        problem = address_problem(value)
        SettingsViewModel.addressError.set(self, problem)
        if problem:
            return
        if SettingsViewModel.address.set(self, value):
            self._save(address=value or None)
            if self._signin is not None:
                self._signin.setAddress(value)  # the sign-in form shows the same account

    @Slot(str)
    def setMethod(self, method: str) -> None:
        if method not in METHODS:
            return  # the dialog offers only METHODS
        if SettingsViewModel.method.set(self, method):
            self._save(method=method)
            if self._signin is not None:
                self._signin.setMethod(method)

    # -- calling --------------------------------------------------------------------------------
    @Slot(str)
    def setRegion(self, code: str) -> None:
        value = code.strip().upper()
        if value not in self._codes:
            SettingsViewModel.regionError.set(
                self, f'"{code.strip()}" is not a region; choose one from the list.'
            )
            return
        SettingsViewModel.regionError.set(self, "")
        SettingsViewModel.regionIndex.set(self, self._codes.index(value))
        if SettingsViewModel.region.set(self, value):
            self._save(default_region=value or None)
            if self._dialer is not None:
                self._dialer.set_region(value or None)

    @Slot(int)
    def setRegionIndex(self, index: int) -> None:
        if 0 <= index < len(self._codes):
            self.setRegion(self._codes[index])

    # -- connection -----------------------------------------------------------------------------
    @Slot(str)
    def setCaBundle(self, path: str) -> None:
        value = path.strip()
        problem = ca_bundle_problem(value) if value else ""
        SettingsViewModel.caBundleError.set(self, problem)
        if problem:
            return
        if SettingsViewModel.caBundle.set(self, value):
            # The HTTP client and its TLS context are built once, at start (app/wiring.py).
            SettingsViewModel.caBundleNote.set(self, NEXT_START)
            self._save(ca_bundle=value or None)

    # -- desktop --------------------------------------------------------------------------------
    @Slot(bool)
    def setStartMinimised(self, value: bool) -> None:
        if SettingsViewModel.startMinimised.set(self, bool(value)):
            self._save(start_minimised=bool(value))

    @Slot(bool)
    def setNotifications(self, value: bool) -> None:
        if SettingsViewModel.notifications.set(self, bool(value)):
            self._save(notifications=bool(value))

    def _save(self, **changes: object) -> None:
        try:
            self._store.save(self._store.load().replace(**changes))
        except OSError as exc:
            self.errorOccurred.emit("Your settings could not be saved.", str(exc))
