"""AppViewModel: status line, title, the error banner, and the quit flow (hang up or not)."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ucwa.calls import CallAction, CallState
from app.ucwa.errors import ServerError, TransportError
from app.ucwa.status import ConnectionState
from app.viewmodel.ports import Account, MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from tests.viewmodel.fakes import FakeCallService, FakeSignInService, run


@pytest.fixture
def signin_service() -> FakeSignInService:
    return FakeSignInService()


@pytest.fixture
def shell(signin_service: FakeSignInService) -> AppViewModel:
    return AppViewModel(
        signin_service=signin_service, store=MemorySettingsStore(Settings(default_region="US"))
    )


def attach(qtbot: QtBot, shell: AppViewModel, service: FakeCallService) -> None:
    run(qtbot, shell.attach(service))


def in_call(qtbot: QtBot, shell: AppViewModel) -> FakeCallService:
    """A session attached to ``shell`` with a connected call that can be hung up."""
    service = FakeCallService()
    attach(qtbot, shell, service)
    service.push(CallState.CONNECTED, CallAction.HANG_UP, connected_at=1.0)
    return service


def test_status_and_title_follow_the_session(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    assert shell.connectionState == "signed_out"
    service = FakeCallService()
    seen: list[str] = []
    shell.statusTextChanged.connect(seen.append)
    attach(qtbot, shell, service)
    assert seen == ["Signing in…", "Signed in as alice@contoso.com"]
    assert shell.connectionState == "signed_in" and shell.signedIn
    assert shell.title == "Signed in as alice@contoso.com — UCWA Phone"
    qtbot.waitUntil(lambda: len(shell.dialer.callbackChoices) == 2)  # me/phones fetched
    service.push(CallState.CONNECTED, CallAction.HOLD, connected_at=1.0)
    assert shell.title == "Connected — UCWA Phone"
    service.push_status(ConnectionState.RECONNECTING, "retrying in 4 s")
    assert shell.statusText == "Reconnecting…"
    assert shell.call.stateText == "Reconnecting…"
    assert shell.title == "Reconnecting… — UCWA Phone"
    shell.set_demo(True)
    assert shell.title.endswith("(demo)") and shell.demo


def test_failed_sign_in_says_why(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = FakeCallService(sign_in_error=TransportError("Cannot reach lyncdiscover.contoso.com"))
    with pytest.raises(TransportError):
        run(qtbot, shell.attach(service))
    assert shell.connectionState == "failed"
    assert shell.statusText == "Not signed in — Cannot reach lyncdiscover.contoso.com"


def test_errors_become_a_banner_with_details_never_a_traceback(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    error = ServerError(
        409,
        "Conflict",
        "AlreadyExists",
        message="A call is already in progress.",
        diagnostics='1000;reason="Conflict"',
    )
    service = FakeCallService(start_error=error)
    attach(qtbot, shell, service)
    shell.dialer.setNumber("+14255550100")
    with qtbot.waitSignal(shell.errorTextChanged):
        shell.dialer.dial()
    assert shell.errorText == "A call is already in progress."
    assert "HTTP 409" in shell.errorDetails
    assert "Subcode: AlreadyExists" in shell.errorDetails
    assert 'X-Ms-Diagnostics: 1000;reason="Conflict"' in shell.errorDetails
    assert "Traceback" not in shell.errorDetails
    shell.dismissError()
    assert shell.errorText == "" and shell.errorDetails == ""


def test_an_unexpected_exception_is_a_plain_sentence(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = FakeCallService(start_error=KeyError("_links"))
    attach(qtbot, shell, service)
    shell.dialer.setNumber("+14255550100")
    with qtbot.waitSignal(shell.errorTextChanged):
        shell.dialer.dial()
    assert shell.errorText == "Something unexpected went wrong. The details are in the log."
    assert shell.errorDetails == "Error type: KeyError"


def test_quit_without_a_call_is_immediate(qtbot: QtBot, shell: AppViewModel) -> None:
    with (
        qtbot.assertNotEmitted(shell.confirmHangUpRequested),
        qtbot.waitSignal(shell.quitRequested),
    ):
        shell.requestQuit()


def test_quit_during_a_call_asks_then_hangs_up_and_closes(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = FakeCallService()
    attach(qtbot, shell, service)
    service.push(CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0)
    with (
        qtbot.assertNotEmitted(shell.quitRequested),
        qtbot.waitSignal(shell.confirmHangUpRequested),
    ):
        shell.requestQuit()
    shell.requestQuit()  # closing again while the question is open asks nothing new
    with qtbot.waitSignal(shell.quitRequested):
        shell.answerHangUp(True)
    run(qtbot, shell.aclose())
    assert service.names()[-2:] == ["hang_up", "aclose"] and service.closed
    assert shell.connectionState == "signed_out"


def test_keep_the_call_means_no_quit(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = in_call(qtbot, shell)
    shell.requestQuit()
    with qtbot.assertNotEmitted(shell.quitRequested):
        shell.answerHangUp(False)
    assert "hang_up" not in service.names()
    with qtbot.waitSignal(shell.confirmHangUpRequested):
        shell.requestQuit()  # asks again next time


def test_ctrl_c_style_quit_during_a_call_leaves_it_to_the_server(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = in_call(qtbot, shell)
    run(qtbot, shell.aclose())  # main's SIGINT path: no question, no hang-up, application deleted
    assert service.names()[-1] == "aclose" and "hang_up" not in service.names()


def test_cancel_quit_keeps_the_window(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    in_call(qtbot, shell)
    shell.requestQuit()
    with qtbot.assertNotEmitted(shell.quitRequested):
        shell.cancelQuit()
        shell.answerHangUp(True)  # a late answer after cancelling does nothing
    with qtbot.waitSignal(shell.confirmHangUpRequested):
        shell.requestQuit()


def test_aclose_cancels_view_model_tasks(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    never = asyncio.Event()
    task = shell.call.tasks.spawn(never.wait())
    run(qtbot, shell.aclose())
    assert task.cancelled()


def test_attach_replaces_the_previous_session(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    first, second = FakeCallService(), FakeCallService()
    attach(qtbot, shell, first)
    attach(qtbot, shell, second)
    assert first.closed and first.listeners == []
    assert shell.session is second and shell.signedIn


def test_setup_link(qtbot: QtBot, shell: AppViewModel) -> None:
    with qtbot.waitSignal(shell.setupRequested):
        shell.requestSetup()


def test_sign_in_view_model_is_wired(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    shell: AppViewModel,
    signin_service: FakeSignInService,
) -> None:
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(Account(server="http://127.0.0.1:1/x"), "pw", save=False)
    assert shell.session is signin_service.sessions[0]
    assert shell.statusText == "Signed in as alice@contoso.com"


def test_setting_up_a_real_account_leaves_demo_mode(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, signin_service: FakeSignInService
) -> None:
    real = MemorySettingsStore(Settings(recent_numbers=("+442079460000",)))
    shell = AppViewModel(
        signin_service=signin_service,
        store=real,
        dialer_store=MemorySettingsStore(Settings()),
        demo=True,
    )
    assert shell.dialer.recentNumbers == []
    signin_service.notice_text = "No keyring service is available on this system."
    shell.signin.setAddress("alice@contoso.com")
    shell.signin.setPassword("pw")
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.signIn()
    assert not shell.demo and not shell.title.endswith("(demo)")
    assert shell.dialer.recentNumbers == ["+44 20 7946 0000"]  # the real profile's recents
    assert real.load().address == "alice@contoso.com"
    qtbot.waitUntil(lambda: shell.errorText.startswith("No keyring"))


def test_automatic_sign_in_keeps_demo_mode(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, signin_service: FakeSignInService
) -> None:
    shell = AppViewModel(signin_service=signin_service, store=MemorySettingsStore(), demo=True)
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(Account(server="http://127.0.0.1:1/x"), "pw", save=False)
    assert shell.demo


def test_a_call_that_ends_while_the_quit_question_is_open_lets_the_quit_go_on(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    service = in_call(qtbot, shell)
    with qtbot.waitSignal(shell.confirmHangUpRequested):
        shell.requestQuit()
    with qtbot.waitSignal(shell.quitRequested):
        service.push(CallState.ENDED)
    with qtbot.assertNotEmitted(shell.quitRequested):
        shell.answerHangUp(False)  # the window's late answer changes nothing


def test_signing_in_clears_an_earlier_error(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, shell: AppViewModel
) -> None:
    shell.showError("Cannot reach lyncdiscover.contoso.com", "HTTP 503")
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(Account(address="alice@contoso.com"), "pw", save=False)
    assert shell.errorText == "" and shell.errorDetails == ""
