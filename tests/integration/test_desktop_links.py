"""A tel: link opened anywhere on the desktop (xdg-open) reaches the running window.

On a bare X server (no desktop environment) xdg-open takes its generic path: the default handler
of x-scheme-handler/tel from $XDG_CONFIG_HOME/mimeapps.list, whose .desktop entry it runs. So the
test installs the entry exactly as `make install-desktop` does, for a throw-away user.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]
LINK = "tel:+14255550100"
START_TIMEOUT_S = 30.0
# What could make xdg-open leave its generic path on a developer's desktop; CI has none of them.
_DESKTOP_VARS = (
    "XDG_CURRENT_DESKTOP",
    "XDG_SESSION_DESKTOP",
    "DESKTOP_SESSION",
    "KDE_FULL_SESSION",
    "KDE_SESSION_VERSION",
    "GNOME_DESKTOP_SESSION_ID",
    "MATE_DESKTOP_SESSION_ID",
    "WAYLAND_DISPLAY",
    "BROWSER",
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        # Fail, not skip: `make test` installs it (packaging/system-deps.sh test).
        pytest.fail(f"{name} not found; install it (packaging/system-deps.sh test installs it)")
    return path


def _stop(proc: subprocess.Popen[Any], sig: int, wait_s: float = 15) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def display(tmp_path: Path) -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (-displayfd)."""
    read_fd, write_fd = os.pipe()
    with (tmp_path / "xvfb.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                _tool("Xvfb"),
                *("-displayfd", str(write_fd)),
                *("-screen", "0", "1024x768x24"),
                *("-nolisten", "tcp"),
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # Xvfb writes it once it accepts clients
        if not number.isdigit():
            pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text()}")
        yield f":{number}"
    finally:
        _stop(proc, signal.SIGTERM)


@pytest.fixture
def desktop_user(tmp_path: Path, display: str) -> dict[str, str]:
    """The environment of a user on a bare X server who ran `make install-desktop`."""
    env = {k: v for k, v in os.environ.items() if k not in _DESKTOP_VARS}
    env.pop("UCWA_PHONE_PASSWORD", None)  # no account: demo mode
    home = tmp_path / "home"
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
    )
    # This checkout's app as an installed `ucwa-phone` program (CI has no .venv/bin/ucwa-phone).
    program = tmp_path / "bin" / "ucwa-phone"
    program.parent.mkdir()
    program.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} -m app "$@"\n'
    )
    program.chmod(0o755)
    done = subprocess.run(
        ["sh", str(ROOT / "packaging" / "install-desktop.sh")],
        env={**env, "EXEC": str(program)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def _read_until(proc: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    """The first stdout line starting with ``prefix`` (pytest-timeout bounds a silent child)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.strip())
        if line.startswith(prefix):
            return line.strip()
    proc.kill()
    _, err = proc.communicate(timeout=10)
    pytest.fail(f"no {prefix!r} line; stdout={seen!r} stderr={err[-3000:]}")


def test_xdg_open_tel_link_fills_the_running_windows_dialer(desktop_user: dict[str, str]) -> None:
    xdg_open = _tool("xdg-open")
    xdotool = _tool("xdotool")
    query = subprocess.run(
        [_tool("xdg-mime"), "query", "default", "x-scheme-handler/tel"],
        env=desktop_user,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert query.stdout.strip() == "ucwa-phone.desktop", query.stdout + query.stderr

    # The running window (a real xcb window), watched through bench/gui_driver's BENCH lines.
    first = subprocess.Popen(
        [sys.executable, "-m", "bench.gui_driver"],
        cwd=ROOT,
        env=desktop_user,
        stdin=subprocess.PIPE,  # kept open: EOF means "quit" to the driver
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _read_until(first, "BENCH signed_in", START_TIMEOUT_S)
        windows = subprocess.run(
            [xdotool, "search", "--onlyvisible", "--name", r"UCWA Phone \(demo\)"],
            env=desktop_user,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert windows.stdout.strip(), "the demo window is not on the X display"

        started = time.monotonic()
        opened = subprocess.run(
            [xdg_open, LINK],
            env=desktop_user,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
        # xdg-open returns the handler's exit status: the second copy handed the link over.
        assert opened.returncode == 0, opened.stdout + opened.stderr
        number = _read_until(first, "BENCH number", START_TIMEOUT_S)
        assert number.split()[2:4] == ["+1", "425-555-0100"], number
        first.send_signal(signal.SIGINT)
        rest, err = first.communicate(timeout=20)
    finally:
        _stop(first, signal.SIGKILL, wait_s=5)
    assert first.returncode == 0, err
    assert "Traceback" not in err, err
    assert "taken_over" not in rest  # no second copy signed in and took the session over
    assert took < 20, took
