"""Widget-test plumbing: a main window on fake view-models (`window`), or on the real ones over a
fake session (`real`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.ui.mainwindow import MainWindow
from app.viewmodel.ports import MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from tests.ui.fakes import FakeAppViewModel
from tests.ui.real_shell import ACCOUNT, Real
from tests.viewmodel.fakes import FakeSignInService, run


@pytest.fixture
def shell() -> FakeAppViewModel:
    return FakeAppViewModel()


@pytest.fixture
def window(qtbot: QtBot, shell: FakeAppViewModel) -> Iterator[MainWindow]:
    win = MainWindow(shell)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.activateWindow()
    yield win


@pytest.fixture
def real(qtbot: QtBot, aloop: asyncio.AbstractEventLoop) -> Iterator[Real]:
    service = FakeSignInService()
    shell = AppViewModel(
        signin_service=service, store=MemorySettingsStore(Settings(default_region="US"))
    )
    with qtbot.waitSignal(shell.signin.signedIn):
        shell.signin.sign_in_with(ACCOUNT, "pw", save=False)
    win = MainWindow(shell)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: len(shell.dialer.callbackChoices) == 2)
    yield Real(shell, service, win)
    win.hide()
    run(qtbot, shell.aclose())
