"""GUI benchmarks: start to signed in, idle RSS and CPU, server state change → indicator repainted.

Every figure comes from the real app run as a subprocess with ``QT_QPA_PLATFORM=offscreen``
through bench/gui_driver.py, which starts it as `ucwa-phone` does and attaches to the window
through ``app.gui.run``'s ``on_ready`` callback: it prints ``BENCH <event> <time.monotonic()>``
lines (``shown``, ``signed_in``, ``state X``, ``paint X``) and takes ``dial N`` / ``hold`` /
``resume`` / ``hangup`` / ``quit`` on stdin. CLOCK_MONOTONIC is system-wide on Linux, so the
child's timestamps compare with ours.
"""

from __future__ import annotations

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
    lat = _repaint_latencies(calls)
    return [
        (f"start → window shown, median of {runs}", f"{statistics.median(shown):.2f} s", ""),
        (
            f"start → signed in to the demo simulator, median of {runs}",
            f"{statistics.median(signed_in):.2f} s",
            "< 1.5 s",
        ),
        ("idle RSS after sign-in (demo, simulator in-process)", f"{rss:.0f} MB", "< 120 MB"),
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
