"""A keyring that never answers: the store gives up within its deadline, keeps secrets in memory."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import keyring.backend
import pytest

from app.auth.store import NO_KEYRING_NOTICE, Kind, TokenStore


class HungKeyring(keyring.backend.KeyringBackend):
    """Like a Secret Service whose D-Bus call never returns (until the test releases it)."""

    priority = 0  # type: ignore[assignment]  # 0: never picked by keyring's own auto-selection

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


@pytest.fixture
def hung_keyring() -> Iterator[HungKeyring]:
    hung = HungKeyring()
    try:
        yield hung
    finally:
        hung.release.set()


def test_a_keyring_that_does_not_answer_falls_back_to_memory_with_the_notice(
    hung_keyring: HungKeyring,
) -> None:
    store = TokenStore(hung_keyring, deadline_s=0.3)

    async def use_it() -> tuple[str | None, str | None, str | None]:
        started = time.monotonic()
        await store.aset(Kind.PASSWORD, "alice", "pw-kept-in-memory")
        value = await store.aget(Kind.PASSWORD, "alice")
        notice = await store.anotice()
        assert time.monotonic() - started < 2.0  # one deadline, not one per call
        return value, notice, await store.anotice()

    value, notice, second = asyncio.run(use_it())
    assert hung_keyring.calls == 1  # after the probe timed out the keyring is left alone
    assert value == "pw-kept-in-memory"
    assert notice == NO_KEYRING_NOTICE
    assert second is None  # shown once
    assert not store.persistent


def test_a_keyring_that_answers_in_time_is_used() -> None:
    class SlowButAlive(HungKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            self.calls += 1
            time.sleep(0.05)
            return None

    store = TokenStore(SlowButAlive(), deadline_s=2.0)
    assert store.get(Kind.PASSWORD, "alice") is None
    assert store.persistent
    assert store.notice is None
