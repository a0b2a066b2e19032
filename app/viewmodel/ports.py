"""Ports: the services the view-models need, as typing.Protocols (UcwaSession, adapters, fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app import settings as settings_module
from app.settings import Settings
from app.ucwa.calls import CallSnapshot
from app.ucwa.dialing import DialTarget
from app.ucwa.listener import SessionListener as SessionListener  # re-exported for the ports
from app.ucwa.people import Contact
from app.ucwa.status import SessionStatus


class CallService(Protocol):
    """The part of ``app.ucwa.session.UcwaSession`` the GUI uses, under the session's own names."""

    @property
    def status(self) -> SessionStatus: ...
    @property
    def call(self) -> CallSnapshot: ...
    def add_listener(self, listener: SessionListener) -> None: ...
    def remove_listener(self, listener: SessionListener) -> None: ...
    async def sign_in(self) -> None: ...
    async def my_phones(self) -> list[tuple[str, str]]: ...
    async def search_people(self, query: str, limit: int = 10) -> list[Contact]: ...
    async def start_call(self, number: str | DialTarget, callback: str | None = None) -> None: ...
    async def set_callback_number(self, number: str | None) -> None: ...
    async def hold(self) -> None: ...
    async def resume(self) -> None: ...
    async def hang_up(self) -> None: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Account:
    """Where and as whom to sign in; never a password."""

    address: str = ""  # sign-in address user@domain (autodiscovery)
    server: str = ""  # explicit discovery URL ("" = autodiscover from address)
    user: str = ""  # user name for the password grant ("" = address)
    method: str = "webticket"  # "webticket" | "aad"
    remember: bool = False  # keep the password in the keyring
    ephemeral: bool = False  # keep nothing at all (the demo account): no keyring, no caches


class SignInService(Protocol):
    """Builds a session for an account (main.py adapts app.auth + UcwaSession to this)."""

    async def open_session(
        self, account: Account, password: str | None, *, show_device_code: Callable[[str], None]
    ) -> CallService:
        """A new session, not signed in yet; ``show_device_code`` gets device-code text (AAD)."""
        ...

    async def forget(self, account: Account) -> None:
        """Remove stored tokens and password of ``account`` (sign out)."""
        ...

    async def notice(self) -> str | None:
        """A plain notice to show once after sign-in (e.g. no keyring: nothing is remembered)."""
        ...


class SettingsStore(Protocol):
    def load(self) -> Settings: ...
    def save(self, settings: Settings) -> None: ...


class FileSettingsStore:
    """Settings in the platform config dir (app.settings)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def load(self) -> Settings:
        return settings_module.load(self._directory)

    def save(self, settings: Settings) -> None:
        settings_module.save(settings, self._directory)


class MemorySettingsStore:
    """Settings that live for this run only (demo mode must not overwrite the user's real ones)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or Settings()

    def load(self) -> Settings:
        return self._settings

    def save(self, settings: Settings) -> None:
        self._settings = settings
