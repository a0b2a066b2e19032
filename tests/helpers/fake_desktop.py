"""A stand-in desktop on the session D-Bus: a StatusNotifier tray host and a notification server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    Properties,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import open_dbus_connection

from tests.helpers.dbus_service import FakeBusService

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
_PROPS = "org.freedesktop.DBus.Properties"


@dataclass(frozen=True)
class Notification:
    """One Notify call as the desktop received it."""

    app_name: str
    summary: str
    body: str


@dataclass(frozen=True)
class Item:
    """A tray icon that registered with the watcher: its bus name and object path."""

    service: str
    path: str


class FakeDesktop(FakeBusService):
    """Owns the tray watcher and notification names on the session bus and records what apps do.

    A thread answers the calls the freedesktop StatusNotifierItem and Desktop Notifications
    specifications define (as much as Qt's D-Bus tray uses); ``items`` and ``notifications``
    hold what arrived. ``with FakeDesktop(): ...`` starts and stops it.
    """

    def __init__(self) -> None:
        super().__init__("SESSION", (WATCHER, NOTIFICATIONS), "fake-desktop")
        self.items: list[Item] = []
        self.notifications: list[Notification] = []
        self._next_id = 0

    def snapshot(self) -> tuple[list[Item], list[Notification]]:
        with self._lock:
            return list(self.items), list(self.notifications)

    # -- the serving thread ---------------------------------------------------------------------
    def _respond(self, msg: Message) -> list[Message]:
        return [self._answer(msg)]

    def _answer(self, msg: Message) -> Message:
        fields = msg.header.fields
        path = fields.get(HeaderFields.path)
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        sender = fields.get(HeaderFields.sender, "")
        if path == WATCHER_PATH and interface == WATCHER:
            if member == "RegisterStatusNotifierItem":
                service = msg.body[0]
                # An item passes its bus name or just its object path (then the sender is the name).
                item = (
                    Item(sender, service)
                    if service.startswith("/")
                    else Item(service, "/StatusNotifierItem")
                )
                with self._lock:
                    self.items.append(item)
                self._conn_send_signal("StatusNotifierItemRegistered", f"{item.service}{item.path}")
                return new_method_return(msg)
            if member == "RegisterStatusNotifierHost":
                return new_method_return(msg)
        if path == WATCHER_PATH and interface == _PROPS:
            props = self._watcher_props()
            if member == "Get" and msg.body[1] in props:
                return new_method_return(msg, "v", (props[msg.body[1]],))
            if member == "GetAll":
                return new_method_return(msg, "a{sv}", (props,))
        if path == NOTIFICATIONS_PATH and interface == NOTIFICATIONS:
            if member == "Notify":
                app_name, _replaces, _icon, summary, body = msg.body[:5]
                with self._lock:
                    self.notifications.append(Notification(app_name, summary, body))
                    self._next_id += 1
                    return new_method_return(msg, "u", (self._next_id,))
            if member == "GetCapabilities":
                return new_method_return(msg, "as", (["body", "icon-static"],))
            if member == "GetServerInformation":
                return new_method_return(msg, "ssss", ("fake-desktop", "tests", "0", "1.2"))
            if member == "CloseNotification":
                return new_method_return(msg)
        return new_error(
            msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{interface}.{member}",)
        )

    def _watcher_props(self) -> dict[str, tuple[str, Any]]:
        with self._lock:
            names = [f"{i.service}{i.path}" for i in self.items]
        return {
            "RegisteredStatusNotifierItems": ("as", names),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }

    def _conn_send_signal(self, name: str, item: str) -> None:
        assert self._conn is not None
        emitter = DBusAddress(WATCHER_PATH, interface=WATCHER)
        self._conn.send(new_signal(emitter, name, "s", (item,)))


def item_properties(item: Item) -> dict[str, Any]:
    """The tray icon's StatusNotifierItem properties (Title, ToolTip, Status, ...), over D-Bus."""
    with open_dbus_connection(bus="SESSION") as conn:
        address = DBusAddress(item.path, bus_name=item.service, interface=ITEM_INTERFACE)
        reply = conn.send_and_get_reply(Properties(address).get_all(), timeout=5)
    if reply.header.message_type == MessageType.error:
        raise RuntimeError(f"the tray item did not answer: {reply.body}")
    return {key: value for key, (_sig, value) in reply.body[0].items()}
