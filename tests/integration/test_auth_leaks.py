"""The leak scan: after each of sign-in, a call, token renewal, a crash and sign-out (both sign-in
methods, in process and on the command line), no secret is in stderr, the logs or any file written,
in plain, escaped, encoded or line-split form."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from app import logs
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
from tests.helpers.leaks import find_leaks, leak_forms

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


class LeakScan:
    """Looks for every secret known so far in everything the app has shown or written."""

    def __init__(
        self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], xdg: Path
    ) -> None:
        self.caplog, self.capsys, self.xdg = caplog, capsys, xdg
        self.secrets: set[str] = {PASSWORD}
        self.outputs: list[str] = []  # the command line's stdout + stderr
        self.stderr = ""  # this process's own stderr (crash reports)
        self.stages: list[str] = []

    def files(self) -> list[Path]:
        return [p for p in self.xdg.rglob("*") if p.is_file()]

    def check(self, stage: str) -> None:
        self.secrets.discard("")
        captured = self.capsys.readouterr()
        self.stderr += captured.err + captured.out
        # The simulator's own logs are the server's business, not the app's.
        app_logs = "\n".join(
            r.getMessage() + "\n" + (r.exc_text or "")
            for r in self.caplog.records
            if not r.name.startswith(("app.simulator", "uvicorn"))
        )
        sources = {"log records": app_logs, "stderr": self.stderr}
        sources.update({f"command output {i}": text for i, text in enumerate(self.outputs)})
        sources.update({str(p): p.read_bytes().decode("utf-8", "replace") for p in self.files()})
        for where, text in sources.items():
            assert find_leaks(text, self.secrets) == [], f"after {stage}: secret in {where}"
        self.stages.append(stage)


def _crash(secret: str) -> None:
    """An error that quotes a secret, reported the way an uncaught one is: by the excepthook."""
    try:
        raise RuntimeError(f"crashed holding {secret!r} in {json.dumps({'token': secret})}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]


async def _crash_in_task(secret: str) -> None:
    """A task that dies with a secret in its error, reported by asyncio's default handler (the
    one `ucwa-phone call` runs with; the test runner installs its own, hence the direct call)."""

    async def boom() -> None:
        raise RuntimeError(f"task died holding\n{secret}")

    loop = asyncio.get_running_loop()
    task = loop.create_task(boom())
    await asyncio.wait([task])
    exc = task.exception()
    loop.default_exception_handler(
        {"message": "Task exception was never retrieved", "exception": exc, "future": task}
    )


@pytest.mark.anyio
@pytest.mark.keyring
async def test_no_password_or_token_in_files_or_logs(
    keyring_store: TokenStore,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # What the app's start-up does (logs.configure): redaction on every handler and hook.
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    monkeypatch.setattr(logging, "lastResort", logging.lastResort)
    logs.install_redaction()
    caplog.set_level(logging.DEBUG)
    scan = LeakScan(caplog, capsys, tmp_path / "xdg")
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.5, users=USERS))
    with SimServer(sim) as server:
        # 1. Web ticket, in process: sign in, call, failed call, token expiry, crash, sign out.
        settings = Settings(discovery_url=server.discovery_url, user=USER)
        async with httpx.AsyncClient() as http:
            service = SignInService(settings, http, store=keyring_store, password=PASSWORD)
            tokens = RecordingTokens(service)
            session = UcwaSession(http, tokens, discovery_url=server.discovery_url, endpoint_id="l")
            await session.sign_in()
            scan.secrets.update(tokens.tokens, sim.tokens)
            scan.check("web-ticket sign-in")
            await _call_twice(session)
            scan.check("web-ticket calls")
            sim.faults.expire_tokens()
            await session.my_phones()
            scan.secrets.update(tokens.tokens, sim.tokens)
            scan.check("web-ticket renewal")
            _crash(tokens.tokens[-1])
            await _crash_in_task(tokens.tokens[-1])
            assert "crashed holding" in scan.capsys.readouterr().err  # the crash was reported
            scan.check("crash")
            await session.aclose()
            await service.logout()
            scan.check("web-ticket sign-out")
        # 2. The command line, at the most verbose level.
        scan.outputs.append(_cli("login", "--server", server.base_url, "--user", USER))
        scan.secrets.update(sim.tokens)
        scan.check("command-line login")
        scan.outputs.append(_cli("logout", "--forget"))
        scan.check("command-line logout")
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
            scan.secrets.update(tokens.tokens, env.idp.issued_secrets)
            scan.check("Azure AD sign-in")
            await _call_twice(session)
            scan.check("Azure AD calls")
            env.idp.expire_tokens()
            await session.my_phones()
            scan.secrets.update(tokens.tokens, env.idp.issued_secrets)
            scan.check("Azure AD renewal")
            await session.aclose()
            await service.logout(forget=True)
        scan.secrets.update(tokens.tokens, env.idp.issued_secrets)
        scan.check("Azure AD sign-out")

    assert len(scan.secrets) >= 8, scan.secrets  # password, web tickets, AAD access + refresh
    assert any(p.name == "settings.json" for p in scan.files())  # the CLI wrote its settings
    assert len(caplog.records) > 20
    assert "Task exception was never retrieved" in "\n".join(r.getMessage() for r in caplog.records)
    assert len(scan.stages) == 11


@pytest.mark.parametrize(
    "shown",
    [
        lambda s: s,
        lambda s: json.dumps({"t": s}),
        lambda s: repr({"t": s}),
        lambda s: f"https://x/?t={quote_plus(s)}",
        lambda s: f"https://x/{quote(s, safe='')}",
        lambda s: f"{s[:5]}\n    {s[5:]}",  # broken by a wrapped line
        lambda s: json.dumps(s)[:8] + "\\\n" + json.dumps(s)[8:],  # a continued JSON line
    ],
)
def test_the_leak_search_finds_each_form_of_a_secret(shown: object) -> None:
    secret = 'Canary/tok+en "x"=='
    assert callable(shown)
    assert find_leaks(f"before {shown(secret)} after", [secret])
    assert find_leaks("nothing to see", [secret]) == []
    assert secret in leak_forms(secret)
