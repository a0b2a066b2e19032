"""The realistic user resource sends the user to a pool under another host name, whose token
URL issues tickets only it accepts (the same listening socket serves both names)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.documents import DISCOVERY_PATH
from app.simulator.serve import SimServer
from tests.helpers.ucwa_walker import parse_challenges
from tests.unit.simulator.conftest import PASSWORD, USER

DISCOVERY_HOST = "http://127.0.0.1:8080"
POOL_HOST = "http://localhost:8080"


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(profile="realistic", speed=50, max_poll_s=0.2)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.asgi)) as http:
        yield http


def _token_url(response: httpx.Response) -> str:
    assert response.status_code == 401
    found = [c for c in parse_challenges(response.headers.get_list("www-authenticate"))]
    url = next(c.token_url for c in found if c.scheme == "MsRtcOAuth")
    assert url is not None
    return url


async def _ticket(http: httpx.AsyncClient, token_url: str) -> str:
    grant = {"grant_type": "password", "username": USER, "password": PASSWORD}
    answer = await http.post(token_url, data=grant)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.anyio
async def test_the_user_is_redirected_to_a_pool_on_another_host_with_its_own_tickets(
    client: httpx.AsyncClient,
) -> None:
    root = (await client.get(DISCOVERY_HOST + DISCOVERY_PATH)).json()
    user_url = root["_links"]["user"]["href"]
    assert user_url.startswith(DISCOVERY_HOST)
    home_token_url = _token_url(await client.get(user_url))
    assert home_token_url.startswith(DISCOVERY_HOST)
    home_ticket = await _ticket(client, home_token_url)
    user = (await client.get(user_url, headers=_bearer(home_ticket))).json()
    assert set(user["_links"]) == {"redirect"}
    pool_root_url = user["_links"]["redirect"]["href"]
    assert pool_root_url == POOL_HOST + DISCOVERY_PATH

    pool_user_url = (await client.get(pool_root_url)).json()["_links"]["user"]["href"]
    assert pool_user_url.startswith(POOL_HOST)
    # The discovery host's ticket is not valid on the pool: its challenge names its own URL.
    pool_token_url = _token_url(await client.get(pool_user_url, headers=_bearer(home_ticket)))
    assert pool_token_url.startswith(POOL_HOST + "/")
    pool_ticket = await _ticket(client, pool_token_url)
    pool_user = (await client.get(pool_user_url, headers=_bearer(pool_ticket))).json()
    applications = pool_user["_links"]["applications"]["href"]
    assert applications.startswith(POOL_HOST + "/")
    body = {"userAgent": "tests/1.0", "endpointId": "e-1", "culture": "en-US"}
    created = await client.post(applications, json=body, headers=_bearer(pool_ticket))
    assert created.status_code == 201, created.text

    # Each ticket stays in its own realm, in both directions.
    refused = await client.post(applications, json=body, headers=_bearer(home_ticket))
    assert _token_url(refused).startswith(POOL_HOST + "/")
    elsewhere = DISCOVERY_HOST + httpx.URL(applications).path
    assert _token_url(await client.get(elsewhere, headers=_bearer(pool_ticket))) == home_token_url


@pytest.mark.anyio
async def test_a_discovery_host_that_is_the_pool_itself_does_not_redirect(
    client: httpx.AsyncClient,
) -> None:
    user_url = (await client.get(POOL_HOST + DISCOVERY_PATH)).json()["_links"]["user"]["href"]
    ticket = await _ticket(client, _token_url(await client.get(user_url)))
    user = (await client.get(user_url, headers=_bearer(ticket))).json()
    assert user["_links"]["applications"]["href"].startswith(POOL_HOST + "/")


@pytest.mark.anyio
async def test_permissive_tickets_are_valid_on_every_host_name() -> None:
    sim = Simulator(SimConfig(max_poll_s=0.2))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.asgi)) as http:
            root = (await http.get(DISCOVERY_HOST + DISCOVERY_PATH)).json()
            user_url = root["_links"]["user"]["href"]
            ticket = await _ticket(http, _token_url(await http.get(user_url)))
            user = (await http.get(user_url, headers=_bearer(ticket))).json()
            assert "applications" in user["_links"]
            other = POOL_HOST + httpx.URL(user["_links"]["applications"]["href"]).path
            assert (await http.get(other, headers=_bearer(ticket))).status_code == 200
    finally:
        sim.close()


def test_one_listening_socket_serves_the_discovery_host_and_the_pool(sim: Simulator) -> None:
    with SimServer(sim) as server, httpx.Client(timeout=5) as http:
        assert server.base_url.startswith("http://127.0.0.1:")
        user_url = http.get(server.discovery_url).json()["_links"]["user"]["href"]
        challenge = http.get(user_url)
        grant = {"grant_type": "password", "username": USER, "password": PASSWORD}
        token_url = next(
            c.token_url
            for c in parse_challenges(challenge.headers.get_list("www-authenticate"))
            if c.token_url
        )
        ticket = http.post(token_url, data=grant).json()["access_token"]
        pool_root = http.get(user_url, headers=_bearer(ticket)).json()["_links"]["redirect"]
        assert pool_root["href"] == f"http://localhost:{server.port}{DISCOVERY_PATH}"
        pool_user = http.get(pool_root["href"]).json()["_links"]["user"]["href"]
        assert http.get(pool_user, headers=_bearer(ticket)).status_code == 401
