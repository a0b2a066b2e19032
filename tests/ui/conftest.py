"""Widget-test plumbing: fake view-models, a shown main window, and the offscreen plugin's noise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel


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
