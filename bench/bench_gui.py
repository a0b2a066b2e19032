"""GUI benchmarks: start to signed in, idle RSS and CPU, server state change → indicator repainted.

RSS and import time are reported for the demo (simulator in-process) and for a real server (the
simulator in another process, so the app holds only what a real sign-in needs), beside the floor
of a bare PySide6 window.

Every figure comes from the real app run as a subprocess with ``QT_QPA_PLATFORM=offscreen``
through bench/gui_driver.py, which starts it as `ucwa-phone` does and attaches to the window
through ``app.gui.run``'s ``on_ready`` callback: it prints ``BENCH <event> <time.monotonic()>``
lines (``shown``, ``signed_in``, ``state X``, ``paint X``) and takes ``dial N`` / ``hold`` /
``resume`` / ``hangup`` / ``quit`` on stdin. CLOCK_MONOTONIC is system-wide on Linux, so the
child's timestamps compare with ours.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

Row = tuple[str, str, str]
ROOT = Path(__file__).resolve().parents[1]
SERVER_STATES = {"connecting", "connected", "on_hold", "ended", "failed"}  # set by server events


class App:
    """One app process under bench/gui_driver.py; its stdout parsed on a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ucwa-bench-")
        base = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            # A fresh profile each run: demo mode, nothing cached.
            "XDG_CONFIG_HOME": f"{self._tmp.name}/config",
            "XDG_STATE_HOME": f"{self._tmp.name}/state",
            "XDG_CACHE_HOME": f"{self._tmp.name}/cache",
            "XDG_DATA_HOME": f"{self._tmp.name}/data",
        }
        self.events: queue.Queue[tuple[str, str, float]] = queue.Queue()
        self.log: list[tuple[str, str, float]] = []  # every event, for matching afterwards
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.gui_driver", *args],
            cwd=ROOT,
            env={**base, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = line.split()
            if len(words) >= 3 and words[0] == "BENCH":
                event = (words[1], " ".join(words[2:-1]), float(words[-1]))
                self.log.append(event)
                self.events.put(event)

    def wait_for(self, event: str, arg: str = "", timeout_s: float = 20.0) -> float:
        """Timestamp of the next ``event`` (with ``arg``), skipping others."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no BENCH {event} {arg}".strip())
            try:
                name, value, t = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if name == event and (not arg or value == arg):
                return t

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._tmp.cleanup()
        return self.proc.returncode


@contextmanager
def app(*args: str, env: dict[str, str] | None = None) -> Iterator[App]:
    proc = App(*args, env=env)
    try:
        yield proc
    finally:
        proc.close()


def _startup(runs: int) -> tuple[list[float], list[float]]:
    shown, signed_in = [], []
    for _ in range(runs):
        with app() as a:
            shown.append(a.wait_for("shown") - a.started)
            signed_in.append(a.wait_for("signed_in") - a.started)
    return shown, signed_in


@contextmanager
def _separate_simulator() -> Iterator[tuple[str, str, str]]:
    """`ucwa-phone sim` in its own process on loopback (plain http, which a user may choose
    explicitly for a loopback server): yields its discovery URL, user and password."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sim", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        yield line["discovery"], line["user"], line["password"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _real_mode_idle() -> tuple[float, float]:
    """(start → window shown s, idle RSS MB after sign-in) of the window signed in to a real
    server: the simulator runs in another process, so nothing of it is in the app's."""
    with (
        _separate_simulator() as (discovery, user, password),
        app("--server", discovery, "--user", user, env={"UCWA_PHONE_PASSWORD": password}) as a,
    ):
        shown = a.wait_for("shown") - a.started
        a.wait_for("signed_in")
        time.sleep(2.0)  # let start-up work (phones list, first activity report) finish
        return shown, a.rss_mb()


_BARE_WINDOW = """
import os, sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget
qt = QApplication([])
window = QMainWindow()
body = QWidget()
layout = QVBoxLayout(body)
for i in range(13):
    layout.addWidget(QPushButton(f"button {i}") if i % 2 else QLabel(f"label {i}"))
window.setCentralWidget(body)
window.show()
for _ in range(20):
    qt.processEvents()
for line in open(f"/proc/{os.getpid()}/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) / 1024)
"""


def _bare_window_rss() -> float:
    """The floor: a bare PySide6 window with 13 widgets, nothing of the app."""
    done = subprocess.run(
        [sys.executable, "-c", _BARE_WINDOW],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout.split()[-1])


# What each mode imports before its window signs in (the demo adds its simulator and web stack).
_REAL_IMPORTS = "app.gui app.wiring app.ui.mainwindow app.viewmodel.shell app.ucwa.session"
_DEMO_IMPORTS = _REAL_IMPORTS + " app.demo_server app.simulator.simulator app.simulator.serve"


def _import_ms(modules: str) -> float:
    """Cumulative import time of ``modules`` in a fresh interpreter (python -X importtime)."""
    code = "import " + ", ".join(modules.split())
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    total_us = 0
    for line in done.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; top level has no indent.
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[2][1:2] != " ":
            cumulative = parts[1].strip()
            if cumulative.isdigit():
                total_us += int(cumulative)
    return total_us / 1000


def _idle(seconds: float) -> tuple[float, float]:
    with app() as a:
        a.wait_for("signed_in")
        time.sleep(2.0)  # let start-up work (phones list, first activity report) finish
        rss = a.rss_mb()
        cpu0, t0 = a.cpu_s(), time.monotonic()
        time.sleep(seconds)
        cpu = (a.cpu_s() - cpu0) / (time.monotonic() - t0) * 100
    return rss, cpu


@contextmanager
def _recording_simulator(speed: float) -> Iterator[tuple[str, tuple[str, str], list[float]]]:
    """A loopback simulator in this process that notes when each server event is generated;
    yields its discovery URL, its demo account (user, password) and those times."""
    from app.simulator import SimConfig, Simulator
    from app.simulator.events import EventChannel
    from app.simulator.serve import SimServer

    emitted: list[float] = []
    original = EventChannel.emit

    def emit(self: EventChannel, *args: object, **kwargs: object) -> None:
        emitted.append(time.monotonic())
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    EventChannel.emit = emit  # type: ignore[method-assign]
    try:
        sim = Simulator(SimConfig(speed=speed))
        with SimServer(sim, host="127.0.0.1", port=0) as server:
            yield server.discovery_url, next(iter(sim.config.users.items())), emitted
    finally:
        EventChannel.emit = original  # type: ignore[method-assign]


def _repaint_latencies(calls: int) -> list[float]:
    """Per server-driven state change: indicator repainted − server event generated (ms)."""
    samples: list[float] = []
    with (
        _recording_simulator(speed=10.0) as (discovery, (user, password), emitted),
        app("--server", discovery, "--user", user, env={"UCWA_PHONE_PASSWORD": password}) as a,
    ):
        a.wait_for("signed_in")
        for i in range(calls):
            number = "+14255550106" if i % 4 == 3 else "+14255550100"  # some far-end hang-ups
            a.send(f"dial {number}")
            a.wait_for("paint", "connected")
            if number.endswith("0106"):
                a.wait_for("paint", "ended")
            else:
                a.send("hold")
                a.wait_for("paint", "on_hold")
                a.send("resume")
                a.wait_for("paint", "connected")
                a.send("hangup")
                a.wait_for("paint", "ended")
            time.sleep(0.05)
        time.sleep(0.2)
        pending: dict[str, float] = {}
        # Match each repaint with the newest server event before the view-model saw the state.
        for name, value, t in list(a.log):
            if name == "state" and value in SERVER_STATES:
                before = [e for e in emitted if e <= t]
                if before:
                    pending[value] = before[-1]
            elif name == "paint" and value in pending:
                samples.append((t - pending.pop(value)) * 1000)
    return samples


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run(quick: bool) -> list[Row]:
    runs, idle_s, calls = (3, 10.0, 6) if quick else (9, 60.0, 24)
    shown, signed_in = _startup(runs)
    rss, cpu = _idle(idle_s)
    real_shown, real_rss = _real_mode_idle()
    bare_rss = _bare_window_rss()
    real_import, demo_import = _import_ms(_REAL_IMPORTS), _import_ms(_DEMO_IMPORTS)
    lat = _repaint_latencies(calls)
    return [
        (f"start → window shown, median of {runs}", f"{statistics.median(shown):.2f} s", ""),
        (
            f"start → signed in to the demo simulator, median of {runs}",
            f"{statistics.median(signed_in):.2f} s",
            "< 1.5 s",
        ),
        ("idle RSS after sign-in (demo, simulator in-process)", f"{rss:.0f} MB", "< 120 MB"),
        ("start → window shown (real server)", f"{real_shown:.2f} s", ""),
        (
            "idle RSS after sign-in (real server in another process)",
            f"{real_rss:.0f} MB",
            "≤ 100 MB",
        ),
        ("RSS of a bare PySide6 window with 13 widgets (floor)", f"{bare_rss:.0f} MB", ""),
        ("import time of the real-mode modules (-X importtime)", f"{real_import:.0f} ms", ""),
        ("import time of the demo-mode modules (-X importtime)", f"{demo_import:.0f} ms", ""),
        (f"CPU while idle over {idle_s:.0f} s", f"{cpu:.2f} %", "< 1 %"),
        (
            f"server state change → indicator repainted, p99 of {len(lat)}",
            f"{_p99(lat):.1f} ms (median {statistics.median(lat):.1f})" if lat else "no samples",
            "< 50 ms",
        ),
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(" | ".join(row))
