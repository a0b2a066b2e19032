"""Fixtures and helpers for the sign-in tests: a real Secret Service check and an https IdP."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
import uvicorn
from starlette.applications import Starlette

from app.auth.store import CHUNK_CHARS, TokenStore, _pick_backend
from app.simulator.aad import AadProvider

# The app's own Secret Service client (chosen when nothing is configured) and keyring's.
SECRET_SERVICE_BACKENDS = ("app.auth.secret_service", "keyring.backends.SecretService")
NO_SECRET_SERVICE = (
    "These tests need a real Secret Service (gnome-keyring on a private D-Bus session). "
    "Run them through tests/run.sh, e.g. `PYTHON=.venv/bin/python tests/run.sh tests/unit/auth` "
    "or `make test`."
)


def require_secret_service() -> None:
    """Fail (not skip) when the real keyring is not reachable: CI always runs under tests/run.sh."""
    backend = _pick_backend(None)
    if backend is None or type(backend).__module__ not in SECRET_SERVICE_BACKENDS:
        found = "none usable" if backend is None else type(backend).__module__
        pytest.fail(f"{NO_SECRET_SERVICE} (keyring backend here: {found})")
    try:
        backend.get_password("ucwa-phone-probe", "probe")
    except Exception as exc:
        pytest.fail(f"{NO_SECRET_SERVICE} (probe failed: {type(exc).__name__}: {exc})")


@pytest.fixture
def secret_service() -> None:
    require_secret_service()


@pytest.fixture
def keyring_store() -> Iterator[TokenStore]:
    """A TokenStore on the real Secret Service under a unique service name, emptied afterwards."""
    require_secret_service()
    # The Windows-sized chunk limit, so splitting is exercised on the real Secret Service too.
    store = TokenStore(service=f"ucwa-phone-test-{uuid.uuid4().hex[:8]}", chunk_chars=CHUNK_CHARS)
    assert store.persistent, store.notice
    yield store
    store.forget_all()


@dataclass
class Tls:
    ca: trustme.CA
    ca_pem: Path
    cert_pem: Path
    key_pem: Path

    @classmethod
    def create(cls, directory: Path, *hosts: str) -> Tls:
        ca = trustme.CA()
        cert = ca.issue_cert(*(hosts or ("127.0.0.1", "localhost")))
        directory.mkdir(parents=True, exist_ok=True)
        ca_pem, cert_pem, key_pem = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
        ca.cert_pem.write_to_path(str(ca_pem))
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_pem))
        cert.private_key_pem.write_to_path(str(key_pem))
        return cls(ca, ca_pem, cert_pem, key_pem)

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


@contextlib.contextmanager
def serve_app(app: Starlette, tls: Tls | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port; yields its base URL."""
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(tls.cert_pem) if tls else None,
        ssl_keyfile=str(tls.key_pem) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Idp:
    provider: AadProvider
    base_url: str
    authority: str
    ca_pem: str


@pytest.fixture
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    """The simulator's AAD provider alone, over https with a trustme CA."""
    tls = Tls.create(tmp_path_factory.mktemp("idp-tls"))
    provider = AadProvider(pending_polls=0)  # tests that want a pending poll set it
    with serve_app(Starlette(routes=provider.routes()), tls) as base:
        yield Idp(provider, base, provider.authority(base), str(tls.ca_pem))
