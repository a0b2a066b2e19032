"""WebTicketProvider: the password grant, caching, silent renewal and what each failure says."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.auth.errors import (
    AccountLocked,
    AuthError,
    InteractionRequired,
    InvalidCredentials,
    PasswordExpired,
    ProviderError,
    ProviderUnreachable,
    UntrustedCertificate,
)
from app.auth.store import Kind, TokenStore
from app.auth.webticket import WebTicketProvider
from tests.helpers.authfixtures import Tls, serve_app

USER, PASSWORD = "alice@contoso.com", "demo-password"
BASE = "http://127.0.0.1:4443"


@dataclass(frozen=True)
class Challenge:
    """Shaped like app.ucwa.auth.AuthChallenge; the provider reads it by duck typing."""

    token_url: str | None = f"{BASE}/WebTicket/oauthtoken"
    scheme: str = "MsRtcOAuth"
    grant_types: tuple[str, ...] = ("urn:microsoft.rtc:windows", "password")
    resource: str = BASE
    params: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


class TokenServer:
    """A web-ticket endpoint: answers the password grant, or whatever a test sets in `answer`."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.answer: Callable[[], Response] | None = None
        self.lifetime = 3600
        self.app = Starlette(routes=[Route("/WebTicket/oauthtoken", self.token, methods=["POST"])])

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        self.forms.append(form)
        if self.answer is not None:
            return self.answer()
        if form.get("grant_type") != "password" or form.get("password") != PASSWORD:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        n = len(self.forms)
        body = {
            "access_token": f"cwt=TOKEN{n}",
            "token_type": "Bearer",
            "expires_in": self.lifetime,
        }
        return JSONResponse(body)


@pytest.fixture
def server() -> TokenServer:
    return TokenServer()


@pytest.fixture
async def http(server: TokenServer):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(server.app)) as client:
        yield client


def memory_store() -> TokenStore:
    import keyring.backends.fail

    return TokenStore(keyring.backends.fail.Keyring())


@pytest.mark.anyio
async def test_password_grant_form_and_cached_token(server: TokenServer, http) -> None:
    provider = WebTicketProvider(http, USER, PASSWORD)
    assert await provider.get_token(Challenge()) == "cwt=TOKEN1"
    assert await provider.get_token(Challenge()) == "cwt=TOKEN1"
    assert server.forms == [{"grant_type": "password", "username": USER, "password": PASSWORD}]


@pytest.mark.anyio
async def test_a_rejected_token_is_never_returned_again(server: TokenServer, http) -> None:
    provider = WebTicketProvider(http, USER, PASSWORD)
    first = await provider.get_token(Challenge())
    second = await provider.get_token(Challenge(), stale=first)
    assert second != first and len(server.forms) == 2


@pytest.mark.anyio
async def test_without_a_password_an_expired_token_asks_the_user(server: TokenServer, http) -> None:
    store = memory_store()
    await WebTicketProvider(http, USER, PASSWORD, store=store).get_token(Challenge())
    later = WebTicketProvider(http, USER, store=store)  # a restart: no password this run
    token = await later.get_token(Challenge())
    assert token == "cwt=TOKEN1" and len(server.forms) == 1  # still valid: silent
    with pytest.raises(InteractionRequired) as caught:
        await later.get_token(Challenge(), stale=token)
    assert "password" in caught.value.user_message

    asked: list[str] = []

    async def prompt(user: str) -> str:
        asked.append(user)
        return PASSWORD

    prompted = WebTicketProvider(http, USER, store=store, password_prompt=prompt)
    assert await prompted.get_token(Challenge(), stale=token) == "cwt=TOKEN2"
    assert asked == [USER]


@pytest.mark.anyio
async def test_remembered_password_renews_silently_and_is_dropped_when_it_stops_working(
    server: TokenServer, http
) -> None:
    store = memory_store()
    first = WebTicketProvider(http, USER, PASSWORD, store=store, remember_password=True)
    token = await first.get_token(Challenge())
    assert store.get(Kind.PASSWORD, USER) == PASSWORD

    restarted = WebTicketProvider(http, USER, store=store, remember_password=True)
    assert await restarted.get_token(Challenge(), stale=token) == "cwt=TOKEN2"
    assert store.get(Kind.PASSWORD, USER) == PASSWORD

    server.answer = lambda: JSONResponse({"error": "invalid_grant"}, status_code=400)
    with pytest.raises(InvalidCredentials):
        await WebTicketProvider(http, USER, store=store).get_token(Challenge(), stale="cwt=TOKEN2")
    assert store.get(Kind.PASSWORD, USER) is None  # the password changed: ask next time


@pytest.mark.anyio
async def test_unticking_remember_password_removes_it_at_the_next_sign_in(
    server: TokenServer, http
) -> None:
    store = memory_store()
    await WebTicketProvider(http, USER, PASSWORD, store=store, remember_password=True).get_token(
        Challenge()
    )
    assert store.get(Kind.PASSWORD, USER) == PASSWORD
    await WebTicketProvider(http, USER, PASSWORD, store=store).get_token(
        Challenge(), stale="cwt=TOKEN1"
    )
    assert store.get(Kind.PASSWORD, USER) is None


@pytest.mark.anyio
async def test_renews_early_five_minutes_before_the_end(server: TokenServer, http) -> None:
    now = [1_000_000.0]
    provider = WebTicketProvider(http, USER, PASSWORD, clock=lambda: now[0])
    assert await provider.get_token(Challenge()) == "cwt=TOKEN1"
    now[0] += 3600 - 301
    assert not provider.renewal_due("cwt=TOKEN1")
    assert await provider.get_token(Challenge()) == "cwt=TOKEN1"
    now[0] += 1
    assert provider.renewal_due("cwt=TOKEN1")
    assert await provider.get_token(Challenge()) == "cwt=TOKEN2"
    assert not provider.renewal_due("cwt=TOKEN2") and not provider.renewal_due("cwt=unknown")


@pytest.mark.anyio
async def test_concurrent_requests_share_one_grant(server: TokenServer, http) -> None:
    provider = WebTicketProvider(http, USER, PASSWORD)
    tokens = await asyncio.gather(*(provider.get_token(Challenge()) for _ in range(5)))
    assert set(tokens) == {"cwt=TOKEN1"} and len(server.forms) == 1


def _answer(status: int, body: dict[str, object], **headers: str) -> Callable[[], Response]:
    return lambda: Response(json.dumps(body), status, headers, media_type="application/json")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (_answer(400, {"error": "invalid_grant"}), InvalidCredentials, "password is not correct"),
        (
            _answer(
                400,
                {"error": "invalid_grant"},
                **{"X-Ms-Diagnostics": '28000;reason="AccountLocked"'},
            ),
            AccountLocked,
            "locked",
        ),
        (
            _answer(403, {"code": "Forbidden", "subcode": "PasswordExpired"}),
            PasswordExpired,
            "expired",
        ),
        (
            _answer(400, {"error": "invalid_grant", "ms_rtc_passiveauthuri": "https://x/Passive"}),
            InteractionRequired,
            "Azure AD",
        ),
        (_answer(400, {"error": "unsupported_grant_type"}), ProviderError, "Azure AD"),
        (_answer(503, {}), ProviderUnreachable, "try again"),
        (_answer(400, {"error": "server_error"}), ProviderError, "server_error"),
    ],
)
async def test_server_answers_map_to_errors_that_say_what_to_do(
    server: TokenServer, http, answer, error, words: str
) -> None:
    server.answer = answer
    with pytest.raises(error) as caught:
        await WebTicketProvider(http, USER, PASSWORD).get_token(Challenge())
    assert words.lower() in caught.value.user_message.lower()
    assert PASSWORD not in caught.value.user_message


@pytest.mark.anyio
async def test_a_server_that_offers_no_password_grant_is_refused_before_sending(
    server: TokenServer, http
) -> None:
    challenge = Challenge(grant_types=("urn:microsoft.rtc:passive",))
    with pytest.raises(ProviderError, match="Azure AD"):
        await WebTicketProvider(http, USER, PASSWORD).get_token(challenge)
    assert server.forms == []


@pytest.mark.anyio
async def test_the_password_never_travels_unencrypted_to_another_machine(http) -> None:
    challenge = Challenge(token_url="http://lyncweb.contoso.com/WebTicket/oauthtoken")
    with pytest.raises(ProviderError, match="unencrypted"):
        await WebTicketProvider(http, USER, PASSWORD).get_token(challenge)


@pytest.mark.anyio
async def test_unreachable_server_names_the_host() -> None:
    async with httpx.AsyncClient() as http:
        challenge = Challenge(token_url="http://127.0.0.1:9/WebTicket/oauthtoken")
        with pytest.raises(ProviderUnreachable) as caught:
            await WebTicketProvider(http, USER, PASSWORD).get_token(challenge)
    assert "127.0.0.1" in caught.value.user_message
    assert not isinstance(caught.value, UntrustedCertificate)


@pytest.mark.anyio
async def test_untrusted_certificate_names_the_host_and_never_suggests_turning_checks_off(
    server: TokenServer, tmp_path
) -> None:
    tls = Tls.create(tmp_path)
    with serve_app(server.app, tls) as base:
        async with httpx.AsyncClient() as http:  # system CAs only: the test CA is unknown
            with pytest.raises(UntrustedCertificate) as caught:
                await WebTicketProvider(http, USER, PASSWORD).get_token(
                    Challenge(token_url=f"{base}/WebTicket/oauthtoken", resource=base)
                )
        message = caught.value.user_message
        assert "127.0.0.1" in message and "CA bundle" in message
        assert "verif" not in message.lower() and "disable" not in message.lower()
        async with httpx.AsyncClient(verify=tls.client_context()) as trusted:
            token = await WebTicketProvider(trusted, USER, PASSWORD).get_token(
                Challenge(token_url=f"{base}/WebTicket/oauthtoken", resource=base)
            )
        assert token.startswith("cwt=")


def _gzip_bomb(decoded_mib: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"0" * (1024 * 1024)
    return b"".join([*(z.compress(block) for _ in range(decoded_mib)), z.flush()])


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["gzip_bomb", "html", "deep"])
async def test_a_hostile_token_answer_is_a_sign_in_error_at_a_bounded_cost(
    server: TokenServer, http, kind: str
) -> None:
    bomb = _gzip_bomb(128)
    answers = {
        "gzip_bomb": lambda: Response(
            bomb, 200, headers={"Content-Encoding": "gzip"}, media_type="application/json"
        ),
        "html": lambda: Response(b"<html>Proxy login</html>", 200, media_type="text/html"),
        "deep": lambda: Response(b"[" * 100_000, 400, media_type="application/json"),
    }
    server.answer = answers[kind]
    tracemalloc.start()
    try:
        with pytest.raises(AuthError) as caught:
            await WebTicketProvider(http, USER, PASSWORD).get_token(Challenge())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert caught.value.user_message
    assert PASSWORD not in caught.value.user_message
