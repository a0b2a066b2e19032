"""Suspend/resume and loop stalls: a parked poll is abandoned and sent again at once."""

from __future__ import annotations

import asyncio

import pytest

from app.ucwa.clockwatch import TICK_S, ClockWatch
from tests.unit.ucwa.test_eventchannel import EVENTS, Recorder, Server, channel, until


class Clocks:
    """Hand-moved monotonic and wall clocks; each tick of the watch waits for ``tick()``."""

    def __init__(self) -> None:
        self.mono, self.wall = 1_000.0, 1_800_000_000.0
        self._ticks: asyncio.Queue[None] = asyncio.Queue()
        self.waiting = 0

    async def sleep(self, _delay: float) -> None:
        self.waiting += 1
        try:
            await self._ticks.get()
        finally:
            self.waiting -= 1

    def tick(self, mono: float, wall: float | None = None) -> None:
        self.mono += mono
        self.wall += mono if wall is None else wall
        self._ticks.put_nowait(None)

    def watch(self) -> ClockWatch:
        return ClockWatch(monotonic=lambda: self.mono, wall=lambda: self.wall, sleep=self.sleep)


async def _parked(server: Server, clocks: Clocks, polls: int) -> None:
    await until(lambda: len(server.polls) == polls and clocks.waiting == 1)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mono", "wall"),
    [(TICK_S, 3_600.0), (TICK_S, -120.0), (300.0, 300.0)],
    ids=["resumed-after-an-hour-asleep", "clock-set-back", "loop-stalled-five-minutes"],
)
async def test_a_jump_or_stall_polls_again_at_once_on_the_same_url(
    mono: float, wall: float
) -> None:
    server, rec, clocks = Server(), Recorder(), Clocks()
    http, ch = channel(server, rec, clock=clocks.watch())
    async with http:
        ch.start()
        await _parked(server, clocks, 1)
        clocks.tick(mono, wall)
        await _parked(server, clocks, 2)
        await ch.aclose()
    assert server.polls[1] == server.polls[0] == EVENTS + "&timeout=180"
    assert rec.sleeps == [] and rec.marks == [] and rec.failures == []  # no backoff, no alarm


@pytest.mark.anyio
async def test_ordinary_ticks_leave_the_parked_poll_alone() -> None:
    server, rec, clocks = Server(), Recorder(), Clocks()
    http, ch = channel(server, rec, clock=clocks.watch())
    async with http:
        ch.start()
        await _parked(server, clocks, 1)
        for late in (0.0, 1.0, TICK_S + 20.0):  # late ticks, but within 2 × tick + 30 s
            clocks.tick(TICK_S + late)
            await _parked(server, clocks, 1)
        server.release.set()  # the server answers: the watch stops with the poll
        await until(lambda: len(server.polls) >= 2)
        await ch.aclose()
    assert rec.failures == []


@pytest.mark.anyio
async def test_the_watch_names_what_happened() -> None:
    clocks = Clocks()
    watch = clocks.watch()
    waiting = asyncio.ensure_future(watch.until_jump())
    await until(lambda: clocks.waiting == 1)
    clocks.tick(TICK_S, 7_200.0)
    assert "jumped by +7195 s" in await waiting
    assert watch.jumps == 1
