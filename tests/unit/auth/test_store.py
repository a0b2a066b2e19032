"""TokenStore against the real Secret Service: chunking, bad entries, forget_all, no backend."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest

from app.auth.store import CHUNK_CHARS, NO_KEYRING_NOTICE, Kind, TokenStore

ROOT = Path(__file__).resolve().parents[3]


def _raw_entries(store: TokenStore, key: str) -> dict[str, str]:
    """Every raw keyring item of *key* (header + chunks), read straight from the backend."""
    found = {}
    header = keyring.get_password(store.service, key)
    if header is not None:
        found[key] = header
    i = 1
    while (part := keyring.get_password(store.service, f"{key}#{i}")) is not None:
        found[f"{key}#{i}"] = part
        i += 1
    return found


@pytest.mark.keyring
def test_small_value_round_trips(keyring_store: TokenStore) -> None:
    keyring_store.set(Kind.PASSWORD, "Alice@Contoso.com", "s3cret-pw")
    assert keyring_store.get(Kind.PASSWORD, "alice@contoso.com") == "s3cret-pw"
    assert keyring_store.get(Kind.WEBTICKET, "alice@contoso.com") is None


@pytest.mark.keyring
def test_20kb_value_is_split_into_small_entries_and_reassembled(
    keyring_store: TokenStore,
) -> None:
    value = "".join(chr(0x41 + i % 26) for i in range(20_000)) + "€ünïcode"
    keyring_store.set(Kind.MSAL_CACHE, "alice", value)

    raw = _raw_entries(keyring_store, "msal-cache/alice")
    assert len(raw) == 1 + -(-len(value) // CHUNK_CHARS)
    # UTF-16 as Windows stores it: each entry fits its 2,560-byte limit.
    assert max(len(v.encode("utf-16-le")) for v in raw.values()) <= 2560
    assert keyring_store.get(Kind.MSAL_CACHE, "alice") == value


@pytest.mark.keyring
def test_secret_service_takes_a_whole_msal_cache_in_one_entry(secret_service: None) -> None:
    store = TokenStore(service="ucwa-phone-test-large")
    try:
        store.set(Kind.MSAL_CACHE, "alice", "z" * 20_000)
        assert list(_raw_entries(store, "msal-cache/alice")) == ["msal-cache/alice"]
        assert store.get(Kind.MSAL_CACHE, "alice") == "z" * 20_000
    finally:
        store.forget_all()


@pytest.mark.keyring
def test_shrinking_a_value_removes_its_old_chunks(keyring_store: TokenStore) -> None:
    keyring_store.set(Kind.MSAL_CACHE, "alice", "x" * 5_000)
    keyring_store.set(Kind.MSAL_CACHE, "alice", "short")
    assert list(_raw_entries(keyring_store, "msal-cache/alice")) == ["msal-cache/alice"]
    assert keyring_store.get(Kind.MSAL_CACHE, "alice") == "short"


@pytest.mark.keyring
@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda s: keyring.set_password(s, "msal-cache/alice#2", "tampered"), "corrupt"),
        (lambda s: keyring.delete_password(s, "msal-cache/alice#3"), "partial"),
        (lambda s: keyring.set_password(s, "msal-cache/alice", "ucwa-phone:v1:chunks:x"), "header"),
        (lambda s: keyring.set_password(s, "msal-cache/alice", "someone else's"), "foreign"),
    ],
)
def test_damaged_entries_are_discarded_with_a_log_line(
    keyring_store: TokenStore, caplog: pytest.LogCaptureFixture, damage, why: str
) -> None:
    keyring_store.set(Kind.MSAL_CACHE, "alice", "y" * 4_500)
    damage(keyring_store.service)

    with caplog.at_level(logging.WARNING, logger="app.auth.store"):
        assert keyring_store.get(Kind.MSAL_CACHE, "alice") is None
    assert why in caplog.text and "sign in again" in caplog.text
    assert "yyyy" not in caplog.text
    # Gone for good: the next read is a plain miss, and new values work again.
    assert _raw_entries(keyring_store, "msal-cache/alice") == {}
    keyring_store.set(Kind.MSAL_CACHE, "alice", "fresh")
    assert keyring_store.get(Kind.MSAL_CACHE, "alice") == "fresh"


@pytest.mark.keyring
def test_forget_all_removes_every_entry_the_app_created(keyring_store: TokenStore) -> None:
    keyring_store.set(Kind.PASSWORD, "alice", "pw-one")
    keyring_store.set(Kind.WEBTICKET, "bob", "t" * 3_000)
    keyring_store.set(Kind.MSAL_CACHE, "default", "c" * 20_000)
    keyring.set_password(keyring_store.service, "not-ours", "left alone")  # another tool's item
    assert keyring.get_password(keyring_store.service, "index") is not None

    assert keyring_store.forget_all() == 3

    for key in ("password/alice", "webticket/bob", "msal-cache/default", "index"):
        assert _raw_entries(keyring_store, key) == {}
    assert keyring.get_password(keyring_store.service, "not-ours") == "left alone"
    keyring.delete_password(keyring_store.service, "not-ours")


@pytest.mark.keyring
def test_a_real_keyring_gives_no_notice(keyring_store: TokenStore) -> None:
    assert keyring_store.persistent
    assert keyring_store.take_notice() is None


@pytest.mark.parametrize(
    "backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()]
)
def test_without_a_usable_backend_secrets_stay_in_memory_and_the_user_is_told_once(
    backend: keyring.backend.KeyringBackend, tmp_path: Path
) -> None:
    store = TokenStore(backend)
    assert not store.persistent
    assert store.take_notice() == NO_KEYRING_NOTICE
    assert store.take_notice() is None  # once
    assert "only until UCWA Phone closes" in NO_KEYRING_NOTICE

    store.set(Kind.PASSWORD, "alice", "memory-only-pw")
    assert store.get(Kind.PASSWORD, "alice") == "memory-only-pw"
    assert store.forget_all() == 1
    assert store.get(Kind.PASSWORD, "alice") is None
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


class PlaintextKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed): only its name matters."""

    priority = 0  # type: ignore[assignment]  # 0: never picked by keyring's own auto-selection

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("a plain-text backend must never be used")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a plain-text backend must never be used")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("a plain-text backend must never be used")


def test_a_plaintext_backend_is_never_chosen() -> None:
    store = TokenStore(PlaintextKeyring())
    store.set(Kind.PASSWORD, "alice", "pw")
    assert not store.persistent
    assert store.notice == NO_KEYRING_NOTICE


def test_no_dbus_session_falls_back_to_memory_with_a_notice() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    code = (
        "from app.auth.store import TokenStore, Kind\n"
        "s = TokenStore()\n"
        "s.set(Kind.PASSWORD, 'alice', 'pw-x')\n"
        "print(s.persistent, s.get(Kind.PASSWORD, 'alice'), s.take_notice() is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "pw-x", "True"]
