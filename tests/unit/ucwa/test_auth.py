"""WWW-Authenticate parsing and the per-origin, single-flight Bearer auth."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ucwa.auth import AuthChallenge, UcwaAuth, parse_challenges, select_challenge
from app.ucwa.errors import AuthenticationError
from app.ucwa.transport import Transport
from tests.helpers.tokens import FakeTokens

URL = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications"
QUOTED = (
    'MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
    'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"'
)
UNQUOTED = (
    "MsRtcOAuth href=https://contoso.com/WebTicket/oauthtoken,"
    'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"'
)
BEARER = 'Bearer trusted_issuers="00000001-0000-0000-c000-000000000000@*", client_id="00000004"'


def test_quoted_challenge() -> None:
    [challenge] = parse_challenges([QUOTED], URL)
    assert challenge.scheme == "MsRtcOAuth"
    assert challenge.token_url == "https://lyncweb.contoso.com/WebTicket/oauthtoken"
    assert challenge.grant_types == (
        "urn:microsoft.rtc:windows",
        "urn:microsoft.rtc:anonmeeting",
        "password",
    )
    assert challenge.resource == "https://lyncweb.contoso.com"


def test_unquoted_href() -> None:
    [challenge] = parse_challenges([UNQUOTED], URL)
    assert challenge.token_url == "https://contoso.com/WebTicket/oauthtoken"
    assert "password" in challenge.grant_types


def test_unquoted_grant_list_and_relative_href() -> None:
    [challenge] = parse_challenges(
        ["MsRtcOAuth href=/WebTicket/oauthtoken,grant_type=urn:microsoft.rtc:windows,password"],
        URL,
    )
    assert challenge.token_url == "https://lyncweb.contoso.com/WebTicket/oauthtoken"
    assert challenge.grant_types == ("urn:microsoft.rtc:windows", "password")


def test_other_challenges_beside_it_are_ignored_for_the_choice() -> None:
    separate = parse_challenges([BEARER, QUOTED, "Negotiate"], URL)
    assert [c.scheme for c in separate] == ["Bearer", "MsRtcOAuth", "Negotiate"]
    chosen = select_challenge(separate)
    assert chosen is not None and chosen.scheme == "MsRtcOAuth"
    combined = parse_challenges([f"{BEARER}, {QUOTED}"], URL)
    assert [c.scheme for c in combined] == ["Bearer", "MsRtcOAuth"]
    assert combined[0].params["client_id"] == "00000004"
    assert combined[1].grant_types[-1] == "password"


def test_bearer_alone_carries_its_parameters() -> None:
    header = 'Bearer authorization_uri="https://login.example/authorize", client_id="abc"'
    chosen = select_challenge(parse_challenges([header], URL))
    assert chosen is not None
    assert chosen.token_url is None
    assert chosen.params["authorization_uri"] == "https://login.example/authorize"


class Server:
    """Accepts exactly the tokens in ``valid`` per host; challenges everything else."""

    def __init__(self) -> None:
        self.valid: dict[str, set[str]] = {}
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        self.seen.append((request.url.host, auth))
        token = auth.removeprefix("Bearer ") if auth else None
        if token in self.valid.get(request.url.host, set()):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(
            401,
            headers=[("WWW-Authenticate", BEARER), ("WWW-Authenticate", QUOTED)],
            text="<html>401</html>",
        )


def client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(server))


@pytest.mark.anyio
async def test_first_401_fetches_a_token_and_retries_once() -> None:
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    tokens = FakeTokens()
    async with client(server) as http:
        auth = UcwaAuth(tokens, allowed=_any)
        first = await http.get("https://a.example/x", auth=auth)
        second = await http.get("https://a.example/y", auth=auth)
    assert first.status_code == second.status_code == 200
    assert server.seen == [
        ("a.example", None),
        ("a.example", "Bearer cwt=1"),
        ("a.example", "Bearer cwt=1"),
    ]
    assert len(tokens.challenges) == 1
    assert tokens.challenges[0].resource == "https://a.example"


@pytest.mark.anyio
async def test_one_refresh_however_many_requests_are_in_flight() -> None:
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    tokens = FakeTokens(delay=0.01)
    async with client(server) as http:
        auth = UcwaAuth(tokens, allowed=_any)
        await http.get("https://a.example/warm", auth=auth)
        server.valid["a.example"] = {"cwt=2"}  # the server expires cwt=1
        answers = await asyncio.gather(
            *(http.get(f"https://a.example/{i}", auth=auth) for i in range(10))
        )
    assert [a.status_code for a in answers] == [200] * 10
    assert tokens.stale == [None, "cwt=1"]  # exactly one refresh, told which token failed
    retried = [s for s in server.seen if s[1] == "Bearer cwt=2"]
    assert len(retried) == 10  # every failed request was retried once


@pytest.mark.anyio
async def test_a_refused_token_is_replaced_once_then_the_401_is_returned_not_looped() -> None:
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    tokens = FakeTokens()
    async with client(server) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_any), sleep=_no_sleep)
        await transport.request("GET", "https://a.example/warm")
        server.valid["a.example"] = set()  # from now on it accepts nothing
        with pytest.raises(AuthenticationError):
            await transport.request("GET", "https://a.example/x")
    assert server.seen[-2:] == [("a.example", "Bearer cwt=1"), ("a.example", "Bearer cwt=2")]
    assert tokens.stale == [None, "cwt=1"]


@pytest.mark.anyio
async def test_a_kept_token_the_server_refuses_is_replaced_by_a_fresh_one() -> None:
    # The provider's first answer in a run may be a token kept from an earlier run (the keyring)
    # that the server no longer takes: it restarted with new keys.
    server = Server()
    server.valid["a.example"] = {"cwt=2"}
    tokens = FakeTokens()  # its first token, cwt=1, stands for the kept one
    async with client(server) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_any), sleep=_no_sleep)
        answer = await transport.request("GET", "https://a.example/x")
    assert answer.status_code == 200
    assert server.seen == [
        ("a.example", None),
        ("a.example", "Bearer cwt=1"),
        ("a.example", "Bearer cwt=2"),
    ]
    assert tokens.stale == [None, "cwt=1"]


@pytest.mark.anyio
async def test_a_server_that_accepts_nothing_is_asked_at_most_three_times() -> None:
    server = Server()  # accepts nothing
    tokens = FakeTokens()
    async with client(server) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_any), sleep=_no_sleep)
        with pytest.raises(AuthenticationError):
            await transport.request("GET", "https://a.example/x")
    assert len(server.seen) == 3  # without a token, with the kept one, with a fresh one
    assert tokens.stale == [None, "cwt=1"]


@pytest.mark.anyio
async def test_token_never_sent_to_another_origin() -> None:
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    server.valid["b.example"] = {"cwt=2"}
    tokens = FakeTokens()
    async with client(server) as http:
        auth = UcwaAuth(tokens, allowed=_any)
        await http.get("https://a.example/x", auth=auth)
        await http.get("https://b.example/x", auth=auth)
        await http.get("http://a.example/x", auth=auth)  # another scheme is another origin
    assert ("b.example", "Bearer cwt=1") not in server.seen
    assert server.seen[2] == ("b.example", None)
    assert [c.resource for c in tokens.challenges] == [
        "https://a.example",
        "https://b.example",
        "http://a.example",  # refused (this server takes none there): asked once more
        "http://a.example",
    ]


@pytest.mark.anyio
async def test_provider_errors_become_authentication_errors() -> None:
    class Locked(Exception):
        user_message = "Your account is locked."

    server = Server()
    async with client(server) as http:
        auth = UcwaAuth(FakeTokens(fail=lambda: Locked("password=hunter2 rejected")), allowed=_any)
        with pytest.raises(AuthenticationError) as caught:
            await http.get("https://a.example/x", auth=auth)
    assert caught.value.user_message == "Your account is locked."
    assert isinstance(caught.value.__cause__, Locked)
    assert "hunter2" not in str(caught.value)


@pytest.mark.anyio
async def test_provider_error_without_message_is_generic() -> None:
    server = Server()
    async with client(server) as http:
        auth = UcwaAuth(FakeTokens(fail=lambda: RuntimeError("secret-stuff")), allowed=_any)
        with pytest.raises(AuthenticationError, match="Sign-in failed") as caught:
            await http.get("https://a.example/x", auth=auth)
    assert "secret-stuff" not in str(caught.value)


async def _no_sleep(_: float) -> None:
    return None


def _any(_: str) -> bool:
    return True


def _contoso(origin: str) -> bool:
    return origin.endswith(".contoso.com")


@pytest.mark.anyio
async def test_a_challenge_from_an_untrusted_server_gets_no_credentials() -> None:
    server = Server()  # challenges with a token URL on its own host
    tokens = FakeTokens()
    async with client(server) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_contoso), sleep=_no_sleep)
        with pytest.raises(AuthenticationError, match="not one of your organisation") as caught:
            await transport.request("GET", "https://lyncpool.attacker.net/ucwa")
    assert caught.value.code == "UntrustedServer"
    assert tokens.challenges == []  # the provider (and so the password) was never involved
    assert len(server.seen) == 1


@pytest.mark.anyio
async def test_a_challenge_naming_an_untrusted_token_url_is_refused() -> None:
    def evil(request: httpx.Request) -> httpx.Response:
        header = 'MsRtcOAuth href="https://evil.example/token",grant_type="password"'
        return httpx.Response(401, headers={"WWW-Authenticate": header})

    tokens = FakeTokens()
    async with httpx.AsyncClient(transport=httpx.MockTransport(evil)) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_contoso), sleep=_no_sleep)
        with pytest.raises(AuthenticationError, match=r"evil\.example"):
            await transport.request("GET", "https://lyncweb.contoso.com/ucwa")
    assert tokens.challenges == []


@pytest.mark.anyio
async def test_the_default_trusts_only_this_machine() -> None:
    server = Server()
    tokens = FakeTokens()
    async with client(server) as http:
        with pytest.raises(AuthenticationError):
            await http.get("https://a.example/x", auth=UcwaAuth(tokens))
    assert tokens.challenges == []


@pytest.mark.anyio
async def test_interactive_sign_in_is_not_cut_off_by_the_request_timeout() -> None:
    """A person typing a password takes longer than one request may: one prompt, then success."""
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    tokens = FakeTokens(delay=0.5)  # far beyond the request's 0.1 s budget
    async with client(server) as http:
        transport = Transport(
            http, UcwaAuth(tokens, allowed=_any), sleep=_no_sleep, timeout_s=0.05, grace_s=0.05
        )
        response = await transport.request("GET", "https://a.example/x")
    assert response.status_code == 200
    assert len(tokens.challenges) == 1  # asked exactly once: no timeout, so no retry, no re-prompt


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="latin-1"), max_size=80), max_size=3))
def test_any_header_text_parses_without_raising(headers: list[str]) -> None:
    for challenge in parse_challenges(headers, URL):
        assert challenge.resource == "https://lyncweb.contoso.com"
    select_challenge(parse_challenges(headers, URL))


def test_a_broken_href_gives_no_token_url() -> None:
    [challenge] = parse_challenges(['MsRtcOAuth href="http://[::1/x",grant_type="password"'], URL)
    assert challenge.token_url is None


def test_a_bearer_challenge_beside_msrtcoauth_lends_its_authority() -> None:
    headers = [
        'MsRtcOAuth href="https://lync.contoso.com/WebTicket/oauthtoken",grant_type="password"',
        'Bearer trusted_issuers="", client_id="00000004-0000-0ff1-ce00-000000000000", '
        'authorization_uri="https://login.example.test/common/oauth2/authorize"',
    ]
    chosen = select_challenge(parse_challenges(headers, "https://lync.contoso.com/x"))
    assert chosen is not None
    assert chosen.scheme == "MsRtcOAuth"
    assert chosen.token_url == "https://lync.contoso.com/WebTicket/oauthtoken"
    assert (
        chosen.params["authorization_uri"] == "https://login.example.test/common/oauth2/authorize"
    )


def _bearer_at(authority: str) -> str:
    return (
        'Bearer client_id="00000004-0000-0ff1-ce00-000000000000", '
        f'authorization_uri="{authority}/common/oauth2/authorize"'
    )


async def _sign_in_with(header: str) -> tuple[FakeTokens, httpx.Response | AuthenticationError]:
    def server(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization"):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, headers={"WWW-Authenticate": header})

    tokens = FakeTokens()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        transport = Transport(http, UcwaAuth(tokens, allowed=_contoso), sleep=_no_sleep)
        try:
            return tokens, await transport.request("GET", "https://lyncweb.contoso.com/ucwa")
        except AuthenticationError as exc:
            return tokens, exc


@pytest.mark.anyio
@pytest.mark.parametrize(
    "authority",
    [
        "https://login.microsoftonline.com",
        "https://login.windows.net",
        "https://login.microsoftonline.us",
        "https://login.partner.microsoftonline.cn",
        "https://login.microsoftonline.de",
        "https://adfs.contoso.com",  # the organisation's own identity provider
    ],
)
async def test_a_bearer_challenge_from_microsoft_or_the_organisation_is_answered(
    authority: str,
) -> None:
    tokens, answer = await _sign_in_with(_bearer_at(authority))
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    assert tokens.challenges[0].params["authorization_uri"].startswith(authority)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("authority", "why"),
    [
        ("https://login.evil.example", "login.evil.example"),
        ("https://login.microsoftonline.com.evil.example", "login.microsoftonline.com.evil"),
        ("http://login.microsoftonline.com", "login.microsoftonline.com"),  # not over TLS
        ("https://127.0.0.1:4443", "127.0.0.1"),  # a real server naming this machine
    ],
)
async def test_a_bearer_challenge_naming_a_foreign_authority_is_refused_with_its_host(
    authority: str, why: str
) -> None:
    tokens, answer = await _sign_in_with(_bearer_at(authority))
    assert isinstance(answer, AuthenticationError)
    assert answer.code == "UntrustedServer"
    assert why in str(answer) and "Microsoft sign-in service" in str(answer)
    assert tokens.challenges == []  # nothing was asked of Azure AD


@pytest.mark.anyio
async def test_a_web_ticket_server_with_a_foreign_authority_beside_it_still_signs_in() -> None:
    header = f"{_bearer_at('https://login.evil.example')}, {QUOTED}"
    tokens, answer = await _sign_in_with(header)
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    [challenge] = tokens.challenges
    assert challenge.scheme == "MsRtcOAuth" and "authorization_uri" not in challenge.params
    # A provider that needs Azure AD learns why there is no authority (the refused host).
    assert challenge.refused_authority is not None
    assert "login.evil.example" in challenge.refused_authority


@pytest.mark.anyio
async def test_a_401_without_a_challenge_uses_the_token_url_learnt_for_that_origin() -> None:
    accepted = {"cwt=1"}
    seen: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        seen.append(auth)
        if auth and auth.removeprefix("Bearer ") in accepted:
            return httpx.Response(200, json={"ok": True})
        if auth is None:
            return httpx.Response(401, headers={"WWW-Authenticate": QUOTED})
        return httpx.Response(401)  # the token expired; this front end sends no challenge

    tokens = FakeTokens()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        auth = UcwaAuth(tokens, allowed=_contoso)
        first = await http.get("https://lyncweb.contoso.com/a", auth=auth)  # challenged: cwt=1
        assert first.status_code == 200
        accepted.clear()
        accepted.add("cwt=2")  # cwt=1 expires
        second = await http.get("https://lyncweb.contoso.com/b", auth=auth)
    assert second.status_code == 200
    assert seen[-2:] == ["Bearer cwt=1", "Bearer cwt=2"]
    assert tokens.stale == [None, "cwt=1"]
    assert tokens.challenges[1].token_url == "https://lyncweb.contoso.com/WebTicket/oauthtoken"


@pytest.mark.anyio
async def test_a_401_without_a_challenge_from_an_origin_never_challenged_stays_a_401() -> None:
    tokens = FakeTokens()
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(401))) as h:
        answer = await h.get("https://lyncweb.contoso.com/a", auth=UcwaAuth(tokens, allowed=_any))
    assert answer.status_code == 401 and tokens.challenges == []


class ExpiringTokens(FakeTokens):
    """FakeTokens whose tokens last `lifetime` seconds of an injected clock (RenewsEarly)."""

    def __init__(self, clock: list[float], lifetime: float) -> None:
        super().__init__()
        self.clock, self.lifetime = clock, lifetime
        self.issued: dict[str, float] = {}

    async def get_token(self, challenge: AuthChallenge, *, stale: str | None = None) -> str:
        token = await super().get_token(challenge, stale=stale)
        self.issued[token] = self.clock[0]
        return token

    def renewal_due(self, token: str) -> bool:
        issued = self.issued.get(token)
        return issued is not None and self.clock[0] >= issued + 0.9 * self.lifetime


@pytest.mark.anyio
async def test_a_token_is_renewed_before_it_expires_without_waiting_for_a_401() -> None:
    clock = [0.0]
    tokens = ExpiringTokens(clock, lifetime=100.0)
    server = Server()
    server.valid["a.example"] = {"cwt=1", "cwt=2"}
    async with client(server) as http:
        auth = UcwaAuth(tokens, allowed=_any)
        await http.get("https://a.example/1", auth=auth)
        clock[0] = 89.0
        await http.get("https://a.example/2", auth=auth)
        clock[0] = 90.0
        await http.get("https://a.example/3", auth=auth)
        await http.get("https://a.example/4", auth=auth)
    assert [seen for _host, seen in server.seen] == [
        None,
        "Bearer cwt=1",
        "Bearer cwt=1",
        "Bearer cwt=2",  # renewed ahead: no 401 on the way
        "Bearer cwt=2",
    ]
    assert tokens.stale == [None, None]


@pytest.mark.anyio
async def test_a_failed_early_renewal_keeps_the_current_token_and_is_not_repeated() -> None:
    clock = [0.0]
    tokens = ExpiringTokens(clock, lifetime=100.0)
    server = Server()
    server.valid["a.example"] = {"cwt=1"}
    async with client(server) as http:
        auth = UcwaAuth(tokens, allowed=_any)
        await http.get("https://a.example/1", auth=auth)
        clock[0] = 95.0
        tokens._fail = lambda: RuntimeError("identity provider down")
        for path in ("2", "3"):
            answer = await http.get(f"https://a.example/{path}", auth=auth)
            assert answer.status_code == 200
    assert len(tokens.challenges) == 2  # the first grant and one early attempt


@pytest.mark.anyio
async def test_a_passive_only_web_ticket_challenge_with_a_foreign_authority_is_refused() -> None:
    passive = (
        'MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
        'grant_type="urn:microsoft.rtc:passive"'
    )
    tokens, answer = await _sign_in_with(f"{_bearer_at('https://login.evil.example')}, {passive}")
    assert isinstance(answer, AuthenticationError) and "login.evil.example" in str(answer)
    assert tokens.challenges == []
