"""Persistent user settings (JSON in the platform config dir) and the per-install endpoint id."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from app.files import write_private_atomically

log = logging.getLogger(__name__)

APP_NAME = "ucwa-phone"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user configured. Never holds a password or token: those live in the keyring."""

    address: str | None = None  # sign-in address user@domain (drives autodiscovery)
    discovery_url: str | None = None  # explicit discovery URL instead of autodiscovery
    user: str | None = None  # user name for the password grant (defaults to address)
    method: str = "webticket"  # "webticket" or "aad"
    callback_number: str | None = None  # E.164 number the server rings first
    default_region: str | None = None  # ISO region for numbers typed without "+"
    remember_password: bool = False
    ca_bundle: str | None = None  # extra CA bundle for a private PKI
    allowed_redirect_domains: tuple[str, ...] = ()
    aad_authority: str | None = None
    aad_client_id: str | None = None
    recent_numbers: tuple[str, ...] = ()
    start_minimised: bool = False  # start hidden in the tray (shown anyway when there is no tray)
    notifications: bool = True  # a desktop notification when a call ends unseen
    history_enabled: bool = True  # record every call attempt in the call history
    endpoint_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def configured(self) -> bool:
        return bool(self.address or self.discovery_url)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _path(directory: Path | None) -> Path:
    return (directory or config_dir()) / "settings.json"


def load(directory: Path | None = None) -> Settings:
    """Read settings; a missing or unreadable file gives defaults (and saves a new endpoint id)."""
    path = _path(directory)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not an object")
    except FileNotFoundError:
        raw = {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable settings file %s: %s", path, exc)
        raw = {}
    known = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            continue
        if isinstance(value, list):
            value = tuple(str(v) for v in value)
        values[key] = value
    try:
        settings = Settings(**values)
    except TypeError as exc:
        log.warning("ignoring malformed settings: %s", exc)
        settings = Settings()
    if "endpoint_id" not in raw:
        save(settings, directory)
    return settings


def save(settings: Settings, directory: Path | None = None) -> None:
    """Write atomically (a crash never leaves half a file) and readable by this user only."""
    data = dataclasses.asdict(settings)
    write_private_atomically(_path(directory), json.dumps(data, indent=2, sort_keys=True))
