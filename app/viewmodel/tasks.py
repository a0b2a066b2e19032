"""TaskScope: the asyncio tasks a view-model owns (strong refs, exclusive groups, error routing)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskScope:
    """Owns the tasks a view-model starts, so they die with it (Textual: workers die with owner).

    - Keeps strong references (the loop only keeps weak ones; an unreferenced task can vanish).
    - ``group``: starting a task in a group cancels the previous one of that group ("exclusive").
    - Refuses to start without a running loop instead of queuing on a loop nobody runs (qasync's
      ``asyncSlot`` in 0.28 does that silently; a click that does nothing is worse than an error).
    - A task's exception (not cancellation) goes to ``on_error``.
    """

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._groups: dict[str, asyncio.Task[Any]] = {}
        self._closed = False

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, group: str | None = None
    ) -> asyncio.Task[Any]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            raise
        if self._closed:
            coro.close()
            raise RuntimeError("TaskScope is closed")
        if group is not None and (old := self._groups.get(group)) is not None:
            old.cancel()
        task = loop.create_task(coro, name=group)
        self._tasks.add(task)
        if group is not None:
            self._groups[group] = task
        task.add_done_callback(self._finished)
        return task

    def cancel(self, group: str) -> None:
        """Cancel the group's running task, if any (its result is no longer wanted)."""
        task = self._groups.get(group)
        if task is not None:
            task.cancel()

    def running(self, group: str) -> bool:
        task = self._groups.get(group)
        return task is not None and not task.done()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        name = task.get_name()
        if self._groups.get(name) is task:
            del self._groups[name]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            try:
                self._on_error(exc)
            except Exception:  # an error handler must not take the loop down with it
                log.exception("error handler failed")

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Cancel every task and wait for them to finish; later ``spawn`` calls raise."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
