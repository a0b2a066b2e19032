"""The leak scan: after sign-in with both methods, calls and sign-out, no secret is anywhere."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.commands.login import make_http
from app.settings import Settings
from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa.calls import CallState
from app.ucwa.session import UcwaSession
from tests.helpers import authfixtures
from tests.helpers.authflows import CLIENT_ID, CallWatcher, RecordingTokens, aad_sim

keyring_store = authfixtures.keyring_store

ROOT = Path(__file__).resolve().parents[2]
USER = "alice@contoso.com"
PASSWORD = "Canary-Pw-7f3a9e"  # distinctive, so a hit can only be a leak
USERS = {USER: PASSWORD}


async def _call_twice(session: UcwaSession) -> None:
    """One answered call hung up locally, one that fails (busy)."""
    watcher = CallWatcher()
    session.add_listener(watcher)
    await session.start_call("+14255550100")
    await watcher.wait_for(CallState.CONNECTED)
    await session.hang_up()
    await watcher.wait_for(CallState.ENDED)
    await session.start_call("+14255550101")
    await watcher.wait_for(CallState.FAILED)


def _cli(*args: str) -> str:
    env = {**os.environ, "UCWA_PHONE_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "app", "-vv", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.mark.anyio
@pytest.mark.keyring
async def test_no_password_or_token_in_files_or_logs(
    keyring_store: TokenStore, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: set[str] = {PASSWORD}
    outputs: list[str] = []
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.5, users=USERS))
    with SimServer(sim) as server:
        # 1. Web ticket, in process: sign in, call, failed call, token expiry, sign out.
        settings = Settings(discovery_url=server.discovery_url, user=USER)
        async with httpx.AsyncClient() as http:
            service = SignInService(settings, http, store=keyring_store, password=PASSWORD)
            tokens = RecordingTokens(service)
            session = UcwaSession(http, tokens, discovery_url=server.discovery_url, endpoint_id="l")
            await session.sign_in()
            await _call_twice(session)
            sim.faults.expire_tokens()
            await session.my_phones()
            await session.aclose()
            await service.logout()
        secrets.update(tokens.tokens, sim.tokens)
        # 2. The command line, at the most verbose level.
        outputs.append(_cli("login", "--server", server.base_url, "--user", USER))
        secrets.update(sim.tokens)
        outputs.append(_cli("logout", "--forget"))
    sim.close()

    # 3. Azure AD over https: device code, calls, refresh after expiry, sign out.
    with aad_sim(users=USERS) as env:
        settings = Settings(
            discovery_url=env.server.discovery_url,
            user=USER,
            method="aad",
            aad_authority=env.authority,
            aad_client_id=CLIENT_ID,
            ca_bundle=env.ca_pem,
        )
        async with make_http(settings) as http:
            service = SignInService(
                settings,
                http,
                store=keyring_store,
                interaction="device_code",
                on_device_code=lambda code: None,
            )
            tokens = RecordingTokens(service)
            session = UcwaSession(
                http, tokens, discovery_url=settings.discovery_url, endpoint_id="a"
            )
            await session.sign_in()
            await _call_twice(session)
            env.idp.expire_tokens()
            await session.my_phones()
            await session.aclose()
            await service.logout(forget=True)
        secrets.update(tokens.tokens, env.idp.issued_secrets)

    secrets.discard("")
    assert len(secrets) >= 8, secrets  # password, web tickets, AAD access + refresh tokens
    written = [p for p in (tmp_path / "xdg").rglob("*") if p.is_file()]
    assert any(p.name == "settings.json" for p in written)  # the CLI did write its settings
    # The simulator's own logs are the server's business, not the app's.
    app_logs = "\n".join(
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if not r.name.startswith(("app.simulator", "uvicorn"))
    )
    assert len(caplog.records) > 20
    for secret in secrets:
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"secret found in {path}"
        assert secret not in app_logs, "secret found in the log output"
        for text in outputs:
            assert secret not in text, "secret found in the CLI output"
