"""The sign-in page: bound to SignInViewModel, never keeps the password, signs in on Enter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.ui.signin_view import SignInView
from tests.ui.fakes import FakeSignInViewModel
from tests.ui.real_shell import ACCOUNT, Real
from tests.viewmodel.fakes import USER


@pytest.fixture
def view(qtbot: QtBot) -> tuple[SignInView, FakeSignInViewModel]:
    vm = FakeSignInViewModel()
    widget = SignInView(vm)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget, vm


def test_fields_write_to_the_view_model(
    view: tuple[SignInView, FakeSignInViewModel], qtbot: QtBot
) -> None:
    widget, vm = view
    qtbot.keyClicks(widget.address, "alice@contoso.com")
    qtbot.keyClicks(widget.server, "https://lyncdiscover.contoso.com")
    qtbot.keyClicks(widget.user, "CONTOSO\\alice")
    assert (vm.address, vm.server, vm.user) == (
        "alice@contoso.com",
        "https://lyncdiscover.contoso.com",
        "CONTOSO\\alice",
    )
    qtbot.mouseClick(widget.remember, Qt.MouseButton.LeftButton)
    assert vm.remember is False


def test_password_goes_to_set_password_only(
    view: tuple[SignInView, FakeSignInViewModel], qtbot: QtBot
) -> None:
    widget, vm = view
    assert widget.password.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(widget.password, "pw")
    assert vm.called("setPassword") == [("p",), ("pw",)]
    assert widget.property("password") is None
    qtbot.keyClick(widget.password, Qt.Key.Key_Return)
    assert vm.called("signIn") == [()]
    vm.signedIn.emit()
    assert widget.password.text() == ""


def test_view_model_changes_show_up(view: tuple[SignInView, FakeSignInViewModel]) -> None:
    widget, vm = view
    vm.set(address="bob@fabrikam.com", method="aad", busy=True, message="Waiting for the browser…")
    assert widget.address.text() == "bob@fabrikam.com"
    assert widget.method.currentData() == "aad"
    assert not widget.password.isVisible()  # a browser sign-in has no password to type
    assert widget.busy.isVisible() and not widget.signInButton.isEnabled()
    assert widget.message.text() == "Waiting for the browser…"
    vm.set(busy=False)
    assert not widget.busy.isVisible()


def test_device_code_is_copyable(
    view: tuple[SignInView, FakeSignInViewModel], qtbot: QtBot
) -> None:
    widget, vm = view
    assert not widget.codeRow.isVisible()
    text = "Open https://microsoft.com/devicelogin and enter ABCD-EFGH"
    vm.set(deviceCodeText=text)
    assert widget.codeRow.isVisible()
    assert widget.deviceCode.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    qtbot.mouseClick(widget.copyCodeButton, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text


def test_method_choice_goes_to_the_view_model(view: tuple[SignInView, FakeSignInViewModel]) -> None:
    widget, vm = view
    widget.method.activated.emit(1)
    assert vm.method == "aad"


def test_a_successful_sign_in_clears_an_old_error_banner(qtbot: QtBot, real: Real) -> None:
    real.shell.showError("Cannot reach lyncdiscover.contoso.com", "HTTP 503")
    assert real.win.errorBanner.isVisibleTo(real.win)
    with qtbot.waitSignal(real.shell.signin.signedIn):
        real.shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    assert real.shell.errorText == ""
    assert not real.win.errorBanner.isVisibleTo(real.win)


def test_a_failed_sign_in_is_said_once_in_the_form(qtbot: QtBot, real: Real) -> None:
    real.service.session_kwargs["sign_in_error"] = RuntimeError("boom")
    real.win.show_sign_in()
    with qtbot.waitSignal(real.shell.signin.signInFailed):
        real.shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    assert real.win.signInView.message.text() == real.shell.signin.message != ""
    assert real.shell.errorText == ""


@pytest.mark.parametrize("field", ["address", "server", "user", "password"])
def test_enter_in_any_sign_in_field_signs_in(qtbot: QtBot, real: Real, field: str) -> None:
    real.win.show_sign_in()
    view = real.win.signInView
    qtbot.keyClicks(view.address, USER)
    qtbot.keyClicks(view.password, "secret")
    edit: QLineEdit = getattr(view, field)
    with qtbot.waitSignal(real.shell.signin.signedIn):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert real.service.opened[-1][1] == "secret"
