"""The built-in demo server: the simulator on 127.0.0.1 in a background thread, with its account.

Used when no account is set up, by the window and by `ucwa-phone call`. The simulator (and its
web stack) is imported only when a demo server starts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.simulator.serve import SimServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoAccount:
    """Where and as whom to sign in to a running demo server."""

    discovery_url: str
    user: str
    password: str  # the simulator's published demo password, not a secret


class DemoServer:
    """The simulator over plain HTTP on 127.0.0.1 (any free port), signed in to as the first
    account of its own account table.

    ``start``/``stop`` block (``with DemoServer() as account:`` does both); the window uses
    ``astart``/``astop``/``stop_soon``, which run them in a worker thread.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self._speed = speed
        self._server: SimServer | None = None
        self._stopping: asyncio.Task[None] | None = None

    def start(self) -> DemoAccount:
        """Serve until ``stop``; returns once the server listens. Raises OSError or
        RuntimeError when it cannot start."""
        from app.simulator.config import SimConfig
        from app.simulator.serve import SimServer
        from app.simulator.simulator import Simulator

        # A per-run token no one is told: nothing may drive the demo's /_sim/ endpoints.
        sim = Simulator(
            SimConfig(
                profile="realistic",  # demo mode meets what a real server does
                speed=self._speed,
                control_token=secrets.token_urlsafe(32),
            )
        )
        server = SimServer(sim, host="127.0.0.1", port=0, tls=False).start()
        self._server = server
        user, password = next(iter(sim.config.users.items()))
        log.info("demo simulator at %s", server.base_url)
        return DemoAccount(server.discovery_url, user, password)

    def stop(self) -> None:
        """Stop serving (releases parked polls); does nothing when not serving."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> DemoAccount:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def astart(self) -> DemoAccount:
        """``start`` in a worker thread: the window keeps painting while the simulator loads."""
        return await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        """``stop`` in a worker thread; waits for a stop that ``stop_soon`` began."""
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.stop)
        elif self._stopping is not None and self._stopping is not asyncio.current_task():
            await self._stopping

    def stop_soon(self) -> None:
        """Begin stopping on the running loop (a Qt slot cannot await)."""
        if self._server is not None and self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self.astop())
