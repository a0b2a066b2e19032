"""Sign-in integration helpers: a simulator with Azure AD, call watching, token capture."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.auth.service import SignInService
from app.simulator import SimConfig, Simulator
from app.simulator.aad import AadProvider
from app.simulator.serve import SimServer
from app.ucwa.calls import CallSnapshot, CallState
from app.ucwa.status import SessionStatus

CLIENT_ID = "ucwa-phone-tests"


@dataclass
class AadSim:
    sim: Simulator
    server: SimServer
    idp: AadProvider

    @property
    def authority(self) -> str:
        return self.idp.authority(self.server.base_url)

    @property
    def ca_pem(self) -> str:
        assert self.server.ca_pem_path
        return self.server.ca_pem_path


@contextmanager
def aad_sim(**config: Any) -> Iterator[AadSim]:
    """The simulator over https with its Azure AD provider mounted (the `--aad` mode)."""
    sim = Simulator(SimConfig(**{"speed": 50, "max_poll_s": 0.5, **config}))
    idp = AadProvider(users=sim.config.users, pending_polls=0)
    idp.install(sim)
    with SimServer(sim, tls=True) as server:
        sim.config.aad_authority = idp.authority(server.base_url)
        yield AadSim(sim, server, idp)
    sim.close()


class CallWatcher:
    """A SessionListener that lets a test await call states."""

    def __init__(self) -> None:
        self.snapshots: list[CallSnapshot] = []
        self.statuses: list[SessionStatus] = []
        self._changed = asyncio.Event()

    def on_status(self, status: SessionStatus) -> None:
        self.statuses.append(status)

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.snapshots.append(snapshot)
        self._changed.set()

    @property
    def state(self) -> CallState:
        return self.snapshots[-1].state if self.snapshots else CallState.IDLE

    async def wait_for(self, *states: CallState, within: float = 10.0) -> CallSnapshot:
        async with asyncio.timeout(within):
            while self.state not in states:
                self._changed.clear()
                await self._changed.wait()
        return self.snapshots[-1]


class RecordingTokens:
    """Wraps a SignInService and keeps every token it hands out (for the leak scan)."""

    def __init__(self, service: SignInService) -> None:
        self.service = service
        self.tokens: list[str] = []

    async def get_token(self, challenge: Any, *, stale: str | None = None) -> str:
        token = await self.service.get_token(challenge, stale=stale)
        self.tokens.append(token)
        return token
