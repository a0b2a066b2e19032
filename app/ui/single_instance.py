"""One window per user: a later launch hands its tel: link to the running one and exits.

A second copy would sign in with the same endpoint and take the session over (the first then
shows "Signed in somewhere else"), so the first copy listens on a local socket and a later launch
sends it one line: the link it was given, or an empty line ("just show yourself"); the copy
answers ``ok`` and closes. macOS hands links to the running app as a QFileOpenEvent instead;
those arrive through the same ``linkReceived``.

Another local user must neither receive our links nor send us theirs. On Unix the socket is a
plain AF_UNIX socket (Python's own, watched with QSocketNotifier: Qt's network module would cost
~3 MB of memory for it) in the user's private 0700 runtime directory (the caller passes its full
path), itself mode 0600, and both ends check the peer's user id (SO_PEERCRED on Linux; where the
system does not tell, the directory's permissions are the guard). A connection gets a few seconds
to send its line of at most 4096 bytes, and at most 8 wait at once (the oldest goes first), so a
stuck or hostile client cannot keep a later launch out. On Windows the channel is Qt's named pipe,
created with per-user access (``UserAccessOption``), which the OS enforces
(``single_instance_pipe``).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import logging
import os
import socket as pysocket
import struct
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSocketNotifier, QTimer, Signal
from PySide6.QtGui import QFileOpenEvent

if TYPE_CHECKING:
    from app.ui.single_instance_pipe import PipeServer

log = logging.getLogger(__name__)

_ACK = b"ok\n"
_MAX_LINE = 4096  # bytes, without the newline; a longer line drops the connection
_MAX_WAITING = 8  # connections that have not sent their line yet
_SEND_WITHIN_MS = 3000  # what a connection gets to send its line
_BACKLOG = 32  # connections the system queues until the copy accepts them (it does at once)

PeerUid = Callable[[pysocket.socket], "int | None"]


def peer_uid(sock: pysocket.socket) -> int | None:
    """The user id of the process at the other end (Linux: SO_PEERCRED); None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        creds = sock.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _foreign(sock: pysocket.socket, peer: PeerUid) -> int | None:
    """The peer's uid when it is another user's (unknown counts as ours: see the module doc)."""
    uid = peer(sock)
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

    Blocking (each step waits at most ``timeout_ms``), but only for a local socket and before
    this process has an event loop. ``peer`` checks Unix sockets only (see the module doc).
    """
    line = (link or "").replace("\n", " ").encode("utf-8") + b"\n"
    if sys.platform == "win32":
        from app.ui.single_instance_pipe import send_line

        return _outcome(send_line(name, line, _ACK, timeout_ms))
    with pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_ms / 1000)
        if not _connect(sock, name, timeout_ms):
            return HandOver.NOBODY
        if (uid := _foreign(sock, peer)) is not None:
            log.warning("single-instance socket %s belongs to user %d; not using it", name, uid)
            return HandOver.FOREIGN
        reply = b""
        with contextlib.suppress(OSError):  # dropped, or silent past the timeout: no "ok" then
            sock.sendall(line)
            while _ACK not in reply and (chunk := sock.recv(64)):
                reply += chunk
        return _outcome(_ACK in reply)


def _connect(sock: pysocket.socket, name: str, timeout_ms: int) -> bool:
    """Whether a copy listens on ``name``; a full queue (a busy copy) is tried again till the time
    is up, so that a busy copy is not taken for a crashed one."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            sock.connect(name)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        except OSError:  # no such socket, or nobody listening on it
            return False


def _outcome(answered: bool | None) -> HandOver:
    """None: nobody took the line; else whether the running copy said it has it."""
    if answered is None:
        return HandOver.NOBODY
    if not answered:
        log.warning("the running UCWA Phone did not answer; starting another one")
        return HandOver.NOBODY
    return HandOver.DELIVERED


class _Waiting(QObject):
    """One accepted connection until its line is in, it gives up, or its time is up.

    Signals:
        lineReceived(str): the line came (and got its ``ok``).
        finished(_Waiting): the connection is closed; forget it.
    """

    lineReceived = Signal(str)
    finished = Signal(object)

    # Slots are bound methods, never lambdas: a lambda would keep the owner alive from inside
    # Qt, and deleting this object could then delete the owner (its parent) midway.
    def __init__(self, sock: pysocket.socket, within_ms: int, parent: QObject) -> None:
        super().__init__(parent)
        sock.setblocking(False)
        self._sock = sock
        self._data = b""
        self._notifier = QSocketNotifier(sock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self.read)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.close)
        self._timer.start(within_ms)

    def read(self, *_: object) -> None:
        if not self._notifier.isEnabled():
            return
        try:
            chunk = self._sock.recv(_MAX_LINE + 1 - len(self._data))
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        self._data += chunk
        end = self._data.find(b"\n")
        if end < 0:
            if not chunk or len(self._data) > _MAX_LINE:  # it left without a line, or too long
                self.close()
            return
        with contextlib.suppress(OSError):  # it left already: the line still counts
            self._sock.send(_ACK)
        self.close()
        self.lineReceived.emit(self._data[:end].decode("utf-8", "replace").strip())

    def close(self) -> None:
        if not self._notifier.isEnabled():
            return
        self._timer.stop()
        self._notifier.setEnabled(False)  # before its descriptor closes
        self._sock.close()
        self.finished.emit(self)


class SingleInstance(QObject):
    """The listening side; also catches macOS's QFileOpenEvent when installed on the application.

    Links that arrive before ``set_handler`` are kept and delivered to the handler then.

    Signals:
        linkReceived(str): a later launch (or macOS) asked to show the window, with its link or "".
    """

    linkReceived = Signal(str)

    def __init__(
        self,
        name: str,
        parent: QObject | None = None,
        *,
        peer: PeerUid = peer_uid,
        send_within_ms: int = _SEND_WITHIN_MS,
    ) -> None:
        super().__init__(parent)
        self._name = name
        self._peer = peer
        self._send_within_ms = send_within_ms
        # A sentence for the window when the socket could not be used safely (set by the owner).
        self.problem: str | None = None
        self._pending: list[str] = []
        self._handler: Callable[[str], None] | None = None
        self._pipe: PipeServer | None = None  # Windows: the named pipe's server
        self._server: pysocket.socket | None = None
        self._accepting: QSocketNotifier | None = None
        self._inode: tuple[int, int] | None = None  # our socket file's (device, inode)
        self._waiting: list[_Waiting] = []  # oldest first

    def listen(self) -> bool:
        """Start listening; False if that failed (the app then runs without, as before)."""
        if sys.platform == "win32":
            from app.ui.single_instance_pipe import PipeServer

            pipe = PipeServer(self._name, self.deliver, ack=_ACK, max_line=_MAX_LINE, parent=self)
            if not pipe.listen():
                pipe.deleteLater()
                return False
            self._pipe = pipe
            return True
        server = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
        try:
            self._bind(server)
            os.chmod(self._name, 0o600)  # before listen(): nobody can connect yet
            server.listen(_BACKLOG)
        except OSError as e:
            log.warning("single-instance socket unavailable: %s", e)
            server.close()
            return False
        server.setblocking(False)
        status = os.stat(self._name)
        self._inode = (status.st_dev, status.st_ino)
        self._server = server
        self._accepting = QSocketNotifier(server.fileno(), QSocketNotifier.Type.Read, self)
        self._accepting.activated.connect(self._accept)
        return True

    def _bind(self, server: pysocket.socket) -> None:
        try:
            server.bind(self._name)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            # A socket file left by a copy that crashed: nobody answered on it (hand_over said so).
            log.warning("taking over the stale single-instance socket at %s", self._name)
            os.unlink(self._name)
            server.bind(self._name)

    def close(self) -> None:
        """Stop listening (shutdown has begun: a new launch may start its own copy)."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.close()
            pipe.deleteLater()
        for waiting in list(self._waiting):
            waiting.close()
        notifier, self._accepting = self._accepting, None
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # The file, unless a later copy has put its own there since (or it is gone already).
        with contextlib.suppress(OSError):
            status = os.stat(self._name)
            if (status.st_dev, status.st_ino) == self._inode:
                os.unlink(self._name)

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

    def _accept(self, *_: object) -> None:
        while (server := self._server) is not None:
            try:
                sock, _address = server.accept()
            except OSError:  # none left (BlockingIOError), or one gave up while queued
                return
            if (uid := _foreign(sock, self._peer)) is not None:
                log.warning("refused a link from user %d on the single-instance socket", uid)
                sock.close()
                continue
            if len(self._waiting) >= _MAX_WAITING:
                self._waiting[0].close()  # the oldest: a later launch is more likely the newest
            waiting = _Waiting(sock, self._send_within_ms, self)
            waiting.lineReceived.connect(self.deliver)
            waiting.finished.connect(self._forget)
            self._waiting.append(waiting)
            waiting.read()  # the line is often there already

    def _forget(self, waiting: _Waiting) -> None:
        if waiting in self._waiting:
            self._waiting.remove(waiting)
            waiting.deleteLater()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            self.deliver(url.toString() if url.isValid() and url.scheme() else event.file())
            return True
        return super().eventFilter(obj, event)
