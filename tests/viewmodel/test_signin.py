"""SignInViewModel: the form, sign-in through the SignInService port, failure words, sign-out."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pytestqt.qtbot import QtBot

from app.settings import config_dir
from app.ucwa.calls import CallAction, CallState
from app.ucwa.errors import AuthenticationError
from app.viewmodel.ports import Account, FileSettingsStore
from app.viewmodel.shell import AppViewModel
from tests.viewmodel.fakes import FakeSignInService


@pytest.fixture
def store() -> FileSettingsStore:
    return FileSettingsStore()  # the real file, in the test's isolated XDG dirs


def make(service: FakeSignInService, store: FileSettingsStore) -> AppViewModel:
    return AppViewModel(signin_service=service, store=store)


def test_form_checks_before_sending(store: FileSettingsStore) -> None:
    service = FakeSignInService()
    vm = make(service, store).signin
    vm.signIn()
    assert vm.message == "Type your sign-in address, e.g. alice@contoso.com."
    vm.setAddress("alice@contoso.com")
    vm.signIn()
    assert vm.message == "Type your password."
    assert service.opened == []
    vm.setMethod("nonsense")
    assert vm.method == "webticket"


def test_sign_in_saves_the_account_but_never_the_password(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: FileSettingsStore
) -> None:
    service = FakeSignInService()
    shell = make(service, store)
    vm = shell.signin
    vm.setAddress("alice@contoso.com")
    vm.setServer("https://lyncdiscover.contoso.com/")
    vm.setUser("CONTOSO\\alice")
    vm.setPassword("s3cret-pass")
    busy: list[bool] = []
    vm.busyChanged.connect(busy.append)
    with qtbot.waitSignal(vm.signedIn):
        vm.signIn()
    assert busy == [True, False]
    account, password = service.opened[0]
    assert account == Account(
        "alice@contoso.com", "https://lyncdiscover.contoso.com/", "CONTOSO\\alice", "webticket"
    )
    assert password == "s3cret-pass"
    assert shell.signedIn
    saved = store.load()
    assert (saved.address, saved.discovery_url, saved.user) == (
        "alice@contoso.com",
        "https://lyncdiscover.contoso.com/",
        "CONTOSO\\alice",
    )
    assert "s3cret-pass" not in (config_dir() / "settings.json").read_text()
    # A new form (next start) is filled in from the settings.
    again = make(FakeSignInService(), store).signin
    assert (again.address, again.server, again.user) == (
        "alice@contoso.com",
        "https://lyncdiscover.contoso.com/",
        "CONTOSO\\alice",
    )


def test_failed_sign_in_shows_why(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    store: FileSettingsStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.viewmodel")
    service = FakeSignInService(
        sign_in_error=AuthenticationError(
            "The user name or password is incorrect.", code="Forbidden", subcode="InvalidGrant"
        )
    )
    shell = make(service, store)
    vm = shell.signin
    vm.setAddress("alice@contoso.com")
    vm.setPassword("wrong")
    with qtbot.waitSignal(vm.busyChanged, check_params_cb=lambda b: not b):
        vm.signIn()
    assert vm.message == "The user name or password is incorrect."
    assert shell.errorText == ""  # the form says why; a banner would say it a second time
    assert "Subcode: InvalidGrant" in caplog.text  # the codes are in the log
    assert shell.connectionState == "failed"


def test_device_code_text_is_shown(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: FileSettingsStore
) -> None:
    service = FakeSignInService()
    service.device_code = "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH."
    shell = make(service, store)
    vm = shell.signin
    vm.setAddress("alice@contoso.com")
    vm.setMethod("aad")
    with qtbot.waitSignal(vm.deviceCodeTextChanged, check_params_cb=lambda t: "ABCD" in t):
        vm.signIn()  # no password needed for Azure AD
    qtbot.waitUntil(lambda: shell.signedIn)


def test_sign_out_closes_the_session_and_forgets(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: FileSettingsStore
) -> None:
    service = FakeSignInService()
    shell = make(service, store)
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(Account("alice@contoso.com"), "pw", save=False)
    with qtbot.waitSignal(shell.signin.signedOut):
        shell.signin.signOut()
    assert service.sessions[0].closed
    assert service.forgotten and shell.connectionState == "signed_out"


def test_without_a_service_the_form_says_so(store: FileSettingsStore) -> None:
    shell = AppViewModel(signin_service=None, store=store)
    assert not shell.signin.available
    shell.signin.sign_in_with(Account("alice@contoso.com"), "pw", save=False)
    assert "not available" in shell.signin.message


def test_changing_the_account_waits_until_the_call_is_over(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, store: FileSettingsStore
) -> None:
    service = FakeSignInService()
    shell = make(service, store)
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(Account("alice@contoso.com"), "pw", save=False)
    session = service.sessions[0]
    session.push(CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP)
    assert shell.call.active

    shell.signin.setAddress("bob@contoso.com")
    shell.signin.setPassword("pw")
    shell.signin.signIn()
    shell.signin.signOut()
    assert shell.signin.message.startswith("Hang up first")
    assert len(service.opened) == 1 and not session.closed  # the call was left alone

    session.push(CallState.ENDED)
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.signIn()
    assert service.opened[-1][0].address == "bob@contoso.com"
