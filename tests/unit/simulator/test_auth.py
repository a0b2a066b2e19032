"""Discovery, the web-ticket grant, challenges, token expiry and the redirect modes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from tests.unit.simulator.conftest import ORIGIN, PASSWORD, USER, Ucwa, assert_ucwa_error

pytestmark = pytest.mark.anyio

ROOT = "/autodiscover/autodiscoverservice.svc/root"


def client(sim: Simulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(sim.asgi), base_url=ORIGIN)


async def test_discovery_hrefs_are_absolute_and_user_challenges(http: httpx.AsyncClient) -> None:
    root = (await http.get(ROOT)).json()
    user = root["_links"]["user"]["href"]
    assert user == ORIGIN + ROOT + "/oauth/user"
    response = await http.get(user)
    assert response.status_code == 401
    challenges = response.headers.get_list("www-authenticate")
    assert challenges[0] == (
        f'MsRtcOAuth href="{ORIGIN}/WebTicket/oauthtoken",'
        'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"'
    )
    assert challenges[1].startswith("Bearer trusted_issuers=")
    assert "authorization_uri" not in challenges[1]


async def test_paths_are_case_insensitive(http: httpx.AsyncClient) -> None:
    assert (await http.get("/Autodiscover/AutodiscoverService.svc/root")).status_code == 200
    grant = {"grant_type": "password", "username": USER, "password": PASSWORD}
    assert (await http.post("/WEBTICKET/OAuthToken", data=grant)).status_code == 200


async def test_token_grant_errors(http: httpx.AsyncClient) -> None:
    url = "/WebTicket/oauthtoken"
    wrong = await http.post(url, data={"grant_type": "password", "username": USER, "password": "x"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant"}
    assert "x-ms-diagnostics" in wrong.headers
    unknown = await http.post(
        url, data={"grant_type": "password", "username": "eve@x", "password": "x"}
    )
    assert unknown.json() == {"error": "invalid_grant"}
    other = await http.post(url, data={"grant_type": "urn:microsoft.rtc:windows"})
    assert other.json() == {"error": "unsupported_grant_type"}
    as_json = await http.post(url, json={"grant_type": "password"})
    assert as_json.status_code == 400 and as_json.json() == {"error": "invalid_request"}


async def test_token_response_shape(http: httpx.AsyncClient) -> None:
    grant = {"grant_type": "password", "username": "ALICE@contoso.com", "password": PASSWORD}
    response = await http.post("/WebTicket/oauthtoken", data=grant)
    body = response.json()
    assert body["access_token"].startswith("cwt=")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 8 * 3600
    assert response.headers["cache-control"] == "no-store"


async def test_expired_token_is_challenged_but_the_application_survives() -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.1, token_lifetime_s=0.3))
    async with client(sim) as http:
        ucwa = Ucwa(http)
        await ucwa.sign_in()
        await asyncio.sleep(0.35)
        me = ucwa.link("me", "self")
        denied = await ucwa.get(me)
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("MsRtcOAuth")
        grant = {"grant_type": "password", "username": USER, "password": PASSWORD}
        ucwa.token = (await http.post("/WebTicket/oauthtoken", data=grant)).json()["access_token"]
        assert (await ucwa.get(me)).status_code == 200
    sim.close()


async def test_expire_tokens_fault(ucwa: Ucwa, sim: Simulator) -> None:
    sim.faults.expire_tokens()
    assert (await ucwa.get(ucwa.link("me", "self"))).status_code == 401
    assert (await ucwa.get(ucwa.next_url)).status_code == 401  # the P-GET too


async def test_missing_or_garbage_authorization_is_challenged(ucwa: Ucwa) -> None:
    me = ucwa.url(ucwa.link("me", "self"))
    for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                   {"Authorization": "Bearer cwt=forged"}):  # fmt: skip
        response = await ucwa.http.get(me, headers=header)
        assert response.status_code == 401
        assert "MsRtcOAuth" in response.headers["www-authenticate"]


async def test_plugged_in_validator_tokens_are_accepted() -> None:
    sim = Simulator(SimConfig(aad_authority="http://127.0.0.1:9/tenant"))
    sim.add_token_validator(lambda token: USER if token == "aad-token" else None)
    async with client(sim) as http:
        denied = await http.get(ROOT + "/oauth/user")
        bearer = denied.headers.get_list("www-authenticate")[1]
        assert 'authorization_uri="http://127.0.0.1:9/tenant/oauth2/authorize"' in bearer
        assert 'client_id="' in bearer
        ok = await http.get(ROOT + "/oauth/user", headers={"Authorization": "Bearer aad-token"})
        assert ok.status_code == 200
    sim.close()


async def test_extra_routes_are_served_first() -> None:
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("idp")

    sim = Simulator()
    sim.add_routes([Route("/aad/hello", hello)])
    async with client(sim) as http:
        assert (await http.get("/aad/hello")).text == "idp"
        assert [r.path for r in sim.request_log] == ["/aad/hello"]
    sim.close()


@pytest.mark.parametrize("mode", ["root", "user"])
async def test_pool_redirect_leads_to_a_working_user(mode: str) -> None:
    sim = Simulator(SimConfig(redirect=mode))  # type: ignore[arg-type]
    async with client(sim) as http:
        grant = {"grant_type": "password", "username": USER, "password": PASSWORD}
        token = (await http.post("/WebTicket/oauthtoken", data=grant)).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        url, hops = ORIGIN + ROOT, 0
        while True:
            doc = (await http.get(url, headers=auth)).json()
            links = doc["_links"]
            if "redirect" in links:
                url, hops = links["redirect"]["href"], hops + 1
                continue
            if "applications" in links:
                break
            url = links["user"]["href"]
        assert hops == 1
        assert "/pool2/" in url
    sim.close()


async def test_redirect_loop_never_ends() -> None:
    sim = Simulator(SimConfig(redirect="loop"))
    async with client(sim) as http:
        url = ORIGIN + ROOT
        seen = []
        for _ in range(6):
            url = (await http.get(url)).json()["_links"]["redirect"]["href"]
            seen.append(url)
        assert len(set(seen)) == 2
    sim.close()


async def test_error_bodies_carry_diagnostics(ucwa: Ucwa) -> None:
    response = await ucwa.get(ucwa.app["_links"]["self"]["href"] + "/nothing-here")
    assert_ucwa_error(response, 404, "NotFound")
