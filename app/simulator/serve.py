"""SimServer: the simulator over real HTTP(S) with uvicorn, in a thread or in the current loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import threading
import time
from types import TracebackType

import uvicorn

from app.simulator.documents import DISCOVERY_PATH
from app.simulator.middleware import SimulatedReset
from app.simulator.simulator import Simulator
from app.simulator.tls import TlsFiles, make_tls_files

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 10.0


class SimServer:
    """`with SimServer(sim) as s:` (or ``start()`` … ``stop()``) serves in a background thread
    and returns once listening; `async with SimServer(sim) as s:` serves on the running loop."""

    def __init__(
        self, sim: Simulator, host: str = "127.0.0.1", port: int = 0, tls: bool = False
    ) -> None:
        self.sim = sim
        self.host = host
        self.requested_port = port
        self.tls = tls
        self.port = 0
        self._tls_files: TlsFiles | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread_error: BaseException | None = None

    # --- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):  # noqa: S104 - only used to build the URL
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def discovery_url(self) -> str:
        return self.base_url + DISCOVERY_PATH

    @property
    def ca_pem_path(self) -> str | None:
        return str(self._tls_files.ca_pem) if self._tls_files else None

    # --- set-up ------------------------------------------------------------------------------

    def _make_server(self) -> uvicorn.Server:
        ssl: dict[str, str] = {}
        if self.tls:
            self._tls_files = make_tls_files()
            ssl = {
                "ssl_certfile": str(self._tls_files.server_pem),
                "ssl_keyfile": str(self._tls_files.server_pem),
            }
        config = uvicorn.Config(
            self.sim.asgi,
            host=self.host,
            port=self.requested_port,
            log_level="warning",
            log_config=None,  # uvicorn's records go to the app's (redacting) root handler
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
            **ssl,  # type: ignore[arg-type]
        )
        server = uvicorn.Server(config)
        # An exception out of the app is logged by uvicorn, with its traceback, as an error; a
        # reset the fault control asked for is no error (addFilter keeps one copy of it).
        logging.getLogger("uvicorn.error").addFilter(_not_a_simulated_reset)
        # uvicorn would install SIGINT/SIGTERM handlers; the owner of the process decides.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        return server

    def _bind(self) -> socket.socket:
        """Bind here, not in uvicorn: a taken port raises OSError instead of SystemExit."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says
        # TCP; with proto 0 every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if sys.platform != "win32":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host or "127.0.0.1", self.requested_port))
        except OSError:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        return sock

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        # Lives exactly as long as the server: expires applications nobody talks to any more.
        sweeper = asyncio.get_running_loop().create_task(
            self.sim.sweep_forever(), name="ucwa-sim-sweeper"
        )
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits on start-up failures; keep that local
            raise RuntimeError(f"uvicorn exited with {exc.code}") from None
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            sock.close()

    # --- background thread -------------------------------------------------------------------

    def start(self) -> SimServer:
        """Serve in a background thread until ``stop()``; returns once the server listens."""
        if self._server is not None:
            raise RuntimeError("SimServer already started")
        sock = self._bind()
        server = self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._thread_main, args=(sock,), name="ucwa-sim", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._cleanup()
                raise RuntimeError(f"simulator did not start: {self._thread_error!r}")
            time.sleep(0.005)
        return self

    def _thread_main(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._serve(self._server, sock))
        except BaseException as exc:  # reported by start() as "did not start"
            self._thread_error = exc

    def stop(self) -> None:
        """Release parked polls, stop uvicorn and join the thread (quick: ~0.1-0.3 s)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.sim.close()
        server.should_exit = True
        if thread is not None:
            thread.join(5)
            if thread.is_alive():
                server.force_exit = True
                thread.join(2)
        self._cleanup()

    def _cleanup(self) -> None:
        self._server = None
        self._thread = None
        if self._tls_files is not None:
            self._tls_files.cleanup()
            self._tls_files = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- current loop ------------------------------------------------------------------------

    async def __aenter__(self) -> SimServer:
        if self._server is not None:
            raise RuntimeError("SimServer already started")
        sock = self._bind()
        server = self._server = self._make_server()
        self._task = asyncio.get_running_loop().create_task(
            self._serve(server, sock), name="ucwa-sim"
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if self._task.done() or time.monotonic() > deadline:
                error = None if not self._task.done() else self._task.exception()
                self._cleanup()
                raise RuntimeError(f"simulator did not start: {error!r}")
            await asyncio.sleep(0.005)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self.sim.close()
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 2)
        except Exception:  # an error in serve() must not escape shutdown
            log.debug("simulator task ended with an error", exc_info=True)
        self._task = None
        self._cleanup()


def _not_a_simulated_reset(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], SimulatedReset))
