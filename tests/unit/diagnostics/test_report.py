"""The "Copy diagnostics" facts name the keyring the app really keeps its secrets in."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.diagnostics.report import environment
from app.settings import Settings


@pytest.fixture
def nothing_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_with_no_usable_keyring_the_report_says_secrets_are_in_memory(
    nothing_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no D-Bus keyring can answer
    facts = environment(Settings(address="alice@contoso.com"))
    assert facts["keyring backend"] == "memory"


@pytest.mark.keyring
def test_with_a_secret_service_the_report_names_the_client_sign_in_uses(
    nothing_configured: None,
) -> None:
    # tests/run.sh provides a gnome-keyring on a private session bus.
    facts = environment(Settings(address="alice@contoso.com"))
    assert facts["keyring backend"] == "app.auth.secret_service"
