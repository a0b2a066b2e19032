"""The Settings dialog never offers to sign out from under a call."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.real_shell import Real


def test_sign_out_in_settings_is_off_while_a_call_is_up(qtbot: QtBot, real: Real) -> None:
    real.win.show_settings()
    dialog = real.win.settings_dialog
    assert dialog is not None and dialog.signOutButton.isEnabled()
    real.connected()
    assert not dialog.signOutButton.isEnabled()
    qtbot.mouseClick(dialog.signOutButton, Qt.MouseButton.LeftButton)
    qtbot.wait(20)
    assert real.shell.signedIn and "aclose" not in real.session.names()
    real.ended()
    assert dialog.signOutButton.isEnabled()
    dialog.close()
