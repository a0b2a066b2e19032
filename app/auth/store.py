"""TokenStore: secrets in the OS keyring (chunked, indexed), or in memory when there is none."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.core
import keyring.errors

from app.auth.deadlines import KEYRING_DEADLINE_S
from app.httpbody import DOCUMENT_LIMIT, decode_json
from app.logs import register_secret

_T = TypeVar("_T")

log = logging.getLogger(__name__)

SERVICE = "ucwa-phone"
# Windows Credential Manager rejects blobs over 2,560 bytes, stored as UTF-16: 1,000 characters
# per entry stays under that with room for the header. Backends not known to take more get it too.
CHUNK_CHARS = 1000
# Secret Service / KWallet round-trip megabytes (measured on headless Linux); every extra entry
# costs a D-Bus round trip (~12 ms), so values there are split only when really large.
LARGE_CHUNK_CHARS = 256_000
_LARGE_BACKENDS = (
    "keyring.backends.secretservice",
    "keyring.backends.libsecret",
    "kwallet",
    "app.auth.secret_service",
)
_MAGIC = "ucwa-phone:v1:"
_INDEX = "index"

NO_KEYRING_NOTICE = (
    "No keyring service is available on this system, so your sign-in is kept only until "
    "UCWA Phone closes. You will be asked to sign in again next time."
)


class Kind(enum.StrEnum):
    """What an entry holds; together with the account it names one keyring entry."""

    WEBTICKET = "webticket"  # JSON {resource origin: AccessToken dict}
    PASSWORD = "password"  # the remembered password ("Remember password" ticked)
    MSAL_CACHE = "msal-cache"  # msal.SerializableTokenCache.serialize()


def _is_unusable(backend: keyring.backend.KeyringBackend) -> bool:
    """Fail/null backends store nothing; plain-text ones must never be chosen silently."""
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}".lower()
    if isinstance(backend, keyring.backends.fail.Keyring) or name.endswith("null.keyring"):
        return True
    return "plaintext" in name or name.startswith("keyrings.alt.file")


def _pick_backend(
    backend: keyring.backend.KeyringBackend | None,
    deadline_s: float = KEYRING_DEADLINE_S,
) -> keyring.backend.KeyringBackend | None:
    chosen = backend if backend is not None else _default_backend(deadline_s)
    if chosen is None:
        return None
    if isinstance(chosen, keyring.backends.chainer.ChainerBackend):
        usable = [b for b in chosen.backends if not _is_unusable(b)]
        return usable[0] if usable else None
    return None if _is_unusable(chosen) else chosen


def _default_backend(deadline_s: float) -> keyring.backend.KeyringBackend | None:
    """keyring's choice, except on Linux when nobody chose: our own Secret Service client there
    (None: no keyring can answer).

    keyring's Secret Service backend imports secretstorage, which imports cryptography (~8 MB);
    ours holds the very same items without it. A backend named in PYTHON_KEYRING_BACKEND or
    keyring's config file is used as keyring itself would use it.
    """
    if sys.platform.startswith("linux"):
        chosen = keyring.core.load_env() or keyring.core.load_config()
        if chosen is not None:
            return chosen
        # jeepney, which it speaks D-Bus with, is installed on Linux only (as keyring's dependency).
        from app.auth import secret_service

        if secret_service.available(deadline_s):
            return secret_service.SecretServiceKeyring()
        if not secret_service.session_bus_configured():
            # Every keyring that keyring finds by itself on Linux speaks D-Bus (Secret Service,
            # KWallet), so without a session bus none can answer; asking keyring would import
            # secretstorage and cryptography only to learn that. Any other backend is named in
            # PYTHON_KEYRING_BACKEND or keyring's config file (see SECURITY.md).
            return None
    return keyring.get_keyring()


class KeyringTimeout(Exception):
    """The keyring did not answer within its deadline (a hung D-Bus service, a stuck unlock)."""


def _within(deadline_s: float, call: Callable[..., _T], *args: str) -> _T:
    """``call(*args)`` in its own daemon thread; its result, or KeyringTimeout after the deadline.

    A call that never returns leaves only that thread behind, and does not keep the process from
    exiting (a thread pool would be joined at exit).
    """
    done = threading.Event()
    outcome: list[tuple[bool, object]] = []

    def work() -> None:
        try:
            outcome.append((True, call(*args)))
        except BaseException as exc:  # handed to the waiting caller as it is
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=work, name="keyring-call", daemon=True).start()
    if not done.wait(deadline_s):
        raise KeyringTimeout(f"the keyring did not answer within {deadline_s:g} s")
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]  # what ``call`` returned


class _BoundedKeyring:
    """A backend whose every call returns (or raises KeyringTimeout) within ``deadline_s``."""

    def __init__(self, backend: keyring.backend.KeyringBackend, deadline_s: float) -> None:
        self.backend = backend
        self._deadline = deadline_s

    def _bounded(self, call: Callable[..., _T], *args: str) -> _T:
        return _within(self._deadline, call, *args)

    def get_password(self, service: str, username: str) -> str | None:
        return self._bounded(self.backend.get_password, service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._bounded(self.backend.set_password, service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._bounded(self.backend.delete_password, service, username)


class TokenStore:
    """Keyring-backed secret store under one service name; thread-safe and never raises on IO.

    Blocking: call the plain methods from a worker thread, or the ``a*`` coroutines from the loop.
    Entries this app created are listed in an index entry so ``forget_all`` can find them all.
    """

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        chunk_chars: int | None = None,
        deadline_s: float = KEYRING_DEADLINE_S,
    ) -> None:
        self.service = service
        self._deadline = deadline_s
        self._chunk_override = max(64, chunk_chars) if chunk_chars else None
        self._chunk = CHUNK_CHARS
        self._lock = threading.RLock()
        self._requested = backend
        self._backend: _BoundedKeyring | None = None
        self._probed = False
        self._memory: dict[str, str] = {}
        self._notice: str | None = None
        self._notice_taken = False

    # -- state --------------------------------------------------------------------------------

    @property
    def persistent(self) -> bool:
        """True when secrets survive a restart (a usable keyring answered)."""
        with self._lock:
            return self._ensure_backend() is not None

    @property
    def backend_name(self) -> str:
        backend = self._ensure_backend()
        return "memory" if backend is None else type(backend.backend).__module__

    @property
    def notice(self) -> str | None:
        """Plain sentence for the UI when secrets are kept in memory only; None otherwise."""
        self._ensure_backend()
        return self._notice

    def take_notice(self) -> str | None:
        """The notice the first time it is asked for, then None: the user sees it once."""
        with self._lock:
            notice = self.notice
            if notice is None or self._notice_taken:
                return None
            self._notice_taken = True
            return notice

    # -- sync API (worker thread) -------------------------------------------------------------

    def get(self, kind: Kind, account: str) -> str | None:
        key = self._key(kind, account)
        with self._lock:
            backend = self._ensure_backend()
            if backend is None:
                return self._memory.get(key)
            try:
                value = self._read(backend, key)
            except Exception as exc:  # any backend trouble: degrade, never crash
                self._degrade(exc)
                return self._memory.get(key)
        if value is not None and kind == Kind.PASSWORD:
            # Structured values (token JSON, msal cache) register their own secrets when parsed.
            register_secret(value)
        return value

    def set(self, kind: Kind, account: str, value: str) -> None:
        if kind == Kind.PASSWORD:
            register_secret(value)
        key = self._key(kind, account)
        with self._lock:
            backend = self._ensure_backend()
            if backend is None:
                self._memory[key] = value
                return
            try:
                self._write(backend, key, value)
                self._index_add(backend, key)
            except Exception as exc:
                self._degrade(exc)
                self._memory[key] = value

    def delete(self, kind: Kind, account: str) -> None:
        key = self._key(kind, account)
        with self._lock:
            self._memory.pop(key, None)
            backend = self._ensure_backend()
            if backend is None:
                return
            try:
                self._erase(backend, key)
                self._index_remove(backend, key)
            except Exception as exc:
                self._degrade(exc)

    def forget_all(self) -> int:
        """Remove every entry this app created (all accounts, all kinds); returns how many."""
        with self._lock:
            removed = len(self._memory)
            self._memory.clear()
            backend = self._ensure_backend()
            if backend is None:
                return removed
            try:
                keys = self._index(backend)
                for key in keys:
                    self._erase(backend, key)
                self._delete_raw(backend, _INDEX)
            except Exception as exc:
                self._degrade(exc)
                return removed
            return removed + len(keys)

    # -- async API (event loop) ---------------------------------------------------------------

    async def aget(self, kind: Kind, account: str) -> str | None:
        return await asyncio.to_thread(self.get, kind, account)

    async def aset(self, kind: Kind, account: str, value: str) -> None:
        await asyncio.to_thread(self.set, kind, account, value)

    async def adelete(self, kind: Kind, account: str) -> None:
        await asyncio.to_thread(self.delete, kind, account)

    async def aforget_all(self) -> int:
        return await asyncio.to_thread(self.forget_all)

    async def anotice(self) -> str | None:
        """``take_notice`` off the loop: the first call may have to probe the D-Bus service."""
        return await asyncio.to_thread(self.take_notice)

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _key(kind: Kind, account: str) -> str:
        return f"{Kind(kind).value}/{account.strip().lower() or '-'}"

    def _ensure_backend(self) -> _BoundedKeyring | None:
        with self._lock:
            if self._probed:
                return self._backend
            self._probed = True
            backend: _BoundedKeyring | None = None
            try:
                # Choosing (a D-Bus probe) and the first read share one deadline.
                picked = _within(self._deadline, self._open_backend)
                if picked is not None:
                    backend = _BoundedKeyring(picked, self._deadline)
            except Exception as exc:
                log.warning("keyring unavailable (%s: %s)", type(exc).__name__, exc)
                backend = None
            if backend is None:
                self._set_memory_only()
            else:
                log.info("secrets kept in the keyring backend %s", type(backend.backend).__module__)
                self._chunk = self._chunk_override or _chunk_limit(backend.backend)
            self._backend = backend
            return backend

    def _open_backend(self) -> keyring.backend.KeyringBackend | None:
        picked = _pick_backend(self._requested, self._deadline)
        if picked is not None:
            # Opens the D-Bus connection / unlocks the collection now, not mid-sign-in.
            picked.get_password(self.service, _INDEX)
        return picked

    def _set_memory_only(self) -> None:
        self._backend = None
        if self._notice is None:
            log.warning("no usable keyring: sign-in details are kept in memory for this run only")
            self._notice = NO_KEYRING_NOTICE

    def _degrade(self, exc: BaseException) -> None:
        log.warning("keyring failed (%s: %s); keeping secrets in memory", type(exc).__name__, exc)
        self._set_memory_only()

    def _read(self, backend: _BoundedKeyring, key: str) -> str | None:
        header = backend.get_password(self.service, key)
        if header is None:
            return None
        if not header.startswith(_MAGIC):
            self._discard(backend, key, "foreign")
            return None
        body = header[len(_MAGIC) :]
        if body.startswith("inline:"):
            return body[len("inline:") :]
        try:
            tag, count_text, digest = body.split(":", 2)
            count = int(count_text)
            if tag != "chunks" or not 0 < count < 100_000:
                raise ValueError(tag)
        except ValueError:
            self._discard(backend, key, "corrupt header")
            return None
        parts: list[str] = []
        for i in range(1, count + 1):
            part = backend.get_password(self.service, f"{key}#{i}")
            if part is None:
                self._discard(backend, key, "partial")
                return None
            parts.append(part)
        value = "".join(parts)
        if _digest(value) != digest:
            self._discard(backend, key, "corrupt")
            return None
        return value

    def _discard(self, backend: _BoundedKeyring, key: str, why: str) -> None:
        # The value itself is never logged: it may be a token.
        log.warning("discarding %s keyring entry %r of %s; sign in again", why, key, self.service)
        self._erase(backend, key)

    def _write(self, backend: _BoundedKeyring, key: str, value: str) -> None:
        old_count = self._chunk_count(backend, key)
        inline = _MAGIC + "inline:" + value
        if len(inline) <= self._chunk:
            backend.set_password(self.service, key, inline)
            new_count = 0
        else:
            chunks = [value[i : i + self._chunk] for i in range(0, len(value), self._chunk)]
            for i, chunk in enumerate(chunks, 1):
                backend.set_password(self.service, f"{key}#{i}", chunk)
            # Header last: a crash mid-write leaves a checksum mismatch, which reads as "discard".
            header = f"{_MAGIC}chunks:{len(chunks)}:{_digest(value)}"
            backend.set_password(self.service, key, header)
            new_count = len(chunks)
        for i in range(new_count + 1, old_count + 1):
            self._delete_raw(backend, f"{key}#{i}")

    def _chunk_count(self, backend: _BoundedKeyring, key: str) -> int:
        header = backend.get_password(self.service, key)
        if header is None:
            return 0
        try:
            tag, count, _ = header[len(_MAGIC) :].split(":", 2)
            return int(count) if header.startswith(_MAGIC) and tag == "chunks" else 0
        except ValueError:
            return 0

    def _erase(self, backend: _BoundedKeyring, key: str) -> None:
        count = self._chunk_count(backend, key)
        self._delete_raw(backend, key)
        # Past the count the header named (or with no readable header) delete until a miss, so
        # chunks orphaned by a damaged header do not linger.
        i = 1
        while True:
            try:
                backend.delete_password(self.service, f"{key}#{i}")
            except keyring.errors.PasswordDeleteError:
                if i > count:
                    break
            i += 1

    def _delete_raw(self, backend: _BoundedKeyring, key: str) -> None:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):  # already gone
            backend.delete_password(self.service, key)

    def _index(self, backend: _BoundedKeyring) -> list[str]:
        raw = backend.get_password(self.service, _INDEX)
        if raw is None:
            return []
        try:
            keys = decode_json(raw, limit=DOCUMENT_LIMIT)
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ValueError("not a list of names")
        except ValueError:
            log.warning("discarding unreadable keyring index of %s", self.service)
            self._delete_raw(backend, _INDEX)
            return []
        return [str(k) for k in keys]

    def _index_add(self, backend: _BoundedKeyring, key: str) -> None:
        keys = self._index(backend)
        if key not in keys:
            backend.set_password(self.service, _INDEX, json.dumps([*keys, key]))

    def _index_remove(self, backend: _BoundedKeyring, key: str) -> None:
        keys = self._index(backend)
        if key in keys:
            keys.remove(key)
            backend.set_password(self.service, _INDEX, json.dumps(keys))


def _chunk_limit(backend: keyring.backend.KeyringBackend) -> int:
    module = type(backend).__module__.lower()
    return LARGE_CHUNK_CHARS if module.startswith(_LARGE_BACKENDS) else CHUNK_CHARS


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
