"""The real app as a subprocess: demo sign-in, Ctrl+C quits cleanly, no display → exit code 2.

Where a test must see inside the window it runs under bench/gui_driver.py, which starts the app as
`ucwa-phone` does and prints ``BENCH <event>`` lines through app.gui.run's on_ready callback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)  # conftest already points XDG_* at this test's tmp dirs: demo mode
    env.pop("UCWA_PHONE_PASSWORD", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _start_app(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.gui_driver", *args],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM="offscreen", **env),
        stdin=subprocess.PIPE,  # kept open: EOF on stdin means "quit" to the driver
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def _reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """The app is killed and reaped however the test leaves the block."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _wait_for_line(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith(prefix):
            return lines
    proc.kill()
    _, err = proc.communicate(timeout=10)
    pytest.fail(f"no {prefix!r} line; stdout={lines!r} stderr={err[-3000:]}")


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_demo_mode_signs_in_and_a_signal_quits_cleanly(how: str) -> None:
    proc = _start_app()
    with _reaped(proc):
        lines = _wait_for_line(proc, "BENCH signed_in")
        assert lines[0].startswith("BENCH shown")
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "app.qt" not in err, err  # no Qt noise (raise())


def test_no_display_is_one_line_and_exit_code_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "xvfb-run" in lines[0] and "ucwa-phone call" in lines[0]
    assert "PySide6" not in result.stderr and "Traceback" not in result.stderr


def test_bad_callback_number_is_refused_before_anything_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--callback", "12"],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--callback" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_ca_bundle_opens_the_window_with_the_reason(
    tmp_path: Path, sim_server: Any, sim: Any
) -> None:
    from app import settings as settings_module

    missing = tmp_path / "gone" / "corp-ca.pem"
    settings_module.save(
        settings_module.Settings(
            address="alice@contoso.com",
            discovery_url=sim_server.discovery_url,
            ca_bundle=str(missing),
        )
    )
    proc = _start_app()
    with _reaped(proc):
        lines = _wait_for_line(proc, "BENCH banner")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert f"The CA bundle {missing} cannot be read: No such file or directory." in lines[-1]
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert sim.request_log == []  # nothing was sent with the trust the user did not ask for


_DEMO_CANNOT_START = """
import runpy
import app.demo_server

def refuse(self):
    raise OSError(98, "Address already in use")

app.demo_server.DemoServer.start = refuse
runpy.run_module("bench.gui_driver", run_name="__main__")
"""


def test_a_demo_server_that_cannot_start_is_said_in_the_banner_and_the_window_stays() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _DEMO_CANNOT_START],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _reaped(proc):
        lines = _wait_for_line(proc, "BENCH banner")
        time.sleep(0.5)
        assert proc.poll() is None  # the window is still up
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert "The demo server could not start." in lines[-1]
    assert "signed_in" not in out and "connection" not in out  # no sign-in was tried
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_server_mode_signs_in_calls_and_quits_deleting_the_application(
    sim_server: Any, sim: Any, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    proc = _start_app(
        "--server",
        sim_server.discovery_url,
        "--user",
        user,
        "--callback",
        "+14255550124",
        UCWA_PHONE_PASSWORD=password,
    )
    with _reaped(proc):
        _wait_for_line(proc, "BENCH signed_in")
        assert proc.stdin is not None
        proc.stdin.write("dial +14255550100\n")
        proc.stdin.flush()
        _wait_for_line(proc, "BENCH paint connected")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and password not in err
    log = sim.request_log
    start = [r for r in log if r.method == "POST" and r.path.endswith("/phoneAudioInvitations")]
    assert len(start) == 1
    deletes = [r for r in log if r.method == "DELETE"]
    assert len(deletes) == 1 and 200 <= deletes[0].status < 300
    assert log.index(deletes[0]) > log.index(start[0])


def test_ucwa_phone_itself_signs_in_and_sigterm_signs_out(
    sim_server: Any, sim: Any, sim_credentials: tuple[str, str]
) -> None:
    """The plain entry point, with nothing attached: it signs in, and SIGTERM leaves the server."""
    user, password = sim_credentials
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--server", sim_server.discovery_url, "--user", user],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM="offscreen", UCWA_PHONE_PASSWORD=password),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _reaped(proc):
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(
            r.method == "POST" and r.path.endswith("/applications") for r in sim.request_log
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "never signed in"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err and password not in err
    deletes = [r for r in sim.request_log if r.method == "DELETE"]
    assert len(deletes) == 1 and 200 <= deletes[0].status < 300


def test_a_second_launch_hands_its_link_to_the_running_copy(
    sim_server: Any, sim: Any, sim_credentials: tuple[str, str]
) -> None:
    """A tel: link clicked while the app runs must not start a second copy that signs in with the
    same endpoint and takes the first one's session over."""
    user, password = sim_credentials
    account = ["--server", sim_server.discovery_url, "--user", user]
    command = [sys.executable, "-m", "app", *account]
    env = _env(QT_QPA_PLATFORM="offscreen", UCWA_PHONE_PASSWORD=password)
    first = _start_app(*account, UCWA_PHONE_PASSWORD=password)
    try:
        _wait_for_line(first, "BENCH signed_in")
        started = time.monotonic()
        second = subprocess.run(
            [*command, "tel:+1-425-555-0100"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        took = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        number = _wait_for_line(first, "BENCH number")[-1]
        assert number.split()[2:4] == ["+1", "425-555-0100"]
        first.send_signal(signal.SIGINT)
        rest, err = first.communicate(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert "taken_over" not in rest
    assert "Traceback" not in err and "app.qt" not in err, err  # no Qt noise (raise())
    assert took < 10, took
    posts = [r for r in sim.request_log if r.method == "POST" and r.path.endswith("/applications")]
    assert len(posts) == 1  # only the first copy signed in
