"""The issue's done-when: in the window on the simulator, typing "car" finds Carol, and Enter on
her number places the call to that number."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.simulator import SimConfig
from app.ui.mainwindow import MainWindow
from tests.integration.gui_stack import Stack, collect_qt_garbage, stack, wait_state

__all__ = ["collect_qt_garbage", "stack"]  # fixtures


@pytest.fixture(params=["permissive", "realistic"])
def sim_config(request: pytest.FixtureRequest) -> SimConfig:
    return SimConfig(speed=50, max_poll_s=0.5, profile=request.param)


def test_typing_car_finds_carol_and_enter_calls_her_number(qtbot: QtBot, stack: Stack) -> None:
    win = MainWindow(stack.shell)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.activateWindow()
    search = stack.shell.dialer.search
    qtbot.keyClicks(win.dialer.number, "car")
    qtbot.waitUntil(lambda: bool(win.dialer.search.number_items()), timeout=5000)
    people = [row["person"] for row in search.results]
    assert {"Carol Diaz", "Carol Nguyen", "Carla Rossi", "Richard Carter"} <= set(people)
    carol = people.index("Carol Diaz")  # her first number: work, tel:+1425554321;ext=54321
    for _ in range(carol):
        qtbot.keyClick(win.dialer.number, Qt.Key.Key_Down)
    assert search.results[search.currentIndex]["number"] == "+1425554321 ext. 54321"
    qtbot.keyClick(win.dialer.number, Qt.Key.Key_Return)
    wait_state(qtbot, stack, "calling_you")

    def called() -> list[str]:
        apps = list(stack.sim.apps.values())
        return [inv.to for app in apps for inv in list(app.invitations.values())]

    # The simulator notes the invitation on its own thread, maybe after our client moved on.
    qtbot.waitUntil(lambda: bool(called()), timeout=5000)
    assert all("+1425554321" in to for to in called()), called()
    assert stack.requests("POST", "/phoneAudioInvitations")
    assert stack.requests("GET", "/people/search")
    win.hide()
