"""TrayViewModel: the icon and tooltip follow the state, the menu offers only what can be done,
and a call that ends unseen is notified (unless notifications are off)."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ucwa.calls import CallAction, CallState
from app.ucwa.reasons import CallReason
from app.ucwa.status import ConnectionState
from app.viewmodel.ports import MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from app.viewmodel.tray import NO_CLIPBOARD_NUMBER, TrayViewModel
from tests.viewmodel.fakes import FakeCallService, FakeSignInService, run


@pytest.fixture
def shell() -> AppViewModel:
    return AppViewModel(
        signin_service=FakeSignInService(),
        store=MemorySettingsStore(Settings(default_region="US")),
    )


@pytest.fixture
def session(qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel) -> FakeCallService:
    service = FakeCallService()
    run(qtbot, shell.attach(service))
    return service


@pytest.fixture
def tray(shell: AppViewModel) -> TrayViewModel:
    vm = TrayViewModel(shell)
    vm.setTrayAvailable(True)
    return vm


def notified(tray: TrayViewModel) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    tray.notificationRequested.connect(lambda title, text: seen.append((title, text)))
    return seen


def test_signed_out_shows_the_signed_out_icon(tray: TrayViewModel) -> None:
    assert tray.iconName == "state-signed-out"
    assert tray.toolTip == "UCWA Phone\nSigned out"


def test_icon_and_tooltip_follow_sign_in_reconnect_and_error(
    tray: TrayViewModel, session: FakeCallService
) -> None:
    assert tray.iconName == "state-idle"
    assert tray.toolTip == "UCWA Phone\nSigned in as alice@contoso.com"
    session.push_status(ConnectionState.RECONNECTING, "retrying in 4 s")
    assert (tray.iconName, tray.toolTip) == ("state-reconnecting", "UCWA Phone\nReconnecting…")
    session.push_status(ConnectionState.FAILED, "The password was not accepted.")
    assert tray.iconName == "state-failed"
    assert tray.toolTip.endswith("Not signed in — The password was not accepted.")


def test_icon_and_tooltip_follow_the_call_and_hold(
    tray: TrayViewModel, session: FakeCallService
) -> None:
    session.push(CallState.CALLING_YOU, CallAction.CANCEL)
    assert tray.iconName == "state-connecting"
    session.push(CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0)
    assert tray.iconName == "state-connected"
    assert tray.toolTip == "UCWA Phone\nConnected +44 20 7946 0000"
    session.push(CallState.ON_HOLD, CallAction.RESUME, CallAction.HANG_UP, connected_at=1.0)
    assert tray.iconName == "state-on-hold"
    assert tray.toolTip == "UCWA Phone\nOn hold +44 20 7946 0000"


def test_hang_up_is_offered_only_while_the_server_allows_it(
    qtbot: QtBot, tray: TrayViewModel, session: FakeCallService
) -> None:
    assert not tray.canHangUp
    tray.hangUp()
    qtbot.wait(10)
    assert "hang_up" not in session.names()
    session.push(CallState.CONNECTING, CallAction.CANCEL)
    assert tray.canHangUp
    session.push(CallState.CONNECTED, CallAction.HOLD, connected_at=1.0)  # no hang-up link
    assert not tray.canHangUp
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    tray.hangUp()
    qtbot.waitUntil(lambda: "hang_up" in session.names())


def test_clipboard_number_is_named_and_called_like_a_paste(
    qtbot: QtBot, tray: TrayViewModel, shell: AppViewModel, session: FakeCallService
) -> None:
    tray.setClipboardText("(425) 555-0100")  # national, read in the default region (US)
    assert tray.canCallClipboard
    assert tray.clipboardText == "Call number on clipboard: +1 425-555-0100"
    tray.callClipboard()
    qtbot.waitUntil(lambda: "start_call" in session.names())
    assert session.calls[-1][:2] == ("start_call", "+14255550100")
    assert shell.dialer.number == "(425) 555-0100"


@pytest.mark.parametrize("text", ["", "hello world", "tel:+1%zz", "x" * 5000])
def test_clipboard_without_a_dialable_number_is_not_offered(
    qtbot: QtBot, tray: TrayViewModel, session: FakeCallService, text: str
) -> None:
    tray.setClipboardText(text)
    assert not tray.canCallClipboard
    assert tray.clipboardText == NO_CLIPBOARD_NUMBER
    tray.callClipboard()
    qtbot.wait(10)
    assert "start_call" not in session.names()


def test_clipboard_call_is_not_offered_during_a_call_or_signed_out(
    tray: TrayViewModel, session: FakeCallService
) -> None:
    tray.setClipboardText("+14255550100")
    assert tray.canCallClipboard
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    assert not tray.canCallClipboard
    session.push(CallState.ENDED)
    assert tray.canCallClipboard
    session.push_status(ConnectionState.SIGNED_OUT)
    assert not tray.canCallClipboard


@pytest.mark.parametrize(
    ("shown", "focused"), [(False, False), (True, False)], ids=["hidden", "unfocused"]
)
def test_a_call_that_fails_unseen_is_notified(
    tray: TrayViewModel, session: FakeCallService, shown: bool, focused: bool
) -> None:
    tray.setWindowShown(shown)
    tray.setWindowFocused(focused)
    seen = notified(tray)
    session.push(CallState.CONNECTING, CallAction.CANCEL)
    session.push(CallState.FAILED, reason=CallReason(None, None, "The line was busy."))
    assert seen == [("Call failed", "+44 20 7946 0000: The line was busy.")]


def test_a_call_that_ends_in_a_hidden_window_is_notified_once(
    tray: TrayViewModel, session: FakeCallService
) -> None:
    seen = notified(tray)
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    session.push(CallState.ENDED, reason=CallReason(None, None, "The other side hung up."))
    session.push(CallState.ENDED, reason=CallReason(None, None, "The other side hung up."))
    assert seen == [("Call ended", "+44 20 7946 0000: The other side hung up.")]


def test_no_notification_while_the_window_is_in_front(
    tray: TrayViewModel, session: FakeCallService
) -> None:
    tray.setWindowShown(True)
    tray.setWindowFocused(True)
    seen = notified(tray)
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    session.push(CallState.ENDED)
    assert seen == []


def test_no_notification_when_they_are_turned_off(
    tray: TrayViewModel, shell: AppViewModel, session: FakeCallService
) -> None:
    shell.settings.setNotifications(False)
    seen = notified(tray)
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    session.push(CallState.FAILED)
    assert seen == []


def test_clicking_the_icon_toggles_the_window(tray: TrayViewModel) -> None:
    asked: list[str] = []
    tray.showWindowRequested.connect(lambda: asked.append("show"))
    tray.hideWindowRequested.connect(lambda: asked.append("hide"))
    tray.toggleWindow()  # hidden → shown
    tray.setWindowShown(True)
    tray.setWindowFocused(True)
    tray.toggleWindow()  # in front → hidden
    tray.setWindowFocused(False)
    tray.toggleWindow()  # behind other windows → in front
    assert asked == ["show", "hide", "show"]


def test_closing_the_window_hides_it_with_a_tray_and_quits_without(
    tray: TrayViewModel, shell: AppViewModel
) -> None:
    asked: list[str] = []
    tray.hideWindowRequested.connect(lambda: asked.append("hide"))
    shell.quitRequested.connect(lambda: asked.append("quit"))
    tray.closeWindow()
    assert asked == ["hide"]
    tray.setTrayAvailable(False)
    tray.closeWindow()
    assert asked == ["hide", "quit"]


def test_quit_during_a_call_shows_the_window_and_asks_first(
    tray: TrayViewModel, shell: AppViewModel, session: FakeCallService
) -> None:
    asked: list[str] = []
    tray.showWindowRequested.connect(lambda: asked.append("show"))
    shell.confirmHangUpRequested.connect(lambda: asked.append("confirm"))
    shell.quitRequested.connect(lambda: asked.append("quit"))
    session.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    tray.quit()
    assert asked == ["show", "confirm"]
    shell.answerHangUp(True)
    assert asked == ["show", "confirm", "quit"]


def test_start_hidden_only_with_the_setting_and_a_tray(shell: AppViewModel) -> None:
    tray = TrayViewModel(shell)
    shell.settings.setStartMinimised(True)
    assert not tray.startHidden  # no tray: the window must be shown
    tray.setTrayAvailable(True)
    assert tray.startHidden
    shell.settings.setStartMinimised(False)
    assert not tray.startHidden
