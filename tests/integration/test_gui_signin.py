"""The sign-in form on app.auth's SignInService and a real UcwaSession against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.viewmodel.ports import FileSettingsStore
from app.viewmodel.shell import AppViewModel
from app.wiring import SignInAdapter
from tests.integration.gui_stack import collect_qt_garbage, fast_sleep
from tests.viewmodel.fakes import run

__all__ = ["collect_qt_garbage"]


@pytest.fixture
def shell(qtbot: QtBot, aloop: asyncio.AbstractEventLoop) -> Iterator[AppViewModel]:
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    adapter = SignInAdapter(
        http, Settings(), persistent=True, session_options={"sleep": fast_sleep}
    )
    shell = AppViewModel(signin_service=adapter, store=FileSettingsStore())
    yield shell
    run(qtbot, shell.aclose(), timeout_ms=8000)
    run(qtbot, http.aclose())


def test_form_sign_in_then_sign_out(
    qtbot: QtBot, shell: AppViewModel, sim_server: Any, sim: Any, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    form = shell.signin
    form.setAddress(user)
    form.setServer(sim_server.discovery_url)
    form.setPassword(password)
    with qtbot.waitSignal(form.signedIn, timeout=8000):
        form.signIn()
    assert shell.statusText == f"Signed in as {user}"
    assert FileSettingsStore().load().discovery_url == sim_server.discovery_url
    with qtbot.waitSignal(form.signedOut, timeout=8000):
        form.signOut()
    assert shell.connectionState == "signed_out"
    assert [r.method for r in sim.request_log].count("DELETE") == 1


def test_wrong_password_is_said_plainly(
    qtbot: QtBot, shell: AppViewModel, sim_server: Any, sim_credentials: tuple[str, str]
) -> None:
    user, _ = sim_credentials
    form = shell.signin
    form.setAddress(user)
    form.setServer(sim_server.discovery_url)
    form.setPassword("not-the-password")
    with qtbot.waitSignal(form.signInFailed, timeout=8000) as failed:
        form.signIn()
    assert failed.args[0] == form.message
    assert shell.errorText == ""  # the form says it; no banner repeats it
    assert "password" in form.message.lower()
    assert "Traceback" not in shell.errorDetails and "not-the-password" not in shell.errorDetails
    assert shell.connectionState == "failed"
