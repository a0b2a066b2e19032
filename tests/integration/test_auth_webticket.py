"""Web-ticket sign-in end to end: simulator, real keyring, a call that outlives its token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import keyring
import pytest

from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.settings import Settings
from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa.calls import CallState
from app.ucwa.session import UcwaSession
from tests.helpers import authfixtures
from tests.helpers.authflows import CallWatcher

keyring_store = authfixtures.keyring_store

ROOT = Path(__file__).resolve().parents[2]
ANSWERED = "+14255550100"
TOKEN_PATH = "/WebTicket/oauthtoken"


def _grants(server: SimServer) -> int:
    return sum(1 for r in server.sim.request_log if r.path.endswith(TOKEN_PATH))


@pytest.mark.anyio
@pytest.mark.keyring
async def test_a_token_expiring_mid_call_is_renewed_without_dropping_the_call(
    sim_server: SimServer, sim_credentials: tuple[str, str], keyring_store: TokenStore
) -> None:
    user, password = sim_credentials
    settings = Settings(discovery_url=sim_server.discovery_url, user=user)
    async with httpx.AsyncClient() as http:
        service = SignInService(settings, http, store=keyring_store, password=password)
        session = UcwaSession(
            http, service, discovery_url=settings.discovery_url, endpoint_id="e-1"
        )
        watcher = CallWatcher()
        session.add_listener(watcher)
        try:
            await session.sign_in()
            signed_in_grants = _grants(sim_server)
            assert (
                signed_in_grants == 2
            )  # one per token realm: the realistic pool lives under another host name
            assert service.method_used == "webticket"
            await session.start_call(ANSWERED)
            await watcher.wait_for(CallState.CONNECTED)

            sim_server.sim.faults.expire_tokens()
            await session.hold()
            await watcher.wait_for(CallState.ON_HOLD)
            await session.resume()
            await watcher.wait_for(CallState.CONNECTED)

            # One silent re-grant with the in-memory password (the call's requests go to the pool).
            assert _grants(sim_server) == signed_in_grants + 1
            assert CallState.FAILED not in {s.state for s in watcher.snapshots}
            await session.hang_up()
            await watcher.wait_for(CallState.ENDED)
        finally:
            await session.aclose()


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.keyring
def test_cli_login_then_a_new_process_signs_in_silently_from_the_keyring(
    sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    authfixtures.require_secret_service()
    user, password = sim_credentials
    try:
        env = {**os.environ, "UCWA_PHONE_PASSWORD": password}
        login = _run("-m", "app", "login", "--server", sim_server.base_url, "--user", user, env=env)
        assert login.returncode == 0, login.stderr
        assert f"Signed in as {user}" in login.stdout
        assert password not in login.stdout + login.stderr
        grants = _grants(sim_server)
        assert grants == 2  # one per token realm: the realistic pool lives under another host name

        env.pop("UCWA_PHONE_PASSWORD")
        probe = _run("-m", "tests.helpers.signin_probe", env=env)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert probe.stdout.split() == ["ok", "webticket", "-"]
        assert _grants(sim_server) == grants  # the stored token was enough

        logout = _run("-m", "app", "logout")
        assert logout.returncode == 0, logout.stderr
        probe = _run("-m", "tests.helpers.signin_probe", env=env)
        assert probe.returncode == 1 and "password" in probe.stdout
    finally:
        _run("-m", "app", "logout", "--forget")
    assert keyring.get_password("ucwa-phone", "index") is None


@pytest.mark.keyring
def test_a_server_restarted_with_new_keys_gets_a_fresh_sign_in_not_an_error(
    sim_config: SimConfig, sim_credentials: tuple[str, str]
) -> None:
    # The tickets of the first run stay in the keyring; the restarted server no longer takes them.
    authfixtures.require_secret_service()
    user, password = sim_credentials
    env = {**os.environ, "UCWA_PHONE_PASSWORD": password}
    port = 0  # the first server picks one; the second comes back on the same origin
    try:
        for run in ("before the restart", "after the restart"):
            sim = Simulator(sim_config)
            try:
                with SimServer(sim, port=port) as server:
                    port = server.port
                    call = _run(
                        "-m", "app", "call", "4255550100", "--hangup-after", "0.2",
                        "--server", server.base_url, "--user", user, env=env,
                    )  # fmt: skip
                    assert call.returncode == 0, f"{run}: {call.stderr}"
                    assert _grants(server) >= 1, run  # signed in with the password each time
            finally:
                sim.close()
    finally:
        _run("-m", "app", "logout", "--forget")


def test_cli_login_with_a_wrong_password_says_so(sim_server: SimServer) -> None:
    env = {
        **os.environ,
        "UCWA_PHONE_PASSWORD": "not-the-password",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    login = _run(
        "-m",
        "app",
        "login",
        "--server",
        sim_server.base_url,
        "--user",
        "alice@contoso.com",
        env=env,
    )
    assert login.returncode == 1
    assert "user name or password is not correct" in login.stderr
    assert "not-the-password" not in login.stdout + login.stderr


def test_cli_login_without_a_password_or_terminal_explains(sim_server: SimServer) -> None:
    env = {k: v for k, v in os.environ.items() if k != "UCWA_PHONE_PASSWORD"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    login = _run(
        "-m",
        "app",
        "login",
        "--server",
        sim_server.base_url,
        "--user",
        "alice@contoso.com",
        env=env,
    )
    assert login.returncode == 1 and "password" in login.stderr
