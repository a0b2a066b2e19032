"""people/search and contact: finding a colleague in the simulated address book."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.directory import DIRECTORY
from app.simulator.people import MAX_LIMIT, MAX_QUERY_CHARS
from tests.unit.simulator.conftest import ORIGIN, USER, Ucwa, assert_ucwa_error

pytestmark = pytest.mark.anyio


async def _search(ucwa: Ucwa, **params: object) -> httpx.Response:
    people = (await ucwa.get(ucwa.link("people", "self"))).json()
    return await ucwa.get(people["_links"]["search"]["href"], params=params)


def _names(doc: dict[str, Any]) -> list[str]:
    return [c["name"] for c in doc.get("_embedded", {}).get("contact", [])]


async def test_the_application_links_people_and_its_search(ucwa: Ucwa) -> None:
    people = ucwa.app["_embedded"]["people"]
    assert people["rel"] == "people"
    assert people["_links"]["search"]["href"].endswith("/people/search")
    fetched = await ucwa.get(people["_links"]["self"]["href"])
    assert fetched.status_code == 200
    assert fetched.json()["_links"]["search"] == people["_links"]["search"]


async def test_typing_car_finds_carol_among_others_best_first(ucwa: Ucwa) -> None:
    response = await _search(ucwa, query="car", limit=10)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["rel"] == "search" and doc["moreResultsAvailable"] is False
    names = _names(doc)
    assert "Carol Diaz" in names and "Carlos Gomez" in names
    # A later word of the name ("Richard Carter") ranks after names that start with it.
    assert names[-1] == "Richard Carter"
    for contact in doc["_embedded"]["contact"]:
        assert contact["rel"] == "contact"
        assert contact["uri"].startswith("sip:") and contact["uri"].endswith("@contoso.com")


async def test_carol_alone_is_ambiguous(ucwa: Ucwa) -> None:
    names = _names((await _search(ucwa, query="Carol")).json())
    assert names == ["Carol Diaz", "Carol Nguyen", "Caroline Park"]
    assert _names((await _search(ucwa, query="carol d")).json()) == ["Carol Diaz"]


async def test_search_is_case_and_accent_insensitive_and_reads_email(ucwa: Ucwa) -> None:
    assert _names((await _search(ucwa, query="JOSE")).json()) == ["José Álvarez"]
    assert _names((await _search(ucwa, query="zoe.mue")).json()) == ["Zoë Müller"]
    assert _names((await _search(ucwa, query="helpdesk@contoso")).json()) == ["Oliver Smith"]
    assert _names((await _search(ucwa, query="bob@contoso.com")).json()) == ["Bob Kelly"]


async def test_a_contact_shows_title_department_and_every_listed_number(ucwa: Ucwa) -> None:
    carol = (await _search(ucwa, query="carol diaz")).json()["_embedded"]["contact"][0]
    assert carol["title"] == "Engineer 2" and carol["department"] == "Engineering"
    assert carol["emailAddresses"] == ["carol@contoso.com"]
    assert carol["workPhoneNumber"] == "tel:+1425554321;ext=54321"
    assert carol["mobilePhoneNumber"] == "tel:4255551212;phone-context=defaultprofile"
    assert "homePhoneNumber" not in carol and "otherPhoneNumber" not in carol
    eve = (await _search(ucwa, query="eve martin")).json()["_embedded"]["contact"][0]
    assert {"workPhoneNumber", "mobilePhoneNumber", "homePhoneNumber", "otherPhoneNumber"} <= set(
        eve
    )


async def test_a_person_without_numbers_still_has_a_sip_address(ucwa: Ucwa) -> None:
    caroline = (await _search(ucwa, query="caroline")).json()["_embedded"]["contact"][0]
    assert caroline["uri"] == "sip:caroline.park@contoso.com"
    assert not [key for key in caroline if key.endswith("PhoneNumber")]


async def test_the_contact_link_gives_the_same_person(ucwa: Ucwa) -> None:
    found = (await _search(ucwa, query="carlos")).json()["_embedded"]["contact"][0]
    response = await ucwa.get(found["_links"]["self"]["href"])
    assert response.status_code == 200
    contact = response.json()
    assert contact == found
    assert contact["otherPhoneNumber"] == "tel:+34912345678"


async def test_a_contact_outside_the_directory_is_a_bare_contact(ucwa: Ucwa) -> None:
    href = ucwa.link("people", "self") + "/nobody@contoso.com"
    contact = (await ucwa.get(href)).json()
    assert contact["uri"] == "sip:nobody@contoso.com"
    assert not [key for key in contact if key.endswith("PhoneNumber")]


async def test_limit_cuts_the_results_and_says_more_are_available(ucwa: Ucwa) -> None:
    doc = (await _search(ucwa, query="car", limit=2)).json()
    assert _names(doc) == ["Carla Rossi", "Carlos Gomez"]
    assert doc["moreResultsAvailable"] is True
    assert "limit=2" in doc["_links"]["self"]["href"]


@pytest.mark.parametrize(("asked", "served"), [("0", 1), ("-5", 1), ("100000", MAX_LIMIT)])
async def test_limit_is_clamped(ucwa: Ucwa, asked: str, served: int) -> None:
    doc = (await _search(ucwa, query="contoso", limit=asked)).json()
    assert len(_names(doc)) == min(served, len(DIRECTORY))
    assert doc["moreResultsAvailable"] is (len(DIRECTORY) > served)


async def test_without_limit_everyone_matching_comes_back(ucwa: Ucwa) -> None:
    doc = (await _search(ucwa, query="@contoso.com")).json()
    assert len(_names(doc)) == len(DIRECTORY)
    assert doc["moreResultsAvailable"] is False


async def test_no_match_is_an_empty_result_not_an_error(ucwa: Ucwa) -> None:
    response = await _search(ucwa, query="nobody by that name")
    assert response.status_code == 200
    assert response.json()["moreResultsAvailable"] is False
    assert _names(response.json()) == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": ""},
        {"query": "   "},
        {"query": "x" * (MAX_QUERY_CHARS + 1)},
        {"query": "car", "limit": "ten"},
        {"query": "car", "limit": "1e3"},
        {"query": "car", "limit": "9" * 40},
    ],
)
async def test_bad_parameters_are_refused(ucwa: Ucwa, params: dict[str, str]) -> None:
    response = await _search(ucwa, **params)
    assert_ucwa_error(response, 400, "BadRequest", "ParameterValidationFailure")


async def test_the_longest_allowed_query_is_searched(ucwa: Ucwa) -> None:
    response = await _search(ucwa, query="c" * MAX_QUERY_CHARS)
    assert response.status_code == 200
    assert _names(response.json()) == []


async def test_search_needs_a_token(ucwa: Ucwa) -> None:
    href = ucwa.url(ucwa.link("people", "self") + "/search")
    response = await ucwa.http.get(href, params={"query": "car"})
    assert response.status_code == 401


@pytest.fixture
async def barred() -> AsyncIterator[Ucwa]:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.2, no_search_users=frozenset({USER})))
    transport = httpx.ASGITransport(app=sim.asgi)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
        client = Ucwa(http)
        await client.sign_in()
        yield client
    sim.close()


async def test_a_user_not_allowed_to_search_gets_403(barred: Ucwa) -> None:
    response = await _search(barred, query="car")
    body = assert_ucwa_error(response, 403, "Forbidden")
    assert "subcode" not in body
    assert "search" in body["message"]
