"""The real app on an X display next to a desktop's tray and notification services (on D-Bus).

The test plays the desktop (tests/helpers/fake_desktop.py): Qt's D-Bus tray registers its icon
with the StatusNotifierWatcher and sends notifications to org.freedesktop.Notifications, as it
does under KDE, GNOME with the AppIndicator extension, XFCE and others.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fake_desktop import FakeDesktop, item_properties
from tests.integration.test_xdotool import _stop, _tool, _wait, xvfb  # noqa: F401 (a fixture)

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]
TITLE = "UCWA Phone"
HANGS_UP = "+14255550106"  # the demo's far end answers, then hangs up after a few seconds


class App:
    """`python -m app` in demo mode on ``display``, with xdotool to look at and type into it."""

    def __init__(self, display: str, log: Path) -> None:
        self.display = display
        self.log = log
        self.xdotool = _tool("xdotool")
        env = dict(os.environ)  # conftest points XDG_* at this test's tmp dirs: demo mode
        for var in (
            "QT_SCALE_FACTOR",
            "WAYLAND_DISPLAY",
            "QT_QPA_PLATFORMTHEME",
            "UCWA_PHONE_PASSWORD",
        ):
            env.pop(var, None)
        env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.wid = ""

    def x(self, *args: str, timeout: float = 20) -> str:
        if self.proc.poll() is not None:
            pytest.fail(f"the app exited with {self.proc.returncode}:\n{self.log.read_text()}")
        done = subprocess.run(
            [self.xdotool, *args],
            env=dict(os.environ, DISPLAY=self.display),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.strip()

    def title(self) -> str:
        return self.x("getwindowname", self.wid)

    def signed_in(self) -> None:
        found = self.x("search", "--sync", "--onlyvisible", "--name", TITLE, timeout=30)
        if not found:
            pytest.fail(f"no window named {TITLE!r}:\n{self.log.read_text()}")
        self.wid = found.splitlines()[0]
        _wait("the demo sign-in", lambda: self.title().startswith("Signed in"))

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT, wait_s=15)  # Ctrl+C quits the app the normal way

    def quit_log(self) -> str:
        """What the app logged, once it quit cleanly."""
        text = self.log.read_text()
        assert self.proc.returncode == 0, text
        return text


@pytest.fixture
def desktop() -> Iterator[FakeDesktop]:
    with FakeDesktop() as services:
        yield services


@pytest.fixture
def xvfb_with_desktop(desktop: FakeDesktop, xvfb: str) -> str:  # noqa: F811
    return xvfb  # the desktop's services are up before the app starts


def test_the_tray_icon_shows_the_state_and_an_unseen_call_end_is_notified(
    desktop: FakeDesktop, xvfb_with_desktop: str, tmp_path: Path
) -> None:
    app = App(xvfb_with_desktop, tmp_path / "app.log")
    try:
        app.signed_in()
        _wait("the tray icon to register", lambda: bool(desktop.snapshot()[0]))
        items, _ = desktop.snapshot()
        assert len(items) == 1, items
        props: dict[str, Any] = {}
        _wait(
            "the tray icon to say the app is signed in",
            lambda: _tooltip_says(props, items[0], "Signed in"),
        )
        assert props["Status"] == "Active"
        assert props["Title"] == TITLE
        assert props["ToolTip"][2].startswith(f"{TITLE}\nSigned in"), props["ToolTip"]

        app.x("windowfocus", "--sync", app.wid)  # no window manager on Xvfb
        app.x("type", "--delay", "40", HANGS_UP)
        app.x("key", "Return")
        _wait("the call to connect", lambda: app.title().startswith("Connected"))
        _wait("the tray icon to say so", lambda: _tooltip_says(props, items[0], "Connected"))
        # The user turns to another window (the root window here) while the call is up.
        root = app.x("search", "--maxdepth", "0", "--name", "")
        app.x("windowfocus", "--sync", root.splitlines()[0])
        _wait("the far end to hang up", lambda: not app.title().startswith("Connected"))
        _wait("a notification", lambda: bool(desktop.snapshot()[1]), timeout_s=10)
        _, notes = desktop.snapshot()
        assert len(notes) == 1, notes
        assert notes[0].summary == "Call ended", notes
        assert HANGS_UP[-4:] in notes[0].body.replace(" ", ""), notes
        assert app.x("getwindowfocus") != app.wid, "the notification took the focus"
    finally:
        app.stop()
    log = app.quit_log()
    assert "Traceback" not in log, log


def _tooltip_says(props: dict[str, Any], item: Any, words: str) -> bool:
    props.clear()
    props.update(item_properties(item))
    tooltip = props.get("ToolTip", ("", [], "", ""))
    return words in tooltip[2]  # (icon name, icon pixmaps, title, text): Qt puts it in the title


def test_without_a_desktop_tray_no_icon_appears_and_nothing_is_said(
    xvfb: str,  # noqa: F811 (the imported fixture)
    tmp_path: Path,
) -> None:
    app = App(xvfb, tmp_path / "app.log")
    try:
        app.signed_in()
    finally:
        app.stop()
    log = app.quit_log()
    assert "tray" not in log.lower(), log
    assert "notif" not in log.lower(), log
