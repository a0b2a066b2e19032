"""The view-models on a real UcwaSession against the loopback simulator (helpers for test_gui_*)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.viewmodel.ports import Account, MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from app.wiring import SignInAdapter
from tests.viewmodel.fakes import run

SETTINGS = Settings(default_region="US")


async def fast_sleep(seconds: float) -> None:
    """Backoffs and watchdogs 20x faster (the simulator runs at speed 50)."""
    await asyncio.sleep(seconds / 20)


@dataclass
class Stack:
    shell: AppViewModel
    sim: Any  # app.simulator.Simulator
    http: httpx.AsyncClient
    states: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def requests(self, method: str, path_end: str) -> list[Any]:
        return [r for r in self.sim.request_log if r.method == method and r.path.endswith(path_end)]


def build(qtbot: QtBot, sim_server: Any, sim: Any, credentials: tuple[str, str]) -> Stack:
    user, password = credentials
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    adapter = SignInAdapter(http, SETTINGS, persistent=False, session_options={"sleep": fast_sleep})
    shell = AppViewModel(signin_service=adapter, store=MemorySettingsStore(SETTINGS))
    stack = Stack(shell, sim, http)
    shell.call.stateChanged.connect(stack.states.append)
    shell.call.stateTextChanged.connect(stack.texts.append)
    with qtbot.waitSignal(shell.signin.signedIn, timeout=5000):
        shell.signin.sign_in_with(
            Account(address=user, server=sim_server.discovery_url, user=user), password, save=False
        )
    return stack


@pytest.fixture(autouse=True)
def collect_qt_garbage() -> Iterator[None]:
    """Collect earlier tests' qasync loops on the main thread, before the simulator's thread exists.

    Otherwise the garbage collector may run in the uvicorn thread and destroy Qt timers there
    ("QObject::~QObject: Timers cannot be stopped from another thread").
    """
    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def stack(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    sim_server: Any,
    sim: Any,
    sim_credentials: tuple[str, str],
) -> Iterator[Stack]:
    stack = build(qtbot, sim_server, sim, sim_credentials)
    yield stack
    run(qtbot, stack.shell.aclose(), timeout_ms=8000)
    run(qtbot, stack.http.aclose())


def dial(qtbot: QtBot, stack: Stack, number: str) -> None:
    dialer = stack.shell.dialer
    dialer.setNumber(number)
    assert dialer.canDial, (dialer.hint, stack.shell.statusText)
    with qtbot.waitSignal(dialer.dialed, timeout=5000):
        dialer.dial()


def wait_state(qtbot: QtBot, stack: Stack, state: str, timeout_ms: int = 5000) -> None:
    qtbot.waitUntil(lambda: stack.shell.call.state == state, timeout=timeout_ms)


def in_order(seen: list[str], expected: list[str]) -> bool:
    """``expected`` appears in ``seen`` as a subsequence."""
    it = iter(seen)
    return all(any(s == e for s in it) for e in expected)
