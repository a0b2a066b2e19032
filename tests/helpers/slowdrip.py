"""A server on 127.0.0.1 that answers every HTTP request one byte at a time (a slow drip)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from types import TracebackType

_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
    + b" " * 4096
)


class SlowDrip:
    """``async with SlowDrip() as drip``: ``drip.url`` answers one byte per ``interval_s``.

    Every byte arrives well inside any per-read timeout, so only an overall deadline ends the
    wait. ``requests`` counts the connections it served.
    """

    def __init__(self, interval_s: float = 0.2, *, tls: ssl.SSLContext | None = None) -> None:
        self.interval_s = interval_s
        self._tls = tls
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{port}"

    async def __aenter__(self) -> SlowDrip:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self.requests += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            for byte in _ANSWER:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.interval_s)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client gave up: that is the point
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
