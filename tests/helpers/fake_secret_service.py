"""A stand-in Secret Service on a throw-away D-Bus: a locked collection and a scriptable prompt."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import open_dbus_connection

from tests.helpers.dbus_service import FakeBusService

BUS_NAME = "org.freedesktop.secrets"
SECRET = "org.freedesktop.Secret."
SERVICE_PATH = "/org/freedesktop/secrets"
COLLECTION = "/org/freedesktop/secrets/collection/login"
CREATED_COLLECTION = "/org/freedesktop/secrets/collection/default"
DEFAULT_ALIAS = "/org/freedesktop/secrets/aliases/default"
PROMPT_PATH = "/org/freedesktop/secrets/prompt/"
_PROPS = "org.freedesktop.DBus.Properties"

# How the prompt behaves once shown: "complete" unlocks (or creates), "dismiss" is the person
# pressing Cancel, "never" is a prompt nobody answers, "spoofed" is another process sending the
# Completed signal in the service's place (the service itself never answers).
PromptMode = Literal["complete", "dismiss", "never", "spoofed"]

# A session bus of its own: the test bus of tests/run.sh already has gnome-keyring owning the
# Secret Service's name. No service directories, so nothing is started on demand.
_BUS_CONFIG = """<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@contextlib.contextmanager
def private_bus() -> Iterator[str]:
    """A dbus-daemon of its own for the duration; yields its address."""
    directory = Path(tempfile.mkdtemp(prefix="fake-ss-"))  # short: socket paths are limited
    config = directory / "bus.conf"
    config.write_text(_BUS_CONFIG.format(directory=directory), encoding="utf-8")
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        yield address
    finally:
        daemon.terminate()
        daemon.wait(10)
        if daemon.stdout is not None:
            daemon.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class _Item:
    attributes: dict[str, str]
    secret: bytes
    label: str


@dataclass
class Seen:
    """What clients asked the fake service for."""

    algorithms: list[str] = field(default_factory=list)
    prompts_shown: int = 0
    prompts_dismissed_by_client: int = 0


class FakeSecretService(FakeBusService):
    """Owns org.freedesktop.secrets on ``address`` and answers as much of the Secret Service API
    as a keyring client uses: one collection (locked or not), items, plain sessions, prompts.

    ``with FakeSecretService(address, locked=True, prompt="complete") as fake: ...``
    """

    def __init__(
        self,
        address: str,
        *,
        locked: bool = False,
        prompt: PromptMode = "complete",
        default_alias: bool = True,
        refuse: str | None = None,
    ) -> None:
        super().__init__(address, (BUS_NAME,), "fake-secrets")
        self.address = address
        self.locked = locked
        self.prompt_mode: PromptMode = prompt
        self.seen = Seen()
        self.refuse = refuse  # a method name answered with AccessDenied
        self._collection: str | None = COLLECTION if default_alias else None
        self._items: dict[str, _Item] = {}
        self._prompts: dict[str, tuple[str, list[str]]] = {}  # path -> (what, objects)
        self._serial = 0

    def add_item(self, attributes: dict[str, str], secret: str) -> None:
        with self._lock:
            self._serial += 1
            self._items[f"{COLLECTION}/{self._serial}"] = _Item(
                dict(attributes), secret.encode("utf-8"), "seeded"
            )

    def items(self) -> list[tuple[str, dict[str, str], bytes]]:
        """(collection, attributes, secret) of every item held."""
        with self._lock:
            return [
                (path.rsplit("/", 1)[0], dict(i.attributes), i.secret)
                for path, i in self._items.items()
            ]

    # -- the serving thread ---------------------------------------------------------------------
    def _respond(self, msg: Message) -> list[Message]:
        with self._lock:
            reply, after = self._answer(msg)
        return [reply, *after]

    def _answer(self, msg: Message) -> tuple[Message, list[Message]]:
        fields = msg.header.fields
        path = str(fields.get(HeaderFields.path))
        if path == DEFAULT_ALIAS and self._collection is not None:
            path = self._collection  # the alias names the default collection, when there is one
        interface = fields.get(HeaderFields.interface)
        member = str(fields.get(HeaderFields.member))
        if member == self.refuse:
            return new_error(msg, "org.freedesktop.DBus.Error.AccessDenied", "s", ("no",)), []
        if interface == _PROPS and member == "Get":
            return self._property(msg, path, msg.body[1]), []
        if path == SERVICE_PATH and interface == SECRET + "Service":
            return self._service(msg, member)
        if path == self._collection and interface == SECRET + "Collection":
            return self._in_collection(msg, member), []
        if path in self._items and interface == SECRET + "Item":
            return self._item(msg, path, member), []
        if path in self._prompts and interface == SECRET + "Prompt":
            return new_method_return(msg), self._prompt(path, member)
        return self._unknown(msg), []

    def _service(self, msg: Message, member: str) -> tuple[Message, list[Message]]:
        if member == "OpenSession":
            algorithm = msg.body[0]
            self.seen.algorithms.append(algorithm)
            if algorithm != "plain":
                name = "org.freedesktop.DBus.Error.NotSupported"
                return new_error(msg, name, "s", ("only plain here",)), []
            return new_method_return(msg, "vo", (("s", ""), f"{SERVICE_PATH}/session/1")), []
        if member == "ReadAlias":
            found = self._collection if msg.body[0] == "default" else None
            return new_method_return(msg, "o", (found or "/",)), []
        if member == "CreateCollection":
            prompt = self._new_prompt("create", [])
            return new_method_return(msg, "oo", ("/", prompt)), []
        if member == "Unlock":
            paths = list(msg.body[0])
            if not self.locked:
                return new_method_return(msg, "aoo", (paths, "/")), []
            return new_method_return(msg, "aoo", ([], self._new_prompt("unlock", paths))), []
        return self._unknown(msg), []

    def _in_collection(self, msg: Message, member: str) -> Message:
        if member == "SearchItems":
            wanted = msg.body[0]
            found = [
                path
                for path, item in self._items.items()
                if all(item.attributes.get(k) == v for k, v in wanted.items())
            ]
            return new_method_return(msg, "ao", (found,))
        if member == "CreateItem":
            if self.locked:
                return self._is_locked(msg)
            properties, secret, replace = msg.body
            attributes = dict(properties[SECRET + "Item.Attributes"][1])
            label = properties[SECRET + "Item.Label"][1]
            existing = [p for p, i in self._items.items() if i.attributes == attributes]
            if replace and existing:
                path = existing[0]
            else:
                self._serial += 1
                path = f"{self._collection}/{self._serial}"
            self._items[path] = _Item(attributes, bytes(secret[2]), label)
            return new_method_return(msg, "oo", (path, "/"))
        return self._unknown(msg)

    def _item(self, msg: Message, path: str, member: str) -> Message:
        if self.locked:
            return self._is_locked(msg)
        if member == "GetSecret":
            secret = (msg.body[0], b"", self._items[path].secret, "text/plain")
            return new_method_return(msg, "(oayays)", (secret,))
        if member == "Delete":
            del self._items[path]
            return new_method_return(msg, "o", ("/",))
        return self._unknown(msg)

    def _property(self, msg: Message, path: str, name: str) -> Message:
        if name == "Label" and path == self._collection:
            return new_method_return(msg, "v", (("s", "Login"),))
        if name == "Locked" and (path == self._collection or path in self._items):
            return new_method_return(msg, "v", (("b", self.locked),))
        return self._unknown(msg)

    def _new_prompt(self, what: str, objects: list[str]) -> str:
        self._serial += 1
        path = f"{PROMPT_PATH}p{self._serial}"
        self._prompts[path] = (what, objects)
        return path

    def _prompt(self, path: str, member: str) -> list[Message]:
        what, objects = self._prompts[path]
        if member == "Dismiss":
            self.seen.prompts_dismissed_by_client += 1
            return [_completed(path, True, ("ao", []))]
        self.seen.prompts_shown += 1
        if self.prompt_mode == "dismiss":
            return [_completed(path, True, ("ao", []))]
        if self.prompt_mode == "spoofed":
            self._spoof(path, objects)
            return []
        if self.prompt_mode == "never":
            return []
        if what == "create":
            self._collection = CREATED_COLLECTION
            return [_completed(path, False, ("o", CREATED_COLLECTION))]
        self.locked = False
        return [_completed(path, False, ("ao", objects))]

    def _spoof(self, path: str, objects: list[str]) -> None:
        with open_dbus_connection(bus=self.address) as other:
            other.send(_completed(path, False, ("ao", objects)))

    @staticmethod
    def _is_locked(msg: Message) -> Message:
        return new_error(msg, SECRET + "Error.IsLocked", "s", ("locked",))

    @staticmethod
    def _unknown(msg: Message) -> Message:
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", ("unknown",))


def _completed(prompt: str, dismissed: bool, result: tuple[str, Any]) -> Message:
    # Broadcast, as the specification's reference service does; gnome-keyring addresses it.
    return new_signal(
        DBusAddress(prompt, interface=SECRET + "Prompt"),
        "Completed",
        "bv",
        (
            dismissed,
            result,
        ),
    )
