"""Autodiscovery: entry-point order, redirect rules, hop cap, per-pool tokens and the cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.ucwa.auth import UcwaAuth
from app.ucwa.discovery import (
    DiscoveryError,
    FileDiscoveryCache,
    discover,
    discovery_urls,
    sip_domain,
    trust_rules,
)
from app.ucwa.errors import AuthenticationError, TransportError
from app.ucwa.transport import Transport
from tests.helpers.tokens import FakeTokens

CHALLENGE = 'MsRtcOAuth href="https://{host}/WebTicket/oauthtoken",grant_type="password"'
Routes = dict[str, Callable[[httpx.Request], httpx.Response]]


def links(**rels: str) -> httpx.Response:
    return httpx.Response(200, json={"_links": {rel: {"href": href} for rel, href in rels.items()}})


def protected(**rels: str) -> Callable[[httpx.Request], httpx.Response]:
    """A user resource: 401 with a challenge for its host until a token is presented."""

    def answer(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            header = CHALLENGE.format(host=request.url.host)
            return httpx.Response(401, headers={"WWW-Authenticate": header})
        return links(**rels)

    return answer


class Net:
    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        port = f":{request.url.port}" if request.url.port else ""
        key = f"{request.url.scheme}://{request.url.host}{port}{request.url.path}"
        self.seen.append(key)
        route = self.routes.get(key)
        if route is None:
            if request.url.host.startswith("lyncdiscoverinternal"):
                raise httpx.ConnectError("no route", request=request)
            return httpx.Response(404, json={"code": "NotFound"})
        return route(request)


async def _no_sleep(_: float) -> None:
    return None


def transport(net: Net, tokens: FakeTokens | None = None) -> tuple[httpx.AsyncClient, Transport]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(net))
    return http, Transport(
        http,
        UcwaAuth(tokens or FakeTokens(), allowed=lambda _: True),
        sleep=_no_sleep,
        max_attempts=1,
    )


APPS = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications"
USER = "https://lyncweb.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user"


@pytest.mark.anyio
async def test_internal_first_then_external_then_user_with_token() -> None:
    net = Net(
        {
            "https://lyncdiscover.contoso.com/": lambda r: links(user=USER + "?originalDomain=x"),
            USER: protected(applications=APPS),
        }
    )
    tokens = FakeTokens()
    http, t = transport(net, tokens)
    async with http:
        found = await discover(t, address="alice@contoso.com")
    assert found.applications_url == APPS
    assert net.seen[0] == "https://lyncdiscoverinternal.contoso.com/"
    assert net.seen[1] == "https://lyncdiscover.contoso.com/"
    assert [c.resource for c in tokens.challenges] == ["https://lyncweb.contoso.com"]


@pytest.mark.anyio
async def test_internal_404_falls_back_to_external() -> None:
    net = Net(
        {
            "https://lyncdiscoverinternal.contoso.com/": lambda r: httpx.Response(404),
            "https://lyncdiscover.contoso.com/": lambda r: links(user=USER),
            USER: protected(applications=APPS),
        }
    )
    http, t = transport(net)
    async with http:
        assert (await discover(t, address="alice@contoso.com")).applications_url == APPS


@pytest.mark.anyio
async def test_nothing_answers_says_which_domain() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    net = Net({"https://lyncdiscover.contoso.com/": down})
    http, t = transport(net)
    async with http:
        with pytest.raises(TransportError, match=r"contoso\.com"):
            await discover(t, address="alice@contoso.com")


ROOT = "https://lyncweb.contoso.com/autodiscover/root"


@pytest.mark.anyio
async def test_redirect_within_the_domain_is_followed_and_retokened() -> None:
    pool2_user = "https://pool2.contoso.com/root/oauth/user"
    pool2_apps = "https://pool2.contoso.com/ucwa/oauth/v1/applications"
    net = Net(
        {
            ROOT: lambda r: links(user=USER),
            USER: protected(redirect="https://pool2.contoso.com/root"),
            "https://pool2.contoso.com/root": lambda r: links(user=pool2_user),
            pool2_user: protected(applications=pool2_apps),
        }
    )
    tokens = FakeTokens()
    http, t = transport(net, tokens)
    async with http:
        found = await discover(t, discovery_url=ROOT)
    assert found.applications_url == pool2_apps and found.hops == 1
    # A new pool means a new token for it; the old one is never sent there.
    assert [c.resource for c in tokens.challenges] == [
        "https://lyncweb.contoso.com",
        "https://pool2.contoso.com",
    ]


@pytest.mark.anyio
async def test_redirect_to_another_domain_is_refused_unless_allowed() -> None:
    net = Net(
        {
            ROOT: lambda r: links(redirect="https://evil.example/root"),
            "https://evil.example/root": lambda r: links(user="https://evil.example/user"),
            "https://evil.example/user": protected(applications="https://evil.example/apps"),
        }
    )
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError, match=r"evil\.example"):
            await discover(t, discovery_url=ROOT)
        assert "https://evil.example/root" not in net.seen
        found = await discover(t, discovery_url=ROOT, allowed_domains=["evil.example"])
    assert found.applications_url == "https://evil.example/apps"


@pytest.mark.anyio
async def test_plain_http_redirect_is_refused_except_on_loopback() -> None:
    net = Net({ROOT: lambda r: links(redirect="http://pool2.contoso.com/root")})
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError, match="unencrypted"):
            await discover(t, discovery_url=ROOT)

    local = "http://127.0.0.1:8080/root"
    net = Net(
        {
            local: lambda r: httpx.Response(302, headers={"Location": "/root2"}),
            "http://127.0.0.1:8080/root2": lambda r: links(user="http://127.0.0.1:8080/user"),
            "http://127.0.0.1:8080/user": protected(applications="http://127.0.0.1:8080/apps"),
        }
    )
    http, t = transport(net)
    async with http:
        found = await discover(t, discovery_url=local)
    assert found.applications_url == "http://127.0.0.1:8080/apps"


@pytest.mark.anyio
async def test_redirect_loops_stop_after_five_hops() -> None:
    net = Net(
        {
            ROOT: lambda r: links(redirect="https://a.contoso.com/root"),
            "https://a.contoso.com/root": lambda r: links(redirect=ROOT),
        }
    )
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError, match="more than 5"):
            await discover(t, discovery_url=ROOT)
    assert len(net.seen) == 6


def test_addresses() -> None:
    assert discovery_urls("Alice@Contoso.com") == [
        "https://lyncdiscoverinternal.contoso.com",
        "https://lyncdiscover.contoso.com",
    ]
    assert sip_domain("sip:bob@fabrikam.com") == "fabrikam.com"
    for bad in ("", "alice", "@contoso.com", "alice@localhost"):
        with pytest.raises(DiscoveryError):
            sip_domain(bad)


def test_file_cache_round_trip_and_bounds(tmp_path: Path) -> None:
    cache = FileDiscoveryCache(tmp_path / "state" / "discovery.json")
    assert cache.load("alice@contoso.com") is None
    cache.store("alice@contoso.com", APPS)
    assert FileDiscoveryCache(cache.path).load("alice@contoso.com") == APPS
    for i in range(40):
        cache.store(f"http://127.0.0.1:{i}/root", f"http://127.0.0.1:{i}/apps")
    assert len(cache._read()) == FileDiscoveryCache.MAX_ENTRIES
    assert cache.load("http://127.0.0.1:39/root") == "http://127.0.0.1:39/apps"
    cache.forget("http://127.0.0.1:39/root")
    assert cache.load("http://127.0.0.1:39/root") is None


def test_file_cache_ignores_garbage(tmp_path: Path) -> None:
    path = tmp_path / "discovery.json"
    path.write_text("{not json", encoding="utf-8")
    cache = FileDiscoveryCache(path)
    assert cache.load("x") is None
    cache.store("x", "https://y/apps")
    assert cache.load("x") == "https://y/apps"


def test_file_cache_defaults_to_the_state_dir(tmp_path: Path) -> None:
    # tests/conftest.py points XDG_STATE_HOME into tmp_path.
    assert str(FileDiscoveryCache().path).startswith(str(tmp_path))


@pytest.mark.anyio
async def test_user_and_applications_links_get_the_trust_check() -> None:
    # A root that names a foreign user resource: following it would send the password there.
    net = Net(
        {
            ROOT: lambda r: links(user="https://lyncpool.attacker.net/user"),
            "https://lyncpool.attacker.net/user": protected(applications=APPS),
        }
    )
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError, match=r"attacker\.net"):
            await discover(t, discovery_url=ROOT)
    assert "https://lyncpool.attacker.net/user" not in net.seen

    net = Net({ROOT: lambda r: links(applications="https://evil.example/apps")})
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError, match=r"evil\.example"):
            await discover(t, discovery_url=ROOT)


def test_a_public_suffix_is_never_trusted() -> None:
    rules = trust_rules(discovery_url="https://contoso.co.uk/autodiscover/root")
    assert rules.allows("https://contoso.co.uk")
    assert not rules.allows("https://evil.co.uk")  # "co.uk" is not the organisation
    assert trust_rules(discovery_url="https://lyncweb.contoso.co.uk/root").allows(
        "https://pool2.contoso.co.uk"
    )
    assert not trust_rules(discovery_url="https://lyncdiscover.com.au/").allows(
        "https://evil.com.au"
    )
    contoso = trust_rules(discovery_url=ROOT)
    assert contoso.allows("https://pool2.contoso.com")
    # This machine is trusted only when discovery starts on it (docs/protocol.md §3.4).
    assert not contoso.allows("http://127.0.0.1:80")
    assert not contoso.allows("http://pool2.contoso.com")  # plain HTTP off this machine
    assert not contoso.allows("https://contoso.com.evil.example")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "internal",
    [
        lambda r: links(redirect="https://elsewhere.example/root"),  # cross-domain redirect
        lambda r: httpx.Response(200, html="<html>captive portal</html>"),  # 200, not JSON
    ],
    ids=["cross-domain", "html"],
)
async def test_internal_discovery_that_misleads_falls_back_to_external(
    internal: Callable[[httpx.Request], httpx.Response],
) -> None:
    net = Net(
        {
            "https://lyncdiscoverinternal.contoso.com/": internal,
            "https://lyncdiscover.contoso.com/": lambda r: links(user=USER),
            USER: protected(applications=APPS),
        }
    )
    http, t = transport(net)
    async with http:
        assert (await discover(t, address="alice@contoso.com")).applications_url == APPS


@pytest.mark.anyio
async def test_an_http_discovery_url_for_a_real_server_is_refused_before_anything_is_sent() -> None:
    net = Net({})
    http, t = transport(net)
    async with http:
        with pytest.raises(DiscoveryError) as refused:
            await discover(t, discovery_url="http://lync.contoso.com/autodiscover/root")
    assert net.seen == []
    message = str(refused.value)
    assert "http://lync.contoso.com" in message and "password" in message and "https" in message
    with pytest.raises(DiscoveryError, match="plain http"):
        trust_rules(discovery_url="http://lync.contoso.com/autodiscover/root")


def test_plain_http_is_accepted_only_for_a_server_on_this_machine() -> None:
    assert trust_rules(discovery_url="http://127.0.0.1:8080/root").allows("http://127.0.0.1:8080")
    assert trust_rules(discovery_url="http://localhost:8080/root").allows("http://localhost:8080")
    assert trust_rules(discovery_url="http://[::1]:8080/root").allows("http://[::1]:8080")


def test_a_loopback_token_url_is_trusted_only_when_discovery_is_on_this_machine() -> None:
    real = trust_rules(discovery_url=ROOT)
    reason = real.refusal("http://127.0.0.1:4000/WebTicket/oauthtoken")
    assert reason is not None and "127.0.0.1" in reason
    assert not real.allows("https://localhost/WebTicket/oauthtoken")
    assert not trust_rules(address="alice@contoso.com").allows("http://localhost:80")
    # The realistic simulator's pool: discovery on 127.0.0.1, the pool on localhost.
    local = trust_rules(discovery_url="http://127.0.0.1:8080/root")
    assert local.allows("http://localhost:8080/WebTicket/oauthtoken")


@pytest.mark.anyio
async def test_a_real_server_naming_a_loopback_token_url_gets_no_password() -> None:
    def user(request: httpx.Request) -> httpx.Response:
        header = 'MsRtcOAuth href="http://127.0.0.1:9/WebTicket/oauthtoken",grant_type="password"'
        return httpx.Response(401, headers={"WWW-Authenticate": header})

    net = Net({ROOT: lambda r: links(user=USER), USER: user})
    tokens = FakeTokens()
    http = httpx.AsyncClient(transport=httpx.MockTransport(net))
    rules = trust_rules(discovery_url=ROOT)
    t = Transport(http, UcwaAuth(tokens, allowed=rules.allows), sleep=_no_sleep, max_attempts=1)
    async with http:
        with pytest.raises(AuthenticationError, match=r"127\.0\.0\.1") as refused:
            await discover(t, discovery_url=ROOT, rules=rules)
    assert refused.value.code == "UntrustedServer"
    assert tokens.challenges == []
