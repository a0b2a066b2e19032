"""Issue 11's "done when" for history: a call made in the window (the real app, signed in to a
loopback server as a real account) is in `ucwa-phone history --json` after a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def _env(**changes: str) -> dict[str, str]:
    env = dict(os.environ)  # conftest points XDG_* at this test's tmp dirs
    env.pop("UCWA_PHONE_PASSWORD", None)
    env.update(changes)
    return env


def _window(server: Any, credentials: tuple[str, str]) -> subprocess.Popen[str]:
    user, password = credentials
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.gui_driver",
            "--server",
            server.discovery_url,
            "--user",
            user,
        ],
        cwd=ROOT,
        env=_env(QT_QPA_PLATFORM="offscreen", UCWA_PHONE_PASSWORD=password),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(proc: subprocess.Popen[str], prefix: str) -> None:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.strip())
        if line.startswith(prefix):
            return
    proc.kill()
    _, err = proc.communicate(timeout=10)
    pytest.fail(f"no {prefix!r} line; stdout={seen!r} stderr={err[-3000:]}")


def _send(proc: subprocess.Popen[str], command: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()


def _history_json() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "app", "history", "--json"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    entries: list[dict[str, Any]] = json.loads(done.stdout)
    return entries


def _stop(proc: subprocess.Popen[str], how: signal.Signals) -> str:
    try:
        proc.send_signal(how)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err


def test_a_call_made_in_the_window_is_in_the_history_after_a_restart(
    sim_server: Any, sim_credentials: tuple[str, str]
) -> None:
    proc = _window(sim_server, sim_credentials)
    _wait_for(proc, "BENCH signed_in")
    _send(proc, "dial +14255550100")
    _wait_for(proc, "BENCH state connected")
    _send(proc, "hangup")
    _wait_for(proc, "BENCH state ended")
    err = _stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err

    [entry] = _history_json()  # a new process, the same user data directory
    assert entry["sent"] == "tel:+14255550100"
    assert entry["outcome"] == "connected"
    assert entry["answered_by"] and entry["duration_s"] is not None
    demo_file = Path(os.environ["XDG_DATA_HOME"]) / "ucwa-phone" / "history-demo.sqlite"
    assert not demo_file.exists()  # a real account's calls never go to the demo file


def test_a_call_in_progress_when_the_window_died_is_interrupted_at_the_next_start(
    sim_server: Any, sim_credentials: tuple[str, str]
) -> None:
    proc = _window(sim_server, sim_credentials)
    _wait_for(proc, "BENCH signed_in")
    _send(proc, "dial +14255550100")
    _wait_for(proc, "BENCH state connected")
    _stop(proc, signal.SIGKILL)  # no chance to write anything more

    [entry] = _history_json()
    assert entry["outcome"] == "interrupted"
    assert entry["reason"] == "The app stopped during the call."
