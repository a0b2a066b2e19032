"""Secrets never reach stderr or logs: escaped forms, secret headers, every logger and hook."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from app import logs, wiring

ROOT = Path(__file__).resolve().parents[2]
SECRET = 'Tok/en+with "quotes"\\ & spaces=é'


@pytest.fixture
def registry() -> logs.SecretRegistry:
    reg = logs.SecretRegistry()
    reg.add(SECRET, user="alice@contoso.com")
    return reg


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        repr(SECRET)[1:-1],
        quote(SECRET),
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        base64.b64encode(f"alice@contoso.com:{SECRET}".encode()).decode(),
    ],
)
def test_every_escaped_form_of_a_registered_secret_is_masked(
    registry: logs.SecretRegistry, form: str
) -> None:
    assert registry.scrub(f"before {form} after") == "before *** after"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Basic YWxpY2U6cHc=", "Authorization: ***"),
        ("Cookie: session=abc123; other=1", "Cookie: ***"),
        ("set-cookie: cwt=xyz; Path=/", "set-cookie: ***"),
        (
            "{'Authorization': 'Negotiate abc', 'Accept': 'x'}",
            "{'Authorization': '***', 'Accept': 'x'}",
        ),
        ('{"Cookie": "a=b; c=d", "Host": "h"}', '{"Cookie": "***", "Host": "h"}'),
        ("[('set-cookie', 'sid=42'), ('a', 'b')]", "[('set-cookie', '***'), ('a', 'b')]"),
        ("(b'authorization', b'Bearer abc')", "(b'authorization', b'***')"),
    ],
)
def test_secret_header_values_are_always_masked(text: str, expected: str) -> None:
    assert logs.SecretRegistry().scrub(text) == expected


def test_ordinary_text_is_left_alone(registry: logs.SecretRegistry) -> None:
    text = "call to +14255550100 connected after 3 s"
    assert registry.scrub(text) == text


_SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, sys, threading
    from app import logs
    SECRET = sys.argv[1]
    MODE = sys.argv[2]
    if MODE == "last-resort":
        logs.install_redaction()
        logs.register_secret(SECRET)
        logging.getLogger("msal").warning("last resort saw %s", SECRET)
        sys.exit(0)
    logs.configure(2)
    logs.register_secret(SECRET)
    if MODE == "loggers":
        for name in ("msal", "httpx", "uvicorn.error", "app.x"):
            logging.getLogger(name).error("%s got %r and %s", name, {"t": SECRET}, SECRET)
        logging.getLogger("msal").error("headers: %s", {"Cookie": "sid=plain-cookie-value"})
    elif MODE == "asyncio":
        async def boom():
            raise RuntimeError("task failed with " + SECRET)
        async def main():
            asyncio.get_running_loop().create_task(boom())
            await asyncio.sleep(0.05)
        asyncio.run(main())
        import gc; gc.collect()
    elif MODE == "thread":
        def boom():
            raise RuntimeError("thread failed with " + repr(SECRET))
        t = threading.Thread(target=boom, name="worker"); t.start(); t.join()
    elif MODE == "crash":
        raise RuntimeError("crashed with " + SECRET)
    """
)


@pytest.mark.parametrize(
    ("mode", "marker"),
    [
        ("loggers", "uvicorn.error got"),
        ("asyncio", "task failed with ***"),
        ("thread", "thread failed with '***'"),
        ("crash", "crashed with ***"),
        ("last-resort", "last resort saw ***"),
    ],
)
def test_no_output_path_shows_a_registered_secret(mode: str, marker: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, SECRET, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert marker in done.stderr, done.stderr  # the output did happen
    for form in logs.escaped_forms(SECRET):
        assert form not in done.stderr
    assert "plain-cookie-value" not in done.stderr


def test_the_password_variable_is_gone_once_read_so_children_never_see_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(wiring.PASSWORD_ENV, "Env-Canary-91c2")
    assert wiring.env_password() == "Env-Canary-91c2"
    child = subprocess.run(
        [sys.executable, "-c", f"import os; print(os.environ.get({wiring.PASSWORD_ENV!r}))"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.stdout.strip() == "None"
