"""Suite-wide plumbing: headless Qt, the qasync loop fixture, and an isolated config dir."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

pytest_plugins = ["tests.helpers.simfixtures"]

# Before pytest-qt builds the QApplication.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's settings, state or cache."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        directory = tmp_path / "xdg" / var.lower()
        directory.mkdir(parents=True)
        monkeypatch.setenv(var, str(directory))


@pytest.fixture
def aloop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop marked as running, so qtbot.waitSignal / waitUntil also drive asyncio."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    # stop() calls QApplication.exit(); outside exec() that breaks every later wait in the session.
    with mock.patch.object(type(qapp), "exit"):
        loop.stop()
    asyncio.events._set_running_loop(None)
    loop.close()
    # Collect the loop's QObjects now, on the Qt thread: left to a later collection they can die
    # in a simulator thread ("Timers cannot be stopped from another thread") or crash.
    gc.collect()
