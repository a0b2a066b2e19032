"""SecretServiceKeyring: round trips, keyring interchange, the store's choice, locked prompts."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.SecretService
import keyring.errors
import pytest
import secretstorage

from app.auth.secret_service import SecretServiceKeyring
from app.auth.store import NO_KEYRING_NOTICE, Kind, TokenStore
from tests.helpers.fake_secret_service import (
    COLLECTION,
    CREATED_COLLECTION,
    FakeSecretService,
    private_bus,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def service(secret_service: None) -> Iterator[str]:
    """A service name of its own on the real Secret Service; its items are removed afterwards."""
    name = f"ucwa-phone-ss-test-{uuid.uuid4().hex[:8]}"
    yield name
    with closing(secretstorage.dbus_init()) as bus:
        for item in secretstorage.get_default_collection(bus).search_items({"service": name}):
            item.delete()


def _stored_items(service: str) -> list[tuple[str, dict[str, str]]]:
    """(label, attributes) of every item under ``service``, as the Secret Service holds them."""
    with closing(secretstorage.dbus_init()) as bus:
        found = secretstorage.get_default_collection(bus).search_items({"service": service})
        return sorted((item.get_label(), item.get_attributes()) for item in found)


# -- round trips against the real Secret Service --------------------------------------------------


@pytest.mark.keyring
def test_a_password_round_trips_and_a_second_write_replaces_it(service: str) -> None:
    backend = SecretServiceKeyring()
    assert backend.get_password(service, "alice") is None

    backend.set_password(service, "alice", "first-pw")
    assert backend.get_password(service, "alice") == "first-pw"
    backend.set_password(service, "alice", "second-pw")

    assert backend.get_password(service, "alice") == "second-pw"
    assert len(_stored_items(service)) == 1  # replaced, not added


@pytest.mark.keyring
def test_a_deleted_entry_is_gone_and_deleting_it_again_says_there_is_none(service: str) -> None:
    backend = SecretServiceKeyring()
    backend.set_password(service, "alice", "pw")
    backend.set_password(service, "bob", "other-pw")

    backend.delete_password(service, "alice")

    assert backend.get_password(service, "alice") is None
    assert backend.get_password(service, "bob") == "other-pw"
    with pytest.raises(keyring.errors.PasswordDeleteError):
        backend.delete_password(service, "alice")


@pytest.mark.keyring
def test_a_300_kb_value_round_trips(service: str) -> None:
    value = "".join(chr(0x41 + i % 26) for i in range(300_000))
    backend = SecretServiceKeyring()
    backend.set_password(service, "big", value)
    assert backend.get_password(service, "big") == value


@pytest.mark.keyring
def test_unicode_names_and_values_round_trip(service: str) -> None:
    backend = SecretServiceKeyring()
    backend.set_password(service, "jürgen@münchen.de", "pässwört-€-日本語-🔑")
    assert backend.get_password(service, "jürgen@münchen.de") == "pässwört-€-日本語-🔑"
    assert backend.get_password(service, "jurgen@munchen.de") is None


# -- interchange with keyring's own Secret Service backend ----------------------------------------


def _backend(which: str) -> keyring.backend.KeyringBackend:
    return SecretServiceKeyring() if which == "ours" else keyring.backends.SecretService.Keyring()


@pytest.mark.keyring
@pytest.mark.parametrize(("writer", "other"), [("keyring's", "ours"), ("ours", "keyring's")])
def test_an_entry_one_backend_wrote_is_read_replaced_and_deleted_by_the_other(
    service: str, writer: str, other: str
) -> None:
    first, second = _backend(writer), _backend(other)
    first.set_password(service, "alice", f"written-by-{writer}")

    assert second.get_password(service, "alice") == f"written-by-{writer}"
    second.set_password(service, "alice", f"replaced-by-{other}")
    assert first.get_password(service, "alice") == f"replaced-by-{other}"
    assert len(_stored_items(service)) == 1
    second.delete_password(service, "alice")
    assert first.get_password(service, "alice") is None


@pytest.mark.keyring
def test_our_items_carry_the_same_label_and_attributes_as_keyrings(service: str) -> None:
    keyring.backends.SecretService.Keyring().set_password(service, "by-keyring", "a")
    SecretServiceKeyring().set_password(service, "by-us", "b")

    (label_k, attrs_k), (label_u, attrs_u) = _stored_items(service)
    assert label_k == f"Password for 'by-keyring' on '{service}'"
    assert label_u == f"Password for 'by-us' on '{service}'"
    assert {**attrs_k, "username": "by-us"} == attrs_u
    assert attrs_u["application"] == "Python keyring library"


# -- which backend the store picks ----------------------------------------------------------------


@pytest.fixture
def nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no keyringrc.cfg there


def _refuse_keyrings_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> keyring.backend.KeyringBackend:
        raise AssertionError("keyring.get_keyring() imports secretstorage and cryptography")

    monkeypatch.setattr(keyring, "get_keyring", refused)


@pytest.mark.keyring
def test_with_nothing_configured_the_store_uses_the_apps_own_client(
    secret_service: None, nothing_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_keyrings_choice(monkeypatch)
    store = TokenStore(service=f"ucwa-phone-ss-test-{uuid.uuid4().hex[:8]}")
    try:
        store.set(Kind.PASSWORD, "alice", "pw-in-the-keyring")
        assert store.backend_name == "app.auth.secret_service"
        assert store.persistent and store.notice is None
        assert store.get(Kind.PASSWORD, "alice") == "pw-in-the-keyring"
    finally:
        store.forget_all()


@pytest.mark.keyring
def test_a_backend_named_in_PYTHON_KEYRING_BACKEND_is_the_one_used(
    secret_service: None, nothing_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    store = TokenStore(service=f"ucwa-phone-ss-test-{uuid.uuid4().hex[:8]}")
    try:
        store.set(Kind.PASSWORD, "alice", "pw-via-keyring")
        assert store.backend_name == "keyring.backends.SecretService"
        assert store.get(Kind.PASSWORD, "alice") == "pw-via-keyring"
    finally:
        store.forget_all()


def test_a_backend_named_in_keyrings_config_file_is_the_one_used(
    nothing_configured: None, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")

    store = TokenStore()

    # The null keyring stores nothing: chosen, so the store keeps secrets in memory.
    assert not store.persistent
    assert store.notice == NO_KEYRING_NOTICE


def test_a_bus_without_a_secret_service_gets_keyrings_own_choice(
    nothing_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    class Chosen(keyring.backend.KeyringBackend):
        """Stands in for whatever keyring would choose on this machine."""

        priority = 0  # type: ignore[assignment]  # 0: never picked by keyring's own auto-selection

        def get_password(self, service: str, username: str) -> str | None:
            asked.append(username)
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("not written in this test")

        def delete_password(self, service: str, username: str) -> None:
            raise AssertionError("not written in this test")

    def keyrings_choice() -> keyring.backend.KeyringBackend:
        return Chosen()

    monkeypatch.setattr(keyring, "get_keyring", keyrings_choice)
    with private_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        store = TokenStore()
        assert store.persistent
    assert store.backend_name == __name__
    assert asked == ["index"]  # the store's first read went to keyring's choice


# -- locked collections and prompts (a fake Secret Service on a bus of its own) -------------------


@pytest.fixture
def fake_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with private_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


ALICE = {"username": "alice", "service": "svc"}


def test_a_locked_collection_is_unlocked_through_its_prompt_and_the_value_returned(
    fake_bus: str,
) -> None:
    with FakeSecretService(fake_bus, locked=True, prompt="complete") as fake:
        fake.add_item(ALICE, "pw-behind-the-lock")
        assert (
            SecretServiceKeyring(prompt_timeout_s=10).get_password("svc", "alice")
            == "pw-behind-the-lock"
        )
    assert fake.seen.prompts_shown == 1
    assert not fake.locked
    assert fake.seen.algorithms == ["plain"]  # never the encrypted one


def test_a_dismissed_unlock_prompt_raises_keyring_locked_saying_so(fake_bus: str) -> None:
    with FakeSecretService(fake_bus, locked=True, prompt="dismiss") as fake:
        fake.add_item(ALICE, "pw-behind-the-lock")
        with pytest.raises(keyring.errors.KeyringLocked) as raised:
            SecretServiceKeyring(prompt_timeout_s=10).set_password(
                "svc", "alice", "new-secret-value"
            )
    message = str(raised.value)
    assert "dismissed" in message and "locked" in message and "unlock" in message
    assert "new-secret-value" not in message and "pw-behind" not in message
    assert fake.items() == [(COLLECTION, ALICE, b"pw-behind-the-lock")]


def test_a_prompt_nobody_answers_is_given_up_in_time_and_taken_away(fake_bus: str) -> None:
    with FakeSecretService(fake_bus, locked=True, prompt="never") as fake:
        started = time.monotonic()
        with pytest.raises(keyring.errors.KeyringLocked, match="Nobody answered"):
            SecretServiceKeyring(prompt_timeout_s=0.3).get_password("svc", "alice")
        assert time.monotonic() - started < 3
        deadline = time.monotonic() + 5
        while fake.seen.prompts_dismissed_by_client == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.seen.prompts_dismissed_by_client == 1


def test_a_completed_signal_from_another_process_does_not_count_as_unlocked(
    fake_bus: str,
) -> None:
    with FakeSecretService(fake_bus, locked=True, prompt="spoofed") as fake:
        fake.add_item(ALICE, "pw-behind-the-lock")
        with pytest.raises(keyring.errors.KeyringLocked, match="Nobody answered"):
            SecretServiceKeyring(prompt_timeout_s=0.5).get_password("svc", "alice")
    assert fake.locked


def test_the_store_keeps_secrets_in_memory_when_the_unlock_prompt_never_completes(
    fake_bus: str, nothing_configured: None
) -> None:
    with FakeSecretService(fake_bus, locked=True, prompt="never") as fake:
        store = TokenStore(deadline_s=0.5)
        started = time.monotonic()
        store.set(Kind.PASSWORD, "alice", "pw-kept-in-memory")
        assert store.get(Kind.PASSWORD, "alice") == "pw-kept-in-memory"
        assert time.monotonic() - started < 2.0
        assert store.take_notice() == NO_KEYRING_NOTICE
        assert not store.persistent
        assert fake.seen.prompts_shown == 1  # the store chose our client and it asked once
    assert fake.items() == []


def test_without_a_default_collection_one_is_created_as_keyring_does(fake_bus: str) -> None:
    with FakeSecretService(fake_bus, default_alias=False, prompt="complete") as fake:
        SecretServiceKeyring(prompt_timeout_s=10).set_password("svc", "alice", "pw")
        assert SecretServiceKeyring(prompt_timeout_s=10).get_password("svc", "alice") == "pw"
    [(collection, attributes, secret)] = fake.items()
    assert collection == CREATED_COLLECTION
    assert attributes == {**ALICE, "application": "Python keyring library"}
    assert secret == b"pw"


def test_a_refusal_names_what_failed_and_never_the_secret(fake_bus: str) -> None:
    with (
        FakeSecretService(fake_bus, refuse="CreateItem"),
        pytest.raises(keyring.errors.KeyringError) as raised,
    ):
        SecretServiceKeyring().set_password("svc", "alice", "the-secret-value")
    message = str(raised.value)
    assert "while storing the entry" in message and "AccessDenied" in message
    assert "the-secret-value" not in message


def test_no_secret_service_at_all_is_a_keyring_error(fake_bus: str) -> None:
    with pytest.raises(
        keyring.errors.KeyringError, match=r"while finding the default collection: .*ServiceUnknown"
    ):
        SecretServiceKeyring().get_password("svc", "alice")


# -- what it keeps out of the process -------------------------------------------------------------


@pytest.mark.keyring
def test_using_it_imports_neither_secretstorage_nor_cryptography(service: str) -> None:
    code = (
        "import sys\n"
        "from app.auth.secret_service import SecretServiceKeyring\n"
        "b = SecretServiceKeyring()\n"
        f"b.set_password({service!r}, 'alice', 'pw')\n"
        f"assert b.get_password({service!r}, 'alice') == 'pw'\n"
        f"b.delete_password({service!r}, 'alice')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('secretstorage', 'cryptography')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_without_a_session_bus_secrets_stay_in_memory_without_asking_keyring(
    nothing_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No D-Bus keyring can answer; keyring's own search would import cryptography to learn that.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    asked: list[str] = []

    def keyrings_choice() -> keyring.backend.KeyringBackend:
        asked.append("get_keyring")
        return keyring.backends.fail.Keyring()

    monkeypatch.setattr(keyring, "get_keyring", keyrings_choice)

    store = TokenStore()
    store.set(Kind.PASSWORD, "alice", "pw-for-this-run")

    assert asked == []
    assert not store.persistent
    assert store.notice == NO_KEYRING_NOTICE
    assert store.get(Kind.PASSWORD, "alice") == "pw-for-this-run"
