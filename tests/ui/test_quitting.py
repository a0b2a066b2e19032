"""Quitting during a call: the hang-up question goes away by itself when the call ends."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.real_shell import Real


def test_the_quit_question_goes_when_the_call_ends(qtbot: QtBot, real: Real) -> None:
    real.connected()
    real.win.close()
    box = real.win.confirm_box
    assert box is not None and box.isVisible()
    with qtbot.waitSignal(real.shell.quitRequested):
        real.ended()
    assert real.win.confirm_box is None
    assert not box.isVisible()
    assert "hang_up" not in real.session.names()
