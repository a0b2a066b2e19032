"""The real app on a virtual X display, driven by xdotool key presses against `ucwa-phone sim`."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
NUMBER = "+14255550100"  # answered, stays up until hung up
TITLE = "UCWA Phone"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        # Fail, not skip: `make test` installs it (packaging/system-deps.sh test), so a missing
        # tool means a broken setup that would otherwise hide this test for good.
        pytest.fail(f"{name} not found; install it (packaging/system-deps.sh test installs it)")
    return path


def _stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, wait_s: float = 10) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _read_line(stream: Any, timeout_s: float) -> str:
    """One line from a pipe, with a deadline (a thread, since select() does not work on Windows)."""
    box: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: box.put(stream.readline()), daemon=True).start()
    try:
        return box.get(timeout=timeout_s)
    except queue.Empty:
        pytest.fail(f"no line within {timeout_s} s")


def _wait(what: str, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (-displayfd); runs never clash."""
    binary = _tool("Xvfb")
    read_fd, write_fd = os.pipe()
    with (tmp_path / "xvfb.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = _read_line(pipe, 15).strip()
        if not number.isdigit():
            pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text()}")
        yield f":{number}"
    finally:
        _stop(proc)


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`python -m app sim --speed 20` in its own process; yields its JSON line (discovery, base)."""
    with (tmp_path / "sim.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "sim", "--speed", "20"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = _read_line(proc.stdout, 30)
        if not line.strip():
            pytest.fail(f"the simulator printed nothing: {(tmp_path / 'sim.log').read_text()}")
        yield json.loads(line)
    finally:
        _stop(proc)
        assert proc.stdout is not None
        proc.stdout.close()


def _log(base: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/_sim/log", timeout=5) as response:  # loopback only
        doc = json.load(response)
    return list(doc["requests"] if isinstance(doc, dict) else doc)


def _posted(base: str, suffix: str) -> bool:
    return any(
        r["method"] == "POST" and r["path"].rstrip("/").endswith(suffix) and r["status"] < 400
        for r in _log(base)
    )


def _screenshot(display: str, path: Path) -> None:
    """The whole virtual screen, captured from outside the app: ImageMagick, xwd, else Qt."""
    path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DISPLAY=display)
    if shutil.which("import"):
        subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=30)
    elif shutil.which("xwd") and shutil.which("convert"):
        xwd = subprocess.run(
            ["xwd", "-root", "-silent"], env=env, check=True, capture_output=True, timeout=30
        )
        subprocess.run(["convert", "xwd:-", str(path)], input=xwd.stdout, check=True, timeout=30)
    else:
        grab = (
            "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)"
        )
        env["QT_QPA_PLATFORM"] = "xcb"
        subprocess.run([sys.executable, "-c", grab, str(path)], env=env, check=True, timeout=30)


def test_keyboard_call_hold_resume_hang_up_under_xvfb(
    xvfb: str, sim_process: dict[str, Any], tmp_path: Path
) -> None:
    xdotool = _tool("xdotool")
    base = sim_process["base"]
    env = dict(os.environ)
    for var in ("QT_SCALE_FACTOR", "WAYLAND_DISPLAY", "QT_QPA_PLATFORMTHEME"):
        env.pop(var, None)
    env.update(
        QT_QPA_PLATFORM="xcb",
        DISPLAY=xvfb,
        UCWA_PHONE_PASSWORD=sim_process.get("password", "demo-password"),
    )
    app_log = tmp_path / "app.log"
    with app_log.open("wb") as log:
        app = subprocess.Popen(
            [
                sys.executable, "-m", "app",
                "--server", sim_process["discovery"],
                "--user", sim_process.get("user", "alice@contoso.com"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def x(*args: str, timeout: float = 20) -> str:
        if app.poll() is not None:
            pytest.fail(f"the app exited with {app.returncode}:\n{app_log.read_text()}")
        done = subprocess.run(
            [xdotool, *args],
            env=dict(os.environ, DISPLAY=xvfb),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.strip()

    def title() -> str:
        return x("getwindowname", wid)

    try:
        found = x("search", "--sync", "--onlyvisible", "--name", TITLE, timeout=30)
        if not found:
            pytest.fail(f"no window named {TITLE!r}:\n{app_log.read_text()}")
        wid = found.splitlines()[0]
        _wait("sign-in", lambda: title().startswith("Signed in"))
        # No window manager on Xvfb: give the window the keyboard focus directly.
        x("windowfocus", "--sync", wid)

        x("type", "--delay", "40", NUMBER)
        x("key", "Return")
        _wait("the call to be placed", lambda: _posted(base, "/phoneAudioInvitations"))
        _wait("the call to connect", lambda: title().startswith("Connected"))
        _screenshot(xvfb, SHOTS / "xvfb-connected.png")

        x("key", "ctrl+h")
        _wait("hold", lambda: _posted(base, "/holdPhoneAudio"))
        _wait("'On hold' in the title", lambda: title().startswith("On hold"))
        x("key", "ctrl+h")
        _wait("resume", lambda: _posted(base, "/resumePhoneAudio"))
        _wait("'Connected' again", lambda: title().startswith("Connected"))
        x("key", "Escape")
        _wait("hang up", lambda: _posted(base, "/stopPhoneAudio"))
    finally:
        _stop(app, signal.SIGINT, wait_s=15)  # Ctrl+C quits the app the normal way
    assert app.returncode == 0, app_log.read_text()
