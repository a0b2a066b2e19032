"""The single-instance channel on Windows: a Qt named pipe that only this user can open."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)


def send_line(name: str, line: bytes, ack: bytes, timeout_ms: int) -> bool | None:
    """Send ``line`` to the pipe ``name``: None if nobody took it, else whether ``ack`` came back.

    Blocking, but only for a local pipe and before this process has an event loop.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return None
    try:
        socket.write(line)
        if not socket.waitForBytesWritten(timeout_ms):
            return None
        reply = b""
        while ack not in reply and socket.waitForReadyRead(timeout_ms):
            reply += bytes(socket.readAll().data())
        return ack in reply
    finally:
        socket.abort()


class PipeServer(QObject):
    """Listens on the pipe; each client's line (at most ``max_line`` bytes) gets ``ack``, then
    goes to ``on_line``. Qt creates the pipe with per-user access (``UserAccessOption``)."""

    def __init__(
        self,
        name: str,
        on_line: Callable[[str], None],
        *,
        ack: bytes,
        max_line: int,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._name = name
        self._on_line = on_line
        self._ack = ack
        self._max_line = max_line
        self._server: QLocalServer | None = None

    def listen(self) -> bool:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self._name):
            # Left by a copy that crashed: nobody answered on it (the later launch's check said so).
            log.warning("taking over the stale single-instance socket at %s", self._name)
            QLocalServer.removeServer(self._name)
            if not server.listen(self._name):
                log.warning("single-instance socket unavailable: %s", server.errorString())
                server.deleteLater()
                return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            server.deleteLater()

    @Slot()
    def _on_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            socket.setParent(self)
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            if socket.bytesAvailable() > self._max_line:
                socket.abort()
            return
        line = bytes(socket.readLine(self._max_line).data()).decode("utf-8", "replace").strip()
        socket.write(self._ack)
        socket.flush()
        socket.disconnectFromServer()
        self._on_line(line)
