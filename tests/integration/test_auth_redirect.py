"""The Authorization header and the password never reach a host other than their own."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import keyring.backends.fail
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.settings import Settings
from app.ucwa.auth import UcwaAuth
from tests.helpers.authfixtures import serve_app

PASSWORD = "Redirect-Pw-31c"


class TwoHosts:
    """One server reachable as 127.0.0.1 and as localhost: two origins, one process."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # (host, path, authorization)
        self.port = 0
        self.app = Starlette(
            routes=[
                Route("/ucwa/start", self.start),
                Route("/ucwa/moved", self.moved),
                Route("/WebTicket/oauthtoken", self.token, methods=["POST"]),
            ]
        )

    def _see(self, request: Request) -> str | None:
        auth = request.headers.get("authorization")
        self.seen.append((request.url.hostname or "", request.url.path, auth))
        return auth

    async def start(self, request: Request) -> Response:
        if self._see(request) != "Bearer cwt=for-127":
            challenge = 'MsRtcOAuth href="/WebTicket/oauthtoken",grant_type="password"'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        # A cross-host redirect, as a hostile or misconfigured pool might send.
        return RedirectResponse(f"http://localhost:{self.port}/ucwa/moved", status_code=302)

    async def moved(self, request: Request) -> Response:
        self._see(request)
        return JSONResponse({"ok": True})

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self.seen.append((request.url.hostname or "", request.url.path, form.get("password")))
        return JSONResponse({"access_token": "cwt=for-127", "expires_in": 3600})


@pytest.mark.anyio
async def test_a_cross_host_redirect_drops_the_authorization_header() -> None:
    hosts = TwoHosts()
    with serve_app(hosts.app) as base:
        hosts.port = int(base.rsplit(":", 1)[1])
        settings = Settings(discovery_url=f"{base}/ucwa/start", user="alice@contoso.com")
        async with httpx.AsyncClient(follow_redirects=True) as http:
            store = TokenStore(keyring.backends.fail.Keyring())
            service = SignInService(settings, http, store=store, password=PASSWORD)
            response = await http.get(f"{base}/ucwa/start", auth=UcwaAuth(service))
    assert response.status_code == 200
    assert ("localhost", "/ucwa/moved", None) in hosts.seen
    assert all(auth is None for host, _, auth in hosts.seen if host == "localhost")
    assert ("127.0.0.1", "/WebTicket/oauthtoken", PASSWORD) in hosts.seen
    assert ("127.0.0.1", "/ucwa/start", "Bearer cwt=for-127") in hosts.seen
