"""Clock watch: notices suspend/resume (a wall-clock jump) and event-loop stalls during a wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

from app.ucwa.transport import Sleep

__all__ = ["JUMP_S", "TICK_S", "ClockWatch"]

# How often a long wait looks at the clocks, and how far they may drift apart before we act.
TICK_S: Final = 5.0
# Beyond this a tick was not merely late: the machine slept, the clock was set, or the loop hung.
JUMP_S: Final = 30.0


class ClockWatch:
    """Ticks during a long wait and returns when the clocks say the wait can no longer be trusted.

    A tick that took more than ``2 × tick + JUMP_S`` of monotonic time means the loop stalled; a
    wall clock that moved more than ``JUMP_S`` away from the monotonic one means a suspend/resume
    (the monotonic clock stops while the machine sleeps) or a clock change. Either way a parked
    long-poll may sit on a dead connection, so its owner aborts it and polls again at once.
    All three of ``monotonic``, ``wall`` and ``sleep`` are injectable (tests move time by hand).
    """

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        tick_s: float = TICK_S,
    ) -> None:
        self._monotonic, self._wall, self._sleep, self.tick_s = monotonic, wall, sleep, tick_s
        self.jumps = 0  # how often a wait was cut short (diagnostics)

    async def until_jump(self) -> str:
        """The reason, at the first tick whose clocks disagree; runs until then (or cancelled)."""
        mono, wall = self._monotonic(), self._wall()
        while True:
            await self._sleep(self.tick_s)
            now_mono, now_wall = self._monotonic(), self._wall()
            took, moved = now_mono - mono, now_wall - wall
            mono, wall = now_mono, now_wall
            if took > 2 * self.tick_s + JUMP_S:
                self.jumps += 1
                return f"the event loop stalled for {took:.0f} s"
            if abs(moved - took) > JUMP_S:
                self.jumps += 1
                return f"the wall clock jumped by {moved - took:+.0f} s"
