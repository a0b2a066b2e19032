"""Finding a colleague over UCWA against the simulator's directory: search, numbers, 403."""

from __future__ import annotations

import dataclasses

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState
from app.ucwa.dialing import DialKind
from app.ucwa.errors import SearchNotAllowed
from tests.helpers.clientrig import logged, requests, signed_in_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def sim_config() -> SimConfig:
    # The realistic dial plan: a server that completes only numbers it knows how to complete.
    return SimConfig(speed=50, max_poll_s=0.5, dial_plan=True)


async def test_car_finds_carol_with_both_of_her_numbers(sim_server: SimServer, sim_credentials):
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        found = await c.session.search_people("car")
    names = [p.name for p in found]
    assert {"Carol Diaz", "Carol Nguyen", "Carla Rossi", "Richard Carter"} <= set(names)
    carol = next(p for p in found if p.name == "Carol Diaz")
    assert carol.title == "Engineer 2" and carol.department == "Engineering"
    assert carol.sip_uri == "sip:carol@contoso.com" and "carol@contoso.com" in carol.emails
    assert [(n.kind, n.uri) for n in carol.numbers] == [
        ("work", "tel:+1425554321;ext=54321"),
        ("mobile", "tel:4255551212;phone-context=defaultprofile"),
    ]
    assert carol.numbers[0].target.kind is DialKind.DIAL_STRING


async def test_search_uses_the_learned_link_with_a_bounded_limit(
    sim: Simulator, sim_server: SimServer, sim_credentials
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        found = await c.session.search_people("a", limit=3)
    assert len(found) == 3
    await logged(sim, lambda: requests(sim, "/people/search", "GET"))
    record = next(r for r in sim.request_log if r.path.endswith("/people/search"))
    assert "query=a" in record.query and "limit=3" in record.query


async def test_nobody_found_is_an_empty_list(sim_server: SimServer, sim_credentials) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        assert await c.session.search_people("zzyzx") == []


async def test_person_without_numbers_offers_the_sip_address(
    sim_server: SimServer, sim_credentials
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        found = await c.session.search_people("Uma Shah")
    uma = found[0]
    assert uma.numbers == ()
    [(kind, target)] = uma.choices()
    assert kind == "sip" and target.uri.startswith("sip:") and target.kind is DialKind.SIP


async def test_carols_listed_extension_number_is_really_called(
    sim: Simulator, sim_server: SimServer, sim_credentials
) -> None:
    async with signed_in_client(sim_server.discovery_url, *sim_credentials) as c:
        carol = next(p for p in await c.session.search_people("carol") if p.name == "Carol Diaz")
        await c.session.start_call(carol.numbers[0].target, callback="+14255550123")
        await c.until_state(CallState.CONNECTED, CallState.FAILED, CallState.ENDED, within=15)
        tos = [inv.to for app in sim.apps.values() for inv in app.invitations.values()]
    assert c.session.call.state is not CallState.FAILED, c.session.call.reason
    assert any("1425554321" in to for to in tos), tos


async def test_account_not_allowed_to_search_gets_one_sentence(
    sim_config: SimConfig, sim_credentials
) -> None:
    config = dataclasses.replace(sim_config, no_search_users=frozenset({sim_credentials[0]}))
    simulator = Simulator(config)
    try:
        with SimServer(simulator) as server:
            async with signed_in_client(server.discovery_url, *sim_credentials) as c:
                with pytest.raises(SearchNotAllowed) as caught:
                    await c.session.search_people("carol")
    finally:
        simulator.close()
    assert caught.value.user_message == (
        "Your account is not allowed to search the address book; type a number instead."
    )
