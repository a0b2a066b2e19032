"""Real-server mode loads no Azure AD stack, keyring cryptography or simulator until needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The script keeps a secret in the real Secret Service (run through tests/run.sh).
pytestmark = pytest.mark.keyring

# The window's composition for a real server, as app.gui builds it, up to the session that
# would sign in (nothing is sent: no event loop runs the sign-in), one secret kept in the
# window's keyring store, and the single-instance check (nobody answers: this copy listens).
_SCRIPT = """
import asyncio, json, sys
from PySide6.QtWidgets import QApplication
import app.gui  # (the window's process module, as ucwa-phone loads it)
from app.settings import Settings
from app.ui.mainwindow import MainWindow
from app.viewmodel.ports import Account, MemorySettingsStore
from app.viewmodel.shell import AppViewModel
from app.auth.store import Kind
from app.wiring import SignInAdapter, make_http

qt = QApplication([])
settings = Settings(address="alice@contoso.com", discovery_url="https://lyncdiscover.contoso.com/")

async def compose():
    http = make_http(settings, window=True)
    adapter = SignInAdapter(http, settings, persistent=True)
    shell = AppViewModel(signin_service=adapter, store=MemorySettingsStore(settings), demo=False)
    window = MainWindow(shell)
    window.show()
    account = Account(address="alice@contoso.com", server=settings.discovery_url,
                      user="alice@contoso.com")
    session = await adapter.open_session(account, "pw", show_device_code=lambda _t: None)
    # A secret through the keyring store this window would keep sign-in details in.
    store = adapter._token_store
    await store.aset(Kind.PASSWORD, "real-mode-imports-probe", "probe-pw")
    assert await store.aget(Kind.PASSWORD, "real-mode-imports-probe") == "probe-pw"
    await store.adelete(Kind.PASSWORD, "real-mode-imports-probe")
    assert store.persistent, store.notice
    await session.aclose()
    await http.aclose()

asyncio.run(compose())
instance = app.gui._single_instance(qt, None)
assert instance is not None and instance.problem is None
instance.close()
print(json.dumps(sorted(sys.modules)))
"""

# secretstorage: keyring's own Secret Service backend, which imports cryptography at once.
# click and pygments: httpx's command-line client, which the window never runs (app/__init__.py).
# PySide6.QtNetwork: ~3 MB resident; the single-instance socket is a plain Unix socket there.
HEAVY = (
    "msal",
    "requests",
    "cryptography",
    "secretstorage",
    "starlette",
    "uvicorn",
    "app.simulator",
    "click",
    "pygments",
) + (("PySide6.QtNetwork",) if sys.platform != "win32" else ())


def _window_modules() -> list[str]:
    with tempfile.TemporaryDirectory() as runtime:  # created 0700: the single-instance socket's
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": runtime}
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def test_the_real_mode_window_session_and_keyring_load_no_azure_ad_stack_and_no_simulator() -> None:
    modules = _window_modules()
    assert "app.wiring" in modules and "app.ucwa.session" in modules  # it did build a session
    assert [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)] == []


def test_the_region_list_loads_no_metadata_of_regions_nobody_dials() -> None:
    # The Settings view-model labels ~250 regions at start ("DE (+49)").
    modules = _window_modules()
    assert "app.viewmodel.settings" in modules
    regions = [m for m in modules if m.startswith("phonenumbers.data.region_")]
    assert len(regions) <= 3, regions
