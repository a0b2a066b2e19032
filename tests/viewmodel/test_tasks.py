"""TaskScope: refuses to run without a loop, exclusive groups, errors routed, aclose cancels."""

from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from app.viewmodel.tasks import TaskScope
from tests.viewmodel.fakes import run


def test_spawn_without_a_running_loop_raises_instead_of_doing_nothing() -> None:
    scope = TaskScope(lambda exc: None)

    async def work() -> None:
        pass

    with pytest.raises(RuntimeError):
        scope.spawn(work())


def test_group_is_exclusive_and_errors_reach_the_handler(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop
) -> None:
    errors: list[BaseException] = []
    scope = TaskScope(errors.append)
    first_cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            first_cancelled.set()
            raise

    async def boom() -> None:
        raise ValueError("boom")

    first = scope.spawn(slow(), group="g")
    assert scope.running("g")
    second = scope.spawn(boom(), group="g")
    qtbot.waitUntil(lambda: first.done() and second.done())
    assert first.cancelled()
    assert [type(e) for e in errors] == [ValueError]  # cancellation is not an error
    assert not scope.running("g")


def test_aclose_cancels_everything_and_closes(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop
) -> None:
    scope = TaskScope(lambda exc: None)
    tasks = [scope.spawn(asyncio.sleep(10)) for _ in range(3)]
    run(qtbot, scope.aclose())
    assert all(t.cancelled() for t in tasks)

    async def later() -> None:
        pass

    with pytest.raises(RuntimeError):
        scope.spawn(later())


def test_cancel_stops_only_that_groups_task(qtbot: QtBot, aloop: asyncio.AbstractEventLoop) -> None:
    scope = TaskScope(lambda exc: None)

    async def slow() -> None:
        await asyncio.sleep(10)

    searching = scope.spawn(slow(), group="search")
    dialling = scope.spawn(slow(), group="dial")
    scope.cancel("search")
    scope.cancel("nothing-running")  # no such group: nothing happens
    qtbot.waitUntil(searching.done)
    assert searching.cancelled() and not scope.running("search")
    assert scope.running("dial")
    dialling.cancel()
