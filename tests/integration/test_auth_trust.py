"""Credentials travel only over https, except to a server on this machine the user chose (the
plain-http simulator runs of test_cli_call show that exception at work)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Trust-Pw-7d1"


def _call(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, UCWA_PHONE_PASSWORD=PASSWORD)
    return subprocess.run(
        [sys.executable, "-m", "app", "call", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    "server", ["http://lync.contoso.com", "http://192.0.2.10/autodiscover/root", "ftp://lync.x.y"]
)
def test_the_cli_refuses_a_plain_http_server_and_says_why(server: str) -> None:
    done = _call("+14255550100", "--server", server, "--user", "alice@contoso.com")
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "Refusing" in out and "https" in out
    if server.startswith("http:"):
        assert "plain http would expose your password" in out
    assert PASSWORD not in out
