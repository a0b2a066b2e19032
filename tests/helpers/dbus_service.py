"""FakeBusService: owns names on a D-Bus and answers method calls from a thread (test stand-ins)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from jeepney import Message, MessageType
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

_NAME_TAKEN_NOW = 1  # RequestName's "primary owner" answer
_REPLACE_NONE = 4  # RequestName's DBUS_NAME_FLAG_DO_NOT_QUEUE


class FakeBusService(ABC):
    """``with Subclass(...) as fake:`` owns ``names`` on ``bus`` ("SESSION" or an address) and
    sends, for each method call, the messages ``_respond`` returns (a reply, then any signals).
    """

    def __init__(self, bus: str, names: tuple[str, ...], thread_name: str) -> None:
        self._bus = bus
        self._names = names
        self._thread_name = thread_name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conn: DBusConnection | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        conn = open_dbus_connection(bus=self._bus)
        for name in self._names:
            reply = conn.send_and_get_reply(message_bus.RequestName(name, _REPLACE_NONE), timeout=5)
            if reply.body[0] != _NAME_TAKEN_NOW:
                conn.close()
                raise RuntimeError(f"{name} is already owned on this bus")
        self._conn = conn
        self._thread = threading.Thread(target=self._serve, name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._conn is not None:
            self._conn.close()

    @abstractmethod
    def _respond(self, msg: Message) -> Iterable[Message]:
        """What to send for the method call ``msg``: its reply first, then any signals."""

    def _serve(self) -> None:
        assert self._conn is not None
        while not self._stop.is_set():
            try:
                msg = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return  # the bus went away (the test session ended)
            if msg.header.message_type == MessageType.method_call:
                for answer in self._respond(msg):
                    self._conn.send(answer)
