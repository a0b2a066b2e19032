"""Fake view-models driven by tests, with exactly the real ones' signals, Properties and slots.

tests/ui/test_fakes_match_viewmodels.py fails when the two drift apart.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Property, QObject, Signal, Slot


def _prop(name: str, typ: type, signal: Any) -> Any:
    return Property(typ, lambda self: getattr(self, "_" + name), notify=signal)


class _FakeBase(QObject):
    """Keeps each property as _<name>; set() changes it and emits <name>Changed like real VMs."""

    errorOccurred = Signal(str, str)  # every real view-model has it (ViewModelBase)

    _defaults: dict[str, Any] = {}  # noqa: RUF012 (class-level defaults, copied per instance)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for name, value in self._defaults.items():
            setattr(self, "_" + name, value)

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            if getattr(self, "_" + name) == value:
                continue
            setattr(self, "_" + name, value)
            getattr(self, name + "Changed").emit(value)

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


class FakeSearchViewModel(_FakeBase):
    resultsChanged = Signal(list)
    currentIndexChanged = Signal(int)
    messageChanged = Signal(str)
    busyChanged = Signal(bool)
    showingChanged = Signal(bool)
    availableChanged = Signal(bool)

    _defaults = {  # noqa: RUF012
        "results": [],
        "currentIndex": -1,
        "message": "",
        "busy": False,
        "showing": False,
        "available": True,
    }
    results = _prop("results", list, resultsChanged)
    currentIndex = _prop("currentIndex", int, currentIndexChanged)
    message = _prop("message", str, messageChanged)
    busy = _prop("busy", bool, busyChanged)
    showing = _prop("showing", bool, showingChanged)
    available = _prop("available", bool, availableChanged)

    def show_rows(self, rows: list[dict[str, str]], message: str = "") -> None:
        """What the real one shows once the server answered."""
        self.set(results=rows, currentIndex=0 if rows else -1, message=message)
        self.set(showing=bool(rows or message))

    @Slot()
    def moveDown(self) -> None:
        self._record("moveDown")
        if self._results:
            self.set(currentIndex=min(len(self._results) - 1, self._currentIndex + 1))

    @Slot()
    def moveUp(self) -> None:
        self._record("moveUp")
        if self._results:
            self.set(currentIndex=max(0, self._currentIndex - 1))

    @Slot(int)
    def setCurrentIndex(self, index: int) -> None:
        self._record("setCurrentIndex", index)
        if 0 <= index < len(self._results):
            self.set(currentIndex=index)

    @Slot()
    def dismiss(self) -> None:
        self._record("dismiss")
        self.show_rows([])


class FakeDialerViewModel(_FakeBase):
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

    _defaults = {  # noqa: RUF012
        "number": "",
        "numberValid": False,
        "hint": "",
        "canDial": False,
        "dialing": False,
        "canRedial": True,
        "recentNumbers": [],
        "callbackChoices": ["Work +1 425-555-0123", "Mobile +1 425-555-0124"],
        "callbackIndex": 0,
        "callbackNumber": "+14255550123",
        "callbackHint": "",
    }
    number = _prop("number", str, numberChanged)
    numberValid = _prop("numberValid", bool, numberValidChanged)
    hint = _prop("hint", str, hintChanged)
    canDial = _prop("canDial", bool, canDialChanged)
    dialing = _prop("dialing", bool, dialingChanged)
    canRedial = _prop("canRedial", bool, canRedialChanged)
    recentNumbers = _prop("recentNumbers", list, recentNumbersChanged)
    callbackChoices = _prop("callbackChoices", list, callbackChoicesChanged)
    callbackIndex = _prop("callbackIndex", int, callbackIndexChanged)
    callbackNumber = _prop("callbackNumber", str, callbackNumberChanged)
    callbackHint = _prop("callbackHint", str, callbackHintChanged)

    # Like the real VM: keep what a user may type in a number, and validate very roughly.
    _KEEP = frozenset("+0123456789*#")

    def __init__(self) -> None:
        super().__init__()
        self.call_vm: FakeCallViewModel | None = None
        self.search = FakeSearchViewModel()

    def _apply(self, text: str) -> None:
        cleaned = "".join(ch for ch in text if ch in self._KEEP)
        valid = len(cleaned.lstrip("+")) >= 7
        hint = "" if valid or not cleaned else "Too short for a phone number"
        busy = self.call_vm is not None and self.call_vm.active
        self.set(number=cleaned, numberValid=valid, hint=hint, canDial=valid and not busy)

    @Slot(str)
    def setNumber(self, text: str) -> None:
        self._record("setNumber", text)
        self._apply(text)

    @Slot(str)
    def setSentNumber(self, sent: str) -> None:
        self._record("setSentNumber", sent)
        self._apply(sent)

    @Slot(int)
    def chooseRecent(self, index: int) -> None:
        self._record("chooseRecent", index)
        recent = list(self.recentNumbers or [])
        if 0 <= index < len(recent):
            self._apply(recent[index])

    @Slot(str)
    def appendDigit(self, ch: str) -> None:
        self._record("appendDigit", ch)
        self._apply(self._number + ch)

    @Slot()
    def backspace(self) -> None:
        self._record("backspace")
        self._apply(self._number[:-1])

    @Slot()
    def clear(self) -> None:
        self._record("clear")
        self._apply("")

    @Slot()
    def dial(self) -> None:
        # Like the real VM: the row chosen in the search results is what Enter dials.
        index = self.search.currentIndex
        rows = self.search.results
        self._record("dial", rows[index]["number"] if 0 <= index < len(rows) else None)

    @Slot()
    def redial(self) -> None:
        self._record("redial")

    @Slot(int)
    def setCallbackIndex(self, index: int) -> None:
        self._record("setCallbackIndex", index)
        self.set(callbackIndex=index)

    @Slot(str)
    def setCustomCallback(self, text: str) -> None:
        self._record("setCustomCallback", text)
        if not text.startswith("+"):
            self.set(callbackHint="Use the international format, starting with +")
            return
        self.set(callbackHint="")
        choices = [*self._callbackChoices, f"Other {text}"]
        self.set(callbackChoices=choices, callbackIndex=len(choices) - 1, callbackNumber=text)


class FakeCallViewModel(_FakeBase):
    stateChanged = Signal(str)
    stateTextChanged = Signal(str)
    reasonTextChanged = Signal(str)
    peerChanged = Signal(str)
    answeredByChanged = Signal(str)
    connectedAtChanged = Signal(float)
    canHoldChanged = Signal(bool)
    canResumeChanged = Signal(bool)
    canHangUpChanged = Signal(bool)
    canCancelChanged = Signal(bool)
    activeChanged = Signal(bool)
    inCallHintChanged = Signal(str)
    reconnectingChanged = Signal(bool)
    callEnded = Signal(str)

    _defaults = {  # noqa: RUF012
        "state": "idle",
        "stateText": "Ready to call",
        "reasonText": "",
        "peer": "",
        "answeredBy": "",
        "connectedAt": 0.0,
        "canHold": False,
        "canResume": False,
        "canHangUp": False,
        "canCancel": False,
        "active": False,
        "inCallHint": "",
        "reconnecting": False,
    }
    state = _prop("state", str, stateChanged)
    stateText = _prop("stateText", str, stateTextChanged)
    reasonText = _prop("reasonText", str, reasonTextChanged)
    peer = _prop("peer", str, peerChanged)
    answeredBy = _prop("answeredBy", str, answeredByChanged)
    connectedAt = _prop("connectedAt", float, connectedAtChanged)
    canHold = _prop("canHold", bool, canHoldChanged)
    canResume = _prop("canResume", bool, canResumeChanged)
    canHangUp = _prop("canHangUp", bool, canHangUpChanged)
    canCancel = _prop("canCancel", bool, canCancelChanged)
    active = _prop("active", bool, activeChanged)
    inCallHint = _prop("inCallHint", str, inCallHintChanged)
    reconnecting = _prop("reconnecting", bool, reconnectingChanged)

    @Slot()
    def hold(self) -> None:
        self._record("hold")

    @Slot()
    def resume(self) -> None:
        self._record("resume")

    @Slot()
    def toggleHold(self) -> None:
        self._record("toggleHold")

    @Slot()
    def hangUp(self) -> None:
        self._record("hangUp")


class FakeHistoryViewModel(_FakeBase):
    rowsChanged = Signal(list)
    searchChanged = Signal(str)
    messageChanged = Signal(str)
    enabledChanged = Signal(bool)
    demoChanged = Signal(bool)

    _defaults = {  # noqa: RUF012
        "rows": [],
        "search": "",
        "message": "",
        "enabled": True,
        "demo": False,
    }
    rows = _prop("rows", list, rowsChanged)
    search = _prop("search", str, searchChanged)
    message = _prop("message", str, messageChanged)
    enabled = _prop("enabled", bool, enabledChanged)
    demo = _prop("demo", bool, demoChanged)
    export_result = True

    @Slot()
    def refresh(self) -> None:
        self._record("refresh")

    @Slot(str)
    def setSearch(self, text: str) -> None:
        self._record("setSearch", text)
        self.set(search=text)

    @Slot(int)
    def redial(self, entry_id: int) -> None:
        self._record("redial", entry_id)

    @Slot(int)
    def deleteEntry(self, entry_id: int) -> None:
        self._record("deleteEntry", entry_id)

    @Slot()
    def clearAll(self) -> None:
        self._record("clearAll")

    @Slot(str, result=bool)
    def exportCsv(self, path: str) -> bool:
        self._record("exportCsv", path)
        return self.export_result

    @Slot(bool)
    def setEnabled(self, enabled: bool) -> None:
        self._record("setEnabled", enabled)
        self.set(enabled=enabled)

    @Slot()
    def deleteHistory(self) -> None:
        self._record("deleteHistory")


def history_row(entry_id: int, number: str, **extra: Any) -> dict[str, Any]:
    """A row as HistoryViewModel.rows has it."""
    row: dict[str, Any] = {
        "id": entry_id,
        "number": number,
        "dial": number.replace(" ", "").replace("-", ""),
        "sent": "tel:" + number.replace(" ", "").replace("-", ""),
        "who": "",
        "when": "2026-01-02 03:04",
        "duration": "",
        "outcome": "Busy",
        "reason": "The line was busy.",
    }
    row.update(extra)
    return row


class FakeSignInViewModel(_FakeBase):
    addressChanged = Signal(str)
    serverChanged = Signal(str)
    userChanged = Signal(str)
    methodChanged = Signal(str)
    rememberChanged = Signal(bool)
    busyChanged = Signal(bool)
    messageChanged = Signal(str)
    deviceCodeTextChanged = Signal(str)
    availableChanged = Signal(bool)
    signedIn = Signal()
    signedOut = Signal()
    signInFailed = Signal(str)
    accountSaved = Signal()

    _defaults = {  # noqa: RUF012
        "address": "",
        "server": "",
        "user": "",
        "method": "webticket",
        "remember": True,
        "busy": False,
        "message": "",
        "deviceCodeText": "",
        "available": True,
    }
    address = _prop("address", str, addressChanged)
    server = _prop("server", str, serverChanged)
    user = _prop("user", str, userChanged)
    method = _prop("method", str, methodChanged)
    remember = _prop("remember", bool, rememberChanged)
    busy = _prop("busy", bool, busyChanged)
    message = _prop("message", str, messageChanged)
    deviceCodeText = _prop("deviceCodeText", str, deviceCodeTextChanged)
    available = _prop("available", bool, availableChanged)

    @Slot(str)
    def setAddress(self, v: str) -> None:
        self.set(address=v)

    @Slot(str)
    def setServer(self, v: str) -> None:
        self.set(server=v)

    @Slot(str)
    def setUser(self, v: str) -> None:
        self.set(user=v)

    @Slot(str)
    def setMethod(self, v: str) -> None:
        self.set(method=v)

    @Slot(bool)
    def setRemember(self, v: bool) -> None:
        self.set(remember=v)

    @Slot(str)
    def setPassword(self, pw: str) -> None:
        self._record("setPassword", pw)

    @Slot()
    def signIn(self) -> None:
        self._record("signIn")

    @Slot()
    def signOut(self) -> None:
        self._record("signOut")


class FakeSettingsViewModel(_FakeBase):
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

    _defaults = {  # noqa: RUF012
        "address": "alice@contoso.com",
        "addressError": "",
        "method": "webticket",
        "region": "",
        "regionIndex": 0,
        "regionChoices": ["Automatic (from your language settings)", "DE (+49)", "US (+1)"],
        "regionError": "",
        "caBundle": "",
        "caBundleError": "",
        "caBundleNote": "",
        "startMinimised": False,
        "notifications": True,
    }
    address = _prop("address", str, addressChanged)
    addressError = _prop("addressError", str, addressErrorChanged)
    method = _prop("method", str, methodChanged)
    region = _prop("region", str, regionChanged)
    regionIndex = _prop("regionIndex", int, regionIndexChanged)
    regionChoices = _prop("regionChoices", list, regionChoicesChanged)
    regionError = _prop("regionError", str, regionErrorChanged)
    caBundle = _prop("caBundle", str, caBundleChanged)
    caBundleError = _prop("caBundleError", str, caBundleErrorChanged)
    caBundleNote = _prop("caBundleNote", str, caBundleNoteChanged)
    startMinimised = _prop("startMinimised", bool, startMinimisedChanged)
    notifications = _prop("notifications", bool, notificationsChanged)

    _CODES = ("", "DE", "US")

    @Slot(str)
    def setAddress(self, text: str) -> None:
        self._record("setAddress", text)
        if text and "@" not in text:
            self.set(addressError="A sign-in address has an @, like alice@contoso.com.")
            return
        self.set(addressError="", address=text)

    @Slot(str)
    def setMethod(self, method: str) -> None:
        self._record("setMethod", method)
        self.set(method=method)

    @Slot(str)
    def setRegion(self, code: str) -> None:
        self._record("setRegion", code)
        if code not in self._CODES:
            self.set(regionError=f'"{code}" is not a region; choose one from the list.')
            return
        self.set(regionError="", region=code, regionIndex=self._CODES.index(code))

    @Slot(int)
    def setRegionIndex(self, index: int) -> None:
        self._record("setRegionIndex", index)
        self.setRegion(self._CODES[index])

    @Slot(str)
    def setCaBundle(self, path: str) -> None:
        self._record("setCaBundle", path)
        self.set(caBundle=path)

    @Slot(bool)
    def setStartMinimised(self, value: bool) -> None:
        self._record("setStartMinimised", value)
        self.set(startMinimised=value)

    @Slot(bool)
    def setNotifications(self, value: bool) -> None:
        self._record("setNotifications", value)
        self.set(notifications=value)

    @Slot()
    def reload(self) -> None:
        self._record("reload")


class FakeTrayViewModel(_FakeBase):
    iconNameChanged = Signal(str)
    toolTipChanged = Signal(str)
    canHangUpChanged = Signal(bool)
    canCallClipboardChanged = Signal(bool)
    clipboardTextChanged = Signal(str)
    trayAvailableChanged = Signal(bool)
    startHiddenChanged = Signal(bool)
    showWindowRequested = Signal()
    hideWindowRequested = Signal()
    notificationRequested = Signal(str, str)

    _defaults = {  # noqa: RUF012
        "iconName": "state-idle",
        "toolTip": "UCWA Phone\nSigned in as alice@contoso.com",
        "canHangUp": False,
        "canCallClipboard": False,
        "clipboardText": "Call number on clipboard — there is no number on it",
        "trayAvailable": False,
        "startHidden": False,
    }
    iconName = _prop("iconName", str, iconNameChanged)
    toolTip = _prop("toolTip", str, toolTipChanged)
    canHangUp = _prop("canHangUp", bool, canHangUpChanged)
    canCallClipboard = _prop("canCallClipboard", bool, canCallClipboardChanged)
    clipboardText = _prop("clipboardText", str, clipboardTextChanged)
    trayAvailable = _prop("trayAvailable", bool, trayAvailableChanged)
    startHidden = _prop("startHidden", bool, startHiddenChanged)

    @Slot(bool)
    def setTrayAvailable(self, available: bool) -> None:
        self._record("setTrayAvailable", available)
        self.set(trayAvailable=available)

    @Slot(bool)
    def setWindowShown(self, shown: bool) -> None:
        self._record("setWindowShown", shown)

    @Slot(bool)
    def setWindowFocused(self, focused: bool) -> None:
        self._record("setWindowFocused", focused)

    @Slot(str)
    def setClipboardText(self, text: str) -> None:
        self._record("setClipboardText", text)

    @Slot()
    def callClipboard(self) -> None:
        self._record("callClipboard")

    @Slot()
    def showWindow(self) -> None:
        self._record("showWindow")
        self.showWindowRequested.emit()

    @Slot()
    def toggleWindow(self) -> None:
        self._record("toggleWindow")

    @Slot()
    def hangUp(self) -> None:
        self._record("hangUp")

    @Slot()
    def quit(self) -> None:
        self._record("quit")

    @Slot()
    def closeWindow(self) -> None:
        self._record("closeWindow")


class FakeAppViewModel(_FakeBase):
    connectionStateChanged = Signal(str)
    statusTextChanged = Signal(str)
    signedInChanged = Signal(bool)
    demoChanged = Signal(bool)
    titleChanged = Signal(str)
    errorTextChanged = Signal(str)
    errorDetailsChanged = Signal(str)
    quitRequested = Signal()
    setupRequested = Signal()
    confirmHangUpRequested = Signal()

    _defaults = {  # noqa: RUF012
        "connectionState": "signed_in",
        "statusText": "Signed in as alice@contoso.com",
        "signedIn": True,
        "demo": False,
        "title": "UCWA Phone",
        "errorText": "",
        "errorDetails": "",
    }
    connectionState = _prop("connectionState", str, connectionStateChanged)
    statusText = _prop("statusText", str, statusTextChanged)
    signedIn = _prop("signedIn", bool, signedInChanged)
    demo = _prop("demo", bool, demoChanged)
    title = _prop("title", str, titleChanged)
    errorText = _prop("errorText", str, errorTextChanged)
    errorDetails = _prop("errorDetails", str, errorDetailsChanged)

    def __init__(self) -> None:
        super().__init__()
        self.dialer = FakeDialerViewModel()
        self.call = FakeCallViewModel()
        self.signin = FakeSignInViewModel()
        self.settings = FakeSettingsViewModel()
        self.dialer.call_vm = self.call

    @Slot()
    def requestQuit(self) -> None:
        self._record("requestQuit")
        self.quitRequested.emit()

    @Slot()
    def dismissError(self) -> None:
        self._record("dismissError")
        self.set(errorText="", errorDetails="")

    @Slot(bool)
    def answerHangUp(self, yes: bool) -> None:
        self._record("answerHangUp", yes)

    @Slot()
    def cancelQuit(self) -> None:
        self._record("cancelQuit")

    @Slot()
    def requestSetup(self) -> None:
        self._record("requestSetup")
        self.setupRequested.emit()

    @Slot(str, str)
    def showError(self, message: str, details: str = "") -> None:
        self._record("showError", message, details)
        self.set(errorText=message, errorDetails=details)


# What the real call view-model shows in each state (the words of app.viewmodel.call.state_text).
CALL_STATES: dict[str, dict[str, Any]] = {
    "idle": {"stateText": "Ready to call", "active": False},
    "calling_you": {
        "stateText": "Calling your phone — pick up",
        "peer": "+1 425-555-0100",
        "active": True,
        "canCancel": True,
    },
    "connecting": {
        "stateText": "Connecting to +1 425-555-0100…",
        "peer": "+1 425-555-0100",
        "active": True,
        "canCancel": True,
    },
    "ringing_them": {
        "stateText": "Your phone is connected, ringing +1 425-555-0100…",
        "peer": "+1 425-555-0100",
        "active": True,
        "canCancel": True,
    },
    "connected": {
        "stateText": "Connected",
        "peer": "+1 425-555-0100",
        "active": True,
        "canHold": True,
        "canHangUp": True,
        "inCallHint": "Dial extensions and menu digits on your desk phone.",
    },
    "on_hold": {
        "stateText": "On hold",
        "peer": "+1 425-555-0100",
        "active": True,
        "canResume": True,
        "canHangUp": True,
    },
    "ended": {
        "stateText": "Call ended",
        "peer": "+1 425-555-0100",
        "reasonText": "",
    },
    "failed": {
        "stateText": "Ended — the line was busy",
        "peer": "+1 425-555-0101",
        "reasonText": "The line was busy.",
    },
}


def drive_call(call: FakeCallViewModel, state: str, *, connected_at: float = 0.0) -> None:
    """Put the fake call into `state` with every other property reset, as a snapshot would."""
    values: dict[str, Any] = dict(FakeCallViewModel._defaults)
    values.update(CALL_STATES.get(state, {}))
    values["state"] = state
    if state in ("connected", "on_hold"):
        values["connectedAt"] = connected_at
    call.set(**values)


class FakeDiagnosticsViewModel(_FakeBase):
    runningChanged = Signal(bool)
    stepsChanged = Signal(list)
    summaryChanged = Signal(str)
    reportReady = Signal(str)

    _defaults = {"running": False, "steps": [], "summary": "Not tested yet."}  # noqa: RUF012
    running = _prop("running", bool, runningChanged)
    steps = _prop("steps", list, stepsChanged)
    summary = _prop("summary", str, summaryChanged)

    report = "UCWA Phone diagnostics\n"

    @Slot()
    def run(self) -> None:
        self._record("run")

    @Slot()
    def cancel(self) -> None:
        self._record("cancel")

    @Slot(str)
    def copyReport(self, platform_plugin: str) -> None:
        self._record("copyReport", platform_plugin)
        self.reportReady.emit(self.report)
