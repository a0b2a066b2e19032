"""One window per user: a later launch hands its tel: link to the running one and exits.

A second copy would sign in with the same endpoint and take the session over (the first then
shows "Signed in somewhere else"), so the first copy listens on a local socket (a Unix socket or a
Windows named pipe, reachable by this user only) and a later launch sends it one line: the link
it was given, or an empty line ("just show yourself"). macOS hands links to the running app as a
QFileOpenEvent instead; those arrive through the same ``linkReceived``.

Another local user must neither receive our links nor send us theirs. On Unix the socket sits in
the user's private runtime directory (the caller passes its full path), and both ends check the
peer's user id (SO_PEERCRED on Linux); on Windows Qt's named pipe is created with per-user access
(``UserAccessOption``), which the OS enforces.
"""

from __future__ import annotations

import enum
import logging
import os
import socket as pysocket
import struct
import sys
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_ACK = b"ok\n"
_MAX_LINE = 4096

PeerUid = Callable[[QLocalSocket], "int | None"]


def peer_uid(socket: QLocalSocket) -> int | None:
    """The user id of the process at the other end (Linux: SO_PEERCRED); None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    fd = int(socket.socketDescriptor())
    if fd < 0:
        return None
    sock = pysocket.socket(fileno=fd)
    try:
        creds = sock.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    finally:
        sock.detach()  # the descriptor belongs to Qt: never close it here
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _foreign(socket: QLocalSocket, peer: PeerUid) -> int | None:
    """The peer's uid when it is another user's (unknown counts as ours: see the module doc)."""
    uid = peer(socket)
    return uid if uid is not None and uid != os.getuid() else None


def foreign_socket_message(name: str) -> str:
    return f"Another user's UCWA Phone socket is in the way at {name}; not using it."


class HandOver(enum.Enum):
    """What became of a later launch's attempt to reach the running copy."""

    DELIVERED = "delivered"  # the running copy has the link: this launch is done
    NOBODY = "nobody"  # no copy answered (none, or a stale socket): start this one
    FOREIGN = "foreign"  # another user's process holds the socket: never talk to it


def hand_over(
    name: str, link: str | None, timeout_ms: int = 2000, *, peer: PeerUid = peer_uid
) -> HandOver:
    """Send ``link`` to the copy listening on ``name``, once the peer proved to be this user.

    Blocking, but only for a local socket and before this process has an event loop.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return HandOver.NOBODY
    try:
        if (uid := _foreign(socket, peer)) is not None:
            log.warning("single-instance socket %s belongs to user %d; not using it", name, uid)
            return HandOver.FOREIGN
        socket.write((link or "").replace("\n", " ").encode("utf-8") + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return HandOver.NOBODY
        reply = b""
        while _ACK not in reply and socket.waitForReadyRead(timeout_ms):
            reply += bytes(socket.readAll().data())
        if _ACK not in reply:
            log.warning("the running UCWA Phone did not answer; starting another one")
            return HandOver.NOBODY
        return HandOver.DELIVERED
    finally:
        socket.abort()


class SingleInstance(QObject):
    """The listening side; also catches macOS's QFileOpenEvent when installed on the application.

    Links that arrive before ``set_handler`` are kept and delivered to the handler then.

    Signals:
        linkReceived(str): a later launch (or macOS) asked to show the window, with its link or "".
    """

    linkReceived = Signal(str)

    def __init__(
        self, name: str, parent: QObject | None = None, *, peer: PeerUid = peer_uid
    ) -> None:
        super().__init__(parent)
        self._name = name
        self._peer = peer
        # A sentence for the window when the socket could not be used safely (set by the owner).
        self.problem: str | None = None
        self._server: QLocalServer | None = None
        self._pending: list[str] = []
        self._handler: Callable[[str], None] | None = None

    def listen(self) -> bool:
        """Start listening; False if that failed (the app then runs without, as before)."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self._name):
            # A socket file left by a copy that crashed: nobody answered on it (hand_over said so).
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
            if (uid := _foreign(socket, self._peer)) is not None:
                log.warning("refused a link from user %d on the single-instance socket", uid)
                socket.abort()
                socket.deleteLater()
                continue
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
