"""Contacts from vendor-shaped search answers: names, numbers as dial targets, nobody found."""

from __future__ import annotations

from typing import Any

import pytest

from app.ucwa.dialing import DialKind
from app.ucwa.errors import LocalProtocolError, SearchNotAllowed, ServerError
from app.ucwa.models import parse_resource
from app.ucwa.people import is_name_query, parse_search, search_people

BASE = "https://lync.contoso.com"
APP = "/ucwa/oauth/v1/applications/833"

# The shape of the vendor's search_ref / contact_ref examples (docs/people-search.md).
SEARCH_ANSWER: dict[str, Any] = {
    "rel": "search",
    "moreResultsAvailable": False,
    "_links": {"self": {"href": APP + "/people/search?query=carol&limit=10"}},
    "_embedded": {
        "contact": [
            {
                "rel": "contact",
                "uri": "sip:carol@contoso.com",
                "name": "Carol Diaz",
                "title": "Engineer 2",
                "department": "Engineering",
                "company": "Contoso",
                "office": "tel:+1425554321",
                "emailAddresses": ["carol@contoso.com"],
                "sourceNetwork": "SameEnterprise",
                "type": "User",
                "workPhoneNumber": "tel:+1425554321;ext=54321",
                "mobilePhoneNumber": "tel:4255551212;phone-context=defaultprofile",
                "_links": {"self": {"href": APP + "/people/carol@contoso.com"}},
            },
            {
                "rel": "contact",
                "uri": "sip:uma@contoso.com",
                "name": "Uma Shah",
                "_links": {"self": {"href": APP + "/people/uma@contoso.com"}},
            },
        ],
        "distributionGroup": [
            {"rel": "distributionGroup", "name": "Carol's team", "_links": {"self": {"href": "/g"}}}
        ],
    },
}


def test_contacts_carry_name_title_department_and_numbers_as_targets() -> None:
    carol, uma = parse_search(SEARCH_ANSWER, BASE, href=BASE + APP, limit=10, region="US")
    assert (carol.name, carol.title, carol.department) == (
        "Carol Diaz",
        "Engineer 2",
        "Engineering",
    )
    assert carol.emails == ("carol@contoso.com",)
    work, mobile = carol.numbers
    assert (work.kind, work.uri) == ("work", "tel:+1425554321;ext=54321")
    assert work.target.uri == "tel:+1425554321;ext=54321" and work.target.needs_dial_plan
    assert (mobile.kind, mobile.target.uri) == ("mobile", "tel:+14255551212")
    # `office` is never a number to dial, even when it holds a tel: URI.
    assert all(n.kind != "office" for n in carol.numbers)
    assert uma.numbers == () and [k for k, _ in uma.choices()] == ["sip"]
    assert uma.choices()[0][1].kind is DialKind.SIP


def test_without_a_region_a_local_number_goes_to_the_dial_plan() -> None:
    [carol, _] = parse_search(SEARCH_ANSWER, BASE, href=BASE + APP, limit=10)
    assert carol.numbers[1].target.uri == "tel:4255551212"


def test_answer_without_embedded_is_nobody() -> None:
    doc = {"rel": "search", "_links": {"self": {"href": APP + "/people/search?query=x"}}}
    assert parse_search(doc, BASE, href=BASE + APP, limit=10) == []


def test_more_contacts_than_asked_for_are_cut_to_the_limit() -> None:
    assert len(parse_search(SEARCH_ANSWER, BASE, href=BASE + APP, limit=1)) == 1


def test_hostile_number_values_are_left_out_not_dialled() -> None:
    doc = {
        "rel": "search",
        "_embedded": {
            "contact": [
                {
                    "rel": "contact",
                    "uri": "sip:eve@contoso.com",
                    "name": "Eve",
                    "workPhoneNumber": "tel:+1425\u202e5550100",
                    "mobilePhoneNumber": "javascript:alert(1)",
                    "otherPhoneNumber": 4255550100,
                    "homePhoneNumber": "tel:+14255550100",
                    "_links": {"self": {"href": "/people/eve"}},
                }
            ]
        },
    }
    [eve] = parse_search(doc, BASE, href=BASE + APP, limit=10)
    assert [(n.kind, n.target.uri) for n in eve.numbers] == [("home", "tel:+14255550100")]


class FakeServer:
    """get_json of a server whose application embeds people with a search link."""

    def __init__(self, answer: object = SEARCH_ANSWER, error: Exception | None = None) -> None:
        self.urls: list[str] = []
        self.answer, self.error = answer, error

    async def get_json(self, url: str) -> object:
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        return self.answer


APPLICATION = parse_resource(
    {
        "rel": "application",
        "_links": {"self": {"href": APP}},
        "_embedded": {
            "people": {
                "rel": "people",
                "_links": {
                    "self": {"href": APP + "/people"},
                    "search": {"href": APP + "/search"},  # the reference page's spelling
                },
            }
        },
    },
    BASE,
)

pytestmark = pytest.mark.anyio


async def test_search_follows_the_servers_link_with_query_and_limit() -> None:
    server = FakeServer()
    found = await search_people(APPLICATION, BASE, server.get_json, "  carol  d ", 10)
    assert [p.name for p in found] == ["Carol Diaz", "Uma Shah"]
    assert server.urls == [BASE + APP + "/search?query=carol%20d&limit=10"]


async def test_limit_is_kept_in_the_documented_range() -> None:
    server = FakeServer()
    await search_people(APPLICATION, BASE, server.get_json, "carol", 1000)
    assert server.urls[0].endswith("limit=100")


@pytest.mark.parametrize("query", ["", "   ", "x" * 257])
async def test_empty_or_overlong_query_sends_nothing(query: str) -> None:
    server = FakeServer()
    with pytest.raises(LocalProtocolError):
        await search_people(APPLICATION, BASE, server.get_json, query)
    assert server.urls == []


async def test_forbidden_search_is_a_typed_refusal() -> None:
    server = FakeServer(error=ServerError(403, "Forbidden", diagnostics="1000;reason=x"))
    with pytest.raises(SearchNotAllowed) as caught:
        await search_people(APPLICATION, BASE, server.get_json, "carol")
    assert caught.value.status == 403 and caught.value.diagnostics == "1000;reason=x"
    assert "not allowed to search" in caught.value.user_message


async def test_other_server_errors_stay_what_they_are() -> None:
    server = FakeServer(error=ServerError(500, "ServiceFailure"))
    with pytest.raises(ServerError) as caught:
        await search_people(APPLICATION, BASE, server.get_json, "carol")
    assert not isinstance(caught.value, SearchNotAllowed)


async def test_server_without_people_search_says_so() -> None:
    bare = parse_resource({"rel": "application", "_links": {"self": {"href": APP}}}, BASE)
    with pytest.raises(LocalProtocolError, match="no address-book search"):
        await search_people(bare, BASE, FakeServer().get_json, "carol")


@pytest.mark.parametrize(
    ("text", "is_name"),
    [
        ("car", True),
        ("Carol Diaz", True),
        ("carol@con", True),
        ("carol@contoso.com", True),
        ("  ", False),
        ("+1 425 555", False),
        ("4255550100", False),
        ("425 555 0100 ext. 12", False),
        ("(425) 555-0100abc", False),
        ("tel:+14255550100", False),
        ("sip:carol@contoso.com", False),
    ],
)
def test_letters_mean_a_name_to_look_up_digits_a_number(text: str, is_name: bool) -> None:
    assert is_name_query(text, "US") is is_name
