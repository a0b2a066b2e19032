"""SecretServiceKeyring: keyring's Secret Service items over jeepney, without cryptography."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar

import keyring.backend
import keyring.errors
from jeepney import (
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    Properties,
    new_method_call,
)
from jeepney.bus import find_session_bus
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from app.auth.deadlines import KEYRING_DEADLINE_S

__all__ = [
    "APPLICATION",
    "BUS_NAME",
    "PROMPT_TIMEOUT_S",
    "SecretServiceKeyring",
    "available",
    "session_bus_configured",
]

_T = TypeVar("_T")

log = logging.getLogger(__name__)

BUS_NAME: Final = "org.freedesktop.secrets"
_SECRET = "org.freedesktop.Secret."
_SERVICE = DBusAddress("/org/freedesktop/secrets", BUS_NAME, _SECRET + "Service")
_NONE = "/"  # the Secret Service's "no object" / "no prompt needed"
_IS_LOCKED = _SECRET + "Error.IsLocked"
# The default collection under its alias: the service resolves it on every call. keyring's
# backend (secretstorage) addresses it so; gnome-keyring may answer ReadAlias("default") with "/"
# while this path still leads to its login keyring.
_DEFAULT_ALIAS = "/org/freedesktop/secrets/aliases/default"
# Errors that mean "no such object" (as secretstorage reads them).
_NOT_FOUND = frozenset(
    {
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
        _SECRET + "Error.NoSuchObject",
    }
)
# keyring.backends.SecretService.Keyring.appid: the same attributes make the same items, so an
# entry written by either backend is found, replaced and deleted by the other.
APPLICATION: Final = "Python keyring library"
# How long a person may take at an unlock prompt. The store gives up on the call much sooner
# (KEYRING_DEADLINE_S); this only makes sure an abandoned call's thread and socket end, too.
PROMPT_TIMEOUT_S: Final = 120.0


class _NotFound(keyring.errors.KeyringError):
    """The Secret Service has no such object (collection, item or alias)."""


class _Locked(keyring.errors.KeyringLocked):
    """The Secret Service answered IsLocked: unlocking the object and retrying may help."""


def session_bus_configured() -> bool:
    """True when this session names a D-Bus session bus (DBUS_SESSION_BUS_ADDRESS) we can use."""
    try:
        find_session_bus()
    except (KeyError, ValueError, RuntimeError, StopIteration):
        return False
    return True


def available(timeout_s: float = KEYRING_DEADLINE_S) -> bool:
    """True when a Secret Service owns its name on the session bus, or the bus can start one.

    The same test keyring's own Secret Service backend makes, at the cost of one connection.
    """
    try:
        with open_dbus_connection(bus="SESSION", auth_timeout=timeout_s) as conn:
            asked = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=timeout_s)
            if unwrap_msg(asked)[0]:
                return True
            asked = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=timeout_s)
            return BUS_NAME in unwrap_msg(asked)[0]
    except (KeyError, ValueError, RuntimeError, OSError, DBusErrorResponse) as exc:
        # KeyError: no DBUS_SESSION_BUS_ADDRESS; OSError includes TimeoutError.
        log.debug("no Secret Service on the session bus (%s: %s)", type(exc).__name__, exc)
        return False


class SecretServiceKeyring(keyring.backend.SchemeSelectable, keyring.backend.KeyringBackend):
    """The freedesktop Secret Service (gnome-keyring, KeePassXC, ksecretd) spoken over jeepney.

    Items look exactly like those of ``keyring.backends.SecretService.Keyring`` (same attributes,
    label and collection), but the session uses the "plain" algorithm, so neither secretstorage
    nor cryptography is imported. Blocking: every call opens its own D-Bus connection.
    """

    appid = APPLICATION
    # Below fail.Keyring (0) and not positive: keyring's own auto-selection never picks this
    # class over its own Secret Service backend, nor chains both; app.auth.store chooses it, and
    # PYTHON_KEYRING_BACKEND may still name it.
    priority = -0.5

    def __init__(
        self,
        *,
        call_timeout_s: float = KEYRING_DEADLINE_S,
        prompt_timeout_s: float = PROMPT_TIMEOUT_S,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self._call_timeout = call_timeout_s
        self._prompt_timeout = prompt_timeout_s

    def get_password(self, service: str, username: str) -> str | None:
        with _Client(self._call_timeout, self._prompt_timeout) as client:
            collection = client.collection(self._preferred_collection())
            for item in client.search(collection, self._query(service, username)):
                return client.secret(item).decode("utf-8")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        attributes = self._query(service, username, application=self.appid)
        label = f"Password for '{username}' on '{service}'"
        with _Client(self._call_timeout, self._prompt_timeout) as client:
            collection = client.collection(self._preferred_collection())
            client.create_item(collection, label, attributes, password.encode("utf-8"))

    def delete_password(self, service: str, username: str) -> None:
        with _Client(self._call_timeout, self._prompt_timeout) as client:
            collection = client.collection(self._preferred_collection())
            for item in client.search(collection, self._query(service, username)):
                client.delete(item)  # only the first, as keyring's backend does
                return
        raise keyring.errors.PasswordDeleteError("no such entry in the Secret Service")

    def _preferred_collection(self) -> str | None:
        # keyring's backend honours this property (KEYRING_PROPERTY_PREFERRED_COLLECTION) too.
        path = getattr(self, "preferred_collection", None)
        return str(path) if path else None


class _Client:
    """One D-Bus connection and one plain session, for one backend call.

    A connection per call, closed afterwards: jeepney's blocking connection is not thread-safe,
    and the store runs every call in a fresh thread that it may abandon at its deadline; an
    abandoned call then still owns its socket and can never interleave with a later call. The
    extra cost is one connect and Hello (about a millisecond on a local bus).
    """

    def __init__(self, call_timeout_s: float, prompt_timeout_s: float) -> None:
        self._call_timeout = call_timeout_s
        self._prompt_timeout = prompt_timeout_s
        self._session: str | None = None
        self._owner: str | None = None  # the service's unique bus name, from its replies
        try:
            self._conn: DBusConnection = open_dbus_connection(
                bus="SESSION", auth_timeout=call_timeout_s
            )
        except (KeyError, ValueError, RuntimeError, OSError) as exc:
            raise keyring.errors.InitError(
                f"cannot connect to the D-Bus session bus ({type(exc).__name__}: {exc})"
            ) from exc

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Closing the connection also ends the session: the service ties it to our bus name.
        self._conn.close()

    # -- the Secret Service API, as keyring's backend uses it ----------------------------------

    def collection(self, preferred: str | None) -> str:
        """The collection to use, unlocked: ``preferred``, else the one aliased "default"."""
        path = preferred or self._default_collection()
        locked = self._property(path, _SECRET + "Collection", "Locked", "reading the collection")
        if locked:
            self._unlock(path, "the collection")
        return path

    def search(self, collection: str, attributes: dict[str, str]) -> list[str]:
        address = DBusAddress(collection, BUS_NAME, _SECRET + "Collection")
        (found,) = self._call(
            address, "SearchItems", "a{ss}", (attributes,), "searching for the entry"
        )
        return list(found)

    def secret(self, item: str) -> bytes:
        address = DBusAddress(item, BUS_NAME, _SECRET + "Item")

        def read() -> bytes:
            body = self._call(
                address, "GetSecret", "o", (self._plain_session(),), "reading the entry"
            )
            return bytes(body[0][2])  # (session, parameters, value, content type)

        return self._unlocking(item, read)

    def create_item(
        self, collection: str, label: str, attributes: dict[str, str], value: bytes
    ) -> None:
        properties = {
            _SECRET + "Item.Label": ("s", label),
            _SECRET + "Item.Attributes": ("a{ss}", attributes),
        }
        secret = (self._plain_session(), b"", value, "text/plain")
        address = DBusAddress(collection, BUS_NAME, _SECRET + "Collection")
        body = (properties, secret, True)  # True: replace the item with the same attributes
        item, prompt = self._call(
            address, "CreateItem", "a{sv}(oayays)b", body, "storing the entry"
        )
        if item == _NONE:
            self._prompt(prompt, "to store the entry")

    def delete(self, item: str) -> None:
        address = DBusAddress(item, BUS_NAME, _SECRET + "Item")
        (prompt,) = self._unlocking(
            item, lambda: self._call(address, "Delete", "", (), "deleting the entry")
        )
        if prompt != _NONE:
            self._prompt(prompt, "to delete the entry")

    # -- plumbing ------------------------------------------------------------------------------

    def _default_collection(self) -> str:
        try:
            collection = _SECRET + "Collection"
            self._property(_DEFAULT_ALIAS, collection, "Label", "finding the default collection")
            return _DEFAULT_ALIAS
        except _NotFound:
            log.info("the Secret Service has no default collection; asking it to create one")
        # As keyring's backend (secretstorage): create it, labelled "Default"; this may prompt.
        label = {_SECRET + "Collection.Label": ("s", "Default")}
        path, prompt = self._call(
            _SERVICE,
            "CreateCollection",
            "a{sv}s",
            (label, "default"),
            "creating the default collection",
        )
        if path == _NONE:
            _signature, path = self._prompt(prompt, "to create the default collection")
        return str(path)

    def _plain_session(self) -> str:
        # "plain": the secret crosses the per-user session bus as it is (see SECURITY.md); the
        # encrypted algorithm is what would need cryptography.
        if self._session is None:
            _output, path = self._call(
                _SERVICE, "OpenSession", "sv", ("plain", ("s", "")), "opening a session"
            )
            self._session = str(path)
        return self._session

    def _unlocking(self, path: str, call: Callable[[], _T]) -> _T:
        """``call()``; if the object is locked, unlock it (maybe prompting) and retry once."""
        try:
            return call()
        except _Locked:
            self._unlock(path, "the entry")
            return call()

    def _unlock(self, path: str, what: str) -> None:
        unlocked, prompt = self._call(_SERVICE, "Unlock", "ao", ([path],), f"unlocking {what}")
        if prompt != _NONE:
            _signature, unlocked = self._prompt(prompt, f"to unlock {what}")
        # One object was asked for; an alias may come back as the collection it names.
        if not unlocked:
            raise keyring.errors.KeyringLocked(f"The Secret Service did not unlock {what}.")

    def _prompt(self, prompt: str, purpose: str) -> tuple[str, Any]:
        """Show the service's prompt and wait, bounded, for its Completed signal; its result."""
        interface = _SECRET + "Prompt"
        # The bus routes a broadcast signal only to connections that asked for it; gnome-keyring
        # addresses Completed to the caller, other services broadcast it.
        wanted = MatchRule(
            type="signal", sender=BUS_NAME, interface=interface, member="Completed", path=prompt
        )
        self._send(message_bus.AddMatch(wanted), "asking for the prompt's answer")
        # Only the service itself may answer: a signal from another sender is ignored.
        ours = MatchRule(
            type="signal", sender=self._owner, interface=interface, member="Completed", path=prompt
        )
        address = DBusAddress(prompt, BUS_NAME, interface)
        with self._conn.filter(ours) as signals:
            self._call(address, "Prompt", "s", ("",), "showing its prompt")
            try:
                signal = self._conn.recv_until_filtered(signals, timeout=self._prompt_timeout)
            except TimeoutError:
                self._dismiss(address)
                raise keyring.errors.KeyringLocked(
                    f"Nobody answered the Secret Service's prompt {purpose} within "
                    f"{self._prompt_timeout:g} seconds."
                ) from None
        dismissed, result = signal.body
        if dismissed:
            raise keyring.errors.KeyringLocked(
                f"The Secret Service's prompt {purpose} was dismissed, so the keyring stays locked."
            )
        return (str(result[0]), result[1])

    def _dismiss(self, address: DBusAddress) -> None:
        try:  # best effort: take the unanswered prompt off the screen
            self._conn.send(new_method_call(address, "Dismiss"))
        except OSError as exc:
            log.debug("could not dismiss the Secret Service prompt (%s)", type(exc).__name__)

    def _property(self, path: str, interface: str, name: str, doing: str) -> Any:
        message = Properties(DBusAddress(path, BUS_NAME, interface)).get(name)
        ((_signature, value),) = self._send(message, doing)
        return value

    def _call(
        self, address: DBusAddress, method: str, signature: str, body: tuple[Any, ...], doing: str
    ) -> tuple[Any, ...]:
        return self._send(new_method_call(address, method, signature or None, body), doing)

    def _send(self, message: Message, doing: str) -> tuple[Any, ...]:
        """The reply's body; a D-Bus error or silence becomes a KeyringError saying what failed.

        Messages carry only the error's name, never its text or the request: no secret leaks.
        """
        try:
            reply = self._conn.send_and_get_reply(message, timeout=self._call_timeout)
        except TimeoutError as exc:
            raise keyring.errors.KeyringError(
                f"The Secret Service did not answer within {self._call_timeout:g} seconds "
                f"({doing})."
            ) from exc
        except OSError as exc:
            raise keyring.errors.KeyringError(
                f"The D-Bus connection failed ({doing}: {type(exc).__name__})."
            ) from exc
        if reply.header.message_type == MessageType.error:
            name = str(reply.header.fields.get(HeaderFields.error_name, "an unnamed error"))
            if name == _IS_LOCKED:
                raise _Locked(f"The Secret Service is locked ({doing}).")
            if name in _NOT_FOUND:
                raise _NotFound(f"The Secret Service has no such object ({doing}).")
            raise keyring.errors.KeyringError(f"Secret Service error while {doing}: {name}.")
        sender = reply.header.fields.get(HeaderFields.sender)
        if isinstance(sender, str) and sender != message_bus.bus_name:
            self._owner = sender
        body: tuple[Any, ...] = reply.body
        return body
