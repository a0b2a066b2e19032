"""Sign-in against the realistic simulator: the user is homed on a pool under another host name
(127.0.0.1 → localhost) with its own token realm; tokens are renewed before they expire."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import keyring.backends.fail
import pytest

from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.settings import Settings
from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa.discovery import MemoryDiscoveryCache
from app.ucwa.session import UcwaSession

TOKEN_PATH = "/WebTicket/oauthtoken"


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(profile="realistic", speed=50, max_poll_s=0.5)


@pytest.fixture
def realistic_server(sim: Simulator) -> Iterator[SimServer]:
    with SimServer(sim) as server:  # listens on 127.0.0.1; its pool is localhost, same port
        yield server


def _service(http: httpx.AsyncClient, server: SimServer, user: str, **kw: object) -> SignInService:
    settings = Settings(discovery_url=server.discovery_url, user=user, method="webticket")
    store = TokenStore(keyring.backends.fail.Keyring())  # nothing outlives the test
    return SignInService(settings, http, store=store, **kw)  # type: ignore[arg-type]


def _session(http: httpx.AsyncClient, tokens: SignInService, server: SimServer) -> UcwaSession:
    return UcwaSession(
        http,
        tokens,
        discovery_url=server.discovery_url,
        endpoint_id="pool-test",
        discovery_cache=MemoryDiscoveryCache(),
    )


def _log(server: SimServer) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in server.sim.request_log]


@pytest.mark.anyio
async def test_sign_in_follows_the_pool_on_another_host_and_signs_in_there_too(
    realistic_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    port = httpx.URL(realistic_server.base_url).port
    home, pool = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    async with httpx.AsyncClient(timeout=10.0) as http:
        tokens = _service(http, realistic_server, user, password=password)
        session = _session(http, tokens, realistic_server)
        try:
            await session.sign_in()
            auth = session.transport.auth
            assert auth is not None
            home_token, pool_token = auth.token_for(home), auth.token_for(pool)
            # One ticket per realm, each from its own host's token URL, never mixed up.
            assert home_token and pool_token and home_token != pool_token
            assert tokens.webticket.cached_token(pool) is not None
            assert tokens.webticket.grants == 2
            phones = await session.my_phones()  # served by the pool with the pool's ticket
            assert phones
        finally:
            await session.aclose()


@pytest.mark.anyio
async def test_a_ticket_near_its_end_is_renewed_before_the_server_rejects_it(
    realistic_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    now = [1_000_000.0]
    async with httpx.AsyncClient(timeout=10.0) as http:
        # The sign-in's view of time only: the simulator's tickets stay valid for hours.
        tokens = _service(http, realistic_server, user, password=password, clock=lambda: now[0])
        session = _session(http, tokens, realistic_server)
        try:
            await session.sign_in()
            grants = tokens.webticket.grants
            rejected = sum(1 for _m, _p, status in _log(realistic_server) if status == 401)
            now[0] += SimConfig().token_lifetime_s - 120  # two minutes before the end
            await session.my_phones()
            assert tokens.webticket.grants == grants + 1  # a new ticket for the pool
            after = sum(1 for _m, _p, status in _log(realistic_server) if status == 401)
            assert after == rejected  # no request was refused on the way
        finally:
            await session.aclose()
