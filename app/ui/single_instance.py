"""One window per user: a later launch hands its tel: link to the running one and exits.

A second copy would sign in with the same endpoint and take the session over (the first then
shows "Signed in somewhere else"), so the first copy listens on a local socket (a Unix socket or a
Windows named pipe, reachable by this user only) and a later launch sends it one line: the link
it was given, or an empty line ("just show yourself"). macOS hands links to the running app as a
QFileOpenEvent instead; those arrive through the same ``linkReceived``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_ACK = b"ok\n"
_MAX_LINE = 4096


def hand_over(name: str, link: str | None, timeout_ms: int = 2000) -> bool:
    """Send ``link`` to the copy listening on ``name``; True once it has confirmed it.

    Blocking, but only for a local socket and before this process has an event loop.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    try:
        socket.write((link or "").replace("\n", " ").encode("utf-8") + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        reply = b""
        while _ACK not in reply and socket.waitForReadyRead(timeout_ms):
            reply += bytes(socket.readAll().data())
        if _ACK not in reply:
            log.warning("the running UCWA Phone did not answer; starting another one")
            return False
        return True
    finally:
        socket.abort()


class SingleInstance(QObject):
    """The listening side; also catches macOS's QFileOpenEvent when installed on the application.

    Links that arrive before ``set_handler`` are kept and delivered to the handler then.

    Signals:
        linkReceived(str): a later launch (or macOS) asked to show the window, with its link or "".
    """

    linkReceived = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._server: QLocalServer | None = None
        self._pending: list[str] = []
        self._handler: Callable[[str], None] | None = None

    def listen(self) -> bool:
        """Start listening; False if that failed (the app then runs without, as before)."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self._name):
            # A socket file left by a copy that crashed: nobody answered on it (hand_over said so).
            QLocalServer.removeServer(self._name)
            if not server.listen(self._name):
                log.warning("single-instance socket unavailable: %s", server.errorString())
                server.deleteLater()
                return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def close(self) -> None:
        """Stop listening (shutdown has begun: a new launch may start its own copy)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            server.deleteLater()

    def set_handler(self, handler: Callable[[str], None]) -> None:
        self._handler = handler
        pending, self._pending = self._pending, []
        for link in pending:
            handler(link)

    def deliver(self, link: str) -> None:
        self.linkReceived.emit(link)
        if self._handler is None:
            self._pending.append(link)
        else:
            self._handler(link)

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
            if socket.bytesAvailable() > _MAX_LINE:
                socket.abort()
            return
        line = bytes(socket.readLine(_MAX_LINE).data()).decode("utf-8", "replace").strip()
        socket.write(_ACK)
        socket.flush()
        socket.disconnectFromServer()
        self.deliver(line)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            self.deliver(url.toString() if url.isValid() and url.scheme() else event.file())
            return True
        return super().eventFilter(obj, event)
