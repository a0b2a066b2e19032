"""Compressed soak: hundreds of calls on one session with seeded random faults; memory, leftovers,
recovery time after a fault and the request rate during an outage beside the no-fault baseline."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections.abc import Callable

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from app.ucwa.errors import UcwaError
from tests.helpers.faultrig import FAST, FastClient, fast_client

Row = tuple[str, str, str]
USER, PASSWORD = "alice@contoso.com", "demo-password"
SEED = 20261207
TARGET_RSS_GROWTH_MB = 10.0
OUTAGE_SIM_S = 60.0
FAULT_SHARE = 0.3  # of the calls meet a fault while connected
WARM_UP_CALLS = 10  # before the memory baseline: imports, caches and the simulator's log settle


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def _faults(sim: Simulator) -> dict[str, Callable[[], None]]:
    f, many = sim.faults, 1_000_000
    return {
        "503 everywhere": lambda: (
            f.force_status("/ucwa/", 503, count=many),
            f.drop_event_channel(),
        ),
        "404 on events": lambda: (
            f.force_status("/events", 404, count=many),
            f.drop_event_channel(),
        ),
        "connection reset": lambda: (
            f.reset_connection("/ucwa/", count=many),
            f.drop_event_channel(),
        ),
        "application expired": f.expire_applications,
        "event channel dropped": f.drop_event_channel,
    }


class _Soak:
    def __init__(self, sim: Simulator, c: FastClient, rng: random.Random) -> None:
        self.sim, self.c, self.rng = sim, c, rng
        self.recovery_s: list[float] = []  # simulated seconds from the end of a fault to signed in
        self.outage_rate: list[float] = []  # requests per simulated minute during an outage
        self.baseline_rate: list[float] = []  # the same window of a call without a fault
        self.failed_calls = 0

    def _rate(self, start: float, end: float) -> float:
        n = len([r for r in self.sim.request_log if start <= r.t <= end])
        return n / ((end - start) * FAST / 60.0)

    async def call(self, fault: str | None) -> None:
        c = self.c
        await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=20)
        try:
            await c.session.start_call("+14255550100", callback="+14255550123")
            await c.until_state(CallState.CONNECTED, CallState.ENDED, CallState.FAILED)
        except UcwaError:
            self.failed_calls += 1
            return
        t0 = time.time()
        if fault is not None:
            _faults(self.sim)[fault]()
        await asyncio.sleep(OUTAGE_SIM_S / FAST)
        t1 = time.time()
        self.sim.faults.clear()
        (self.outage_rate if fault else self.baseline_rate).append(self._rate(t0, t1))
        if fault is not None:
            await c.until(lambda: c.session.status.state is ConnectionState.SIGNED_IN, within=30)
            self.recovery_s.append((time.time() - t1) * FAST)
        if c.session.call.state in (CallState.CONNECTED, CallState.ON_HOLD):
            try:
                await c.session.hang_up()
            except UcwaError:
                self.failed_calls += 1
        try:
            await c.until_state(CallState.ENDED, CallState.FAILED, within=20)
        except TimeoutError:
            raise AssertionError(f"call stuck in {c.session.call} after {fault}") from None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def _bench(discovery: str, sim: Simulator, calls: int) -> list[Row]:
    rng = random.Random(SEED)
    names = list(_faults(sim))
    sockets_before = _sockets()
    tasks_before = len(asyncio.all_tasks())
    async with fast_client(discovery, USER, PASSWORD, rng=rng.random) as c:
        await c.session.sign_in()
        soak = _Soak(sim, c, rng)
        rss_start = 0.0
        for i in range(calls):
            if i == WARM_UP_CALLS:
                rss_start = _rss_mb()
            fault = rng.choice(names) if rng.random() < FAULT_SHARE else None
            await soak.call(fault)
        rss_end = _rss_mb()
    await asyncio.sleep(0.2)  # let closed connections finish closing
    tasks_left = len(asyncio.all_tasks()) - tasks_before
    sockets_left = _sockets() - sockets_before
    growth = rss_end - rss_start
    ok = "ok" if growth < TARGET_RSS_GROWTH_MB else "MISSED"
    faults = len(soak.recovery_s)
    return [
        (f"calls on one session ({faults} with a fault, seed {SEED})", str(calls), ""),
        (
            f"RSS growth after {WARM_UP_CALLS} calls (client + in-process simulator)",
            f"{growth:+.1f} MB",
            f"< {TARGET_RSS_GROWTH_MB:g} MB {ok}",
        ),
        (
            "asyncio tasks left over",
            str(tasks_left),
            "= 0 " + ("ok" if tasks_left == 0 else "MISSED"),
        ),
        (
            "sockets left over",
            str(sockets_left),
            "= 0 " + ("ok" if sockets_left == 0 else "MISSED"),
        ),
        (
            "recovery time after a fault p50 (simulated s, incl. the backoff wait under way)",
            f"{_pct(soak.recovery_s, 0.5):.1f} s",
            "",
        ),
        (
            "recovery time after a fault p95 (simulated s)",
            f"{_pct(soak.recovery_s, 0.95):.1f} s",
            "",
        ),
        (
            "requests per minute during an outage (median / max)",
            f"{statistics.median(soak.outage_rate or [0]):.0f} / "
            f"{max(soak.outage_rate or [0]):.0f}",
            "",
        ),
        (
            "requests per minute without a fault (median / max)",
            f"{statistics.median(soak.baseline_rate or [0]):.0f} / "
            f"{max(soak.baseline_rate or [0]):.0f}",
            "",
        ),
        ("calls refused or not ended cleanly", str(soak.failed_calls), ""),
    ]


def run(quick: bool) -> list[Row]:
    sim = Simulator(SimConfig(speed=100, max_poll_s=0.5))
    try:
        with SimServer(sim) as server:
            return asyncio.run(_bench(server.discovery_url, sim, 40 if quick else 300))
    finally:
        sim.close()
