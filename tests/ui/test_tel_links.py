"""tel: links opened by the system (macOS file-open events) reach the dialer, never call."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.single_instance import SingleInstance
from tests.ui.real_shell import Real


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen
def test_macos_file_open_events_and_early_links_reach_the_window(
    qtbot: QtBot, real: Real, qapp: QApplication
) -> None:
    instance = SingleInstance("ucwa-phone-test-unused")
    qapp.installEventFilter(instance)
    try:
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+1-425-555-0100")))
        assert real.shell.dialer.number == ""  # no window yet: kept for it
        instance.set_handler(real.win.present)
        assert real.shell.dialer.number == "+1 425-555-0100"
        QApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+442079460000")))
        assert real.shell.dialer.number == "+44 20 7946 0000"
        assert not real.session.names().count("start_call")  # a link never calls by itself
    finally:
        qapp.removeEventFilter(instance)
