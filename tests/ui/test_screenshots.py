"""Renders the window offscreen in every state to PNGs; checks nothing is clipped at 100%/200%."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.ui import shots


@pytest.mark.parametrize("state", list(shots.STATES))
def test_state_screenshot(qtbot: QtBot, state: str) -> None:
    window, problems = shots.render(state, shots.SHOTS)
    qtbot.addWidget(window)
    assert problems == []
    image = QImage(str(shots.SHOTS / f"{state}.png"))
    assert image.width() >= 340 and image.height() >= 400


def test_dark_palette_screenshots(qtbot: QtBot) -> None:
    for state in ("idle", "connected", "error-banner"):
        window, problems = shots.render(
            state, shots.SHOTS, palette=shots.dark_palette(), suffix="-dark"
        )
        qtbot.addWidget(window)
        assert problems == []
        # The window really is dark: the page background follows the palette, not the light theme.
        image = QImage(str(shots.SHOTS / f"{state}-dark.png"))
        assert image.pixelColor(image.width() - 3, image.height() - 3).lightness() < 80


def test_nothing_is_clipped_at_200_percent() -> None:
    # QT_SCALE_FACTOR is read when the QApplication starts, so this runs in its own process.
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.shots", "--suffix", "@2x"],
        cwd=shots.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {state: [] for state in shots.STATES}
    image = QImage(str(shots.SHOTS / "connected@2x.png"))
    assert image.devicePixelRatio() >= 1  # saved at device resolution
    assert image.width() >= 680
