"""Azure AD sign-in end to end: real msal, the simulator's https identity provider, real keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.auth.msal_provider import DeviceCode
from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.commands.login import make_http
from app.settings import Settings
from app.ucwa.calls import CallState
from app.ucwa.session import UcwaSession
from tests.helpers import authfixtures
from tests.helpers.authflows import CLIENT_ID, AadSim, CallWatcher, aad_sim

keyring_store = authfixtures.keyring_store

ROOT = Path(__file__).resolve().parents[2]


def _settings(env: AadSim) -> Settings:
    return Settings(
        discovery_url=env.server.discovery_url,
        user="alice@contoso.com",
        method="aad",
        aad_authority=env.authority,
        aad_client_id=CLIENT_ID,
        ca_bundle=env.ca_pem,
    )


@pytest.mark.anyio
@pytest.mark.keyring
async def test_device_code_sign_in_then_a_call_survives_token_expiry(
    keyring_store: TokenStore,
) -> None:
    with aad_sim() as env:
        settings = _settings(env)
        codes: list[DeviceCode] = []
        async with make_http(settings) as http:
            service = SignInService(
                settings,
                http,
                store=keyring_store,
                on_device_code=codes.append,
                interaction="device_code",
            )
            session = UcwaSession(
                http, service, discovery_url=settings.discovery_url, endpoint_id="e-aad"
            )
            watcher = CallWatcher()
            session.add_listener(watcher)
            try:
                await session.sign_in()
                assert service.method_used == "aad" and service.signed_in_as == "alice@contoso.com"
                assert len(codes) == 1 and env.server.base_url in codes[0].text
                await session.start_call("+14255550100")
                await watcher.wait_for(CallState.CONNECTED)

                env.idp.expire_tokens()
                await session.hold()
                await watcher.wait_for(CallState.ON_HOLD)
                assert env.idp.token_hits("refresh_token") >= 1  # renewed silently
                assert len(codes) == 1  # ... without asking the person again
                await session.hang_up()
                await watcher.wait_for(CallState.ENDED)
            finally:
                await session.aclose()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


@pytest.mark.keyring
def test_restart_signs_in_silently_without_calling_the_identity_provider() -> None:
    authfixtures.require_secret_service()
    with aad_sim() as env:
        try:
            login = _run(
                "-m",
                "app",
                "login",
                "--server",
                env.server.base_url,
                "--user",
                "alice@contoso.com",
                "--method",
                "aad",
                "--aad-authority",
                env.authority,
                "--aad-client-id",
                CLIENT_ID,
                "--ca-bundle",
                env.ca_pem,
                "--device-code",
            )
            assert login.returncode == 0, login.stderr
            assert "enter the code" in login.stderr and "Signed in as alice" in login.stdout
            tokens_before = env.idp.token_hits()
            assert tokens_before >= 1

            probe = _run("-m", "tests.helpers.signin_probe")

            assert probe.returncode == 0, probe.stdout + probe.stderr
            assert probe.stdout.split() == ["ok", "aad", "cache"]
            assert env.idp.token_hits() == tokens_before  # no token-endpoint call at all
            assert env.idp.token_hits("urn:ietf:params:oauth:grant-type:device_code") == 1
        finally:
            _run("-m", "app", "logout", "--forget")
