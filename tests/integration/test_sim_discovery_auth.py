"""Conformance: discovery, MsRtcOAuth challenge, web-ticket endpoint (docs/protocol.md §2, §3)."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from app.simulator.config import Profile
from tests.helpers.ucwa_walker import ACCEPT, Walker, error_body, link, walker


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


async def _user_url(http: httpx.AsyncClient, discovery_url: str) -> str:
    resp = await http.get(discovery_url, headers=ACCEPT)
    assert resp.status_code == 200
    href = link(resp.json(), "user")
    assert href
    return urljoin(discovery_url, href)


async def test_discovery_root_links_user_absolutely(shared_server) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.get(shared_server.discovery_url, headers=ACCEPT)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    doc = resp.json()
    user = link(doc, "user")
    assert user is not None and user.startswith(("http://", "https://")), doc
    assert link(doc, "self"), doc


async def test_user_without_token_is_challenged_with_msrtcoauth(shared_server) -> None:
    async with httpx.AsyncClient() as http:
        w = Walker(http, shared_server.discovery_url, "", "")
        resp = await http.get(await _user_url(http, shared_server.discovery_url), headers=ACCEPT)
        assert resp.status_code == 401
        challenge = w.challenge_of(resp)
    assert challenge.token_url and challenge.token_url.startswith(("http://", "https://"))
    assert "password" in challenge.grant_types
    assert resp.headers.get("x-ms-diagnostics")


async def test_password_grant_returns_cwt_bearer_token(shared_server, sim_credentials) -> None:
    user, password = sim_credentials
    async with httpx.AsyncClient() as http:
        w = Walker(http, shared_server.discovery_url, user, password)
        resp = await http.get(await _user_url(http, shared_server.discovery_url))
        token_url = w.challenge_of(resp).token_url
        assert token_url
        resp = await http.post(
            token_url,
            data={"grant_type": "password", "username": user, "password": password},
            headers=ACCEPT,
        )
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["access_token"].startswith("cwt=")
    assert doc["token_type"] == "Bearer"
    assert isinstance(doc["expires_in"], int) and doc["expires_in"] > 0


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({"grant_type": "password", "username": "alice@contoso.com", "password": "nope"},
         {"invalid_grant"}),
        ({"grant_type": "password", "username": "mallory@contoso.com", "password": "x"},
         {"invalid_grant"}),
        ({"grant_type": "urn:microsoft.rtc:bogus"}, {"unsupported_grant_type"}),
        ({"grant_type": "password", "username": "alice@contoso.com"},
         {"invalid_request", "invalid_grant"}),
        ({}, {"invalid_request", "unsupported_grant_type"}),
    ],
)  # fmt: skip
async def test_token_endpoint_rejects_bad_grants_with_oauth_error(
    shared_server, form: dict[str, str], errors: set[str]
) -> None:
    async with httpx.AsyncClient() as http:
        w = Walker(http, shared_server.discovery_url, "", "")
        resp = await http.get(await _user_url(http, shared_server.discovery_url))
        token_url = w.challenge_of(resp).token_url
        assert token_url
        resp = await http.post(token_url, data=form, headers=ACCEPT)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json().get("error") in errors, resp.text
    assert resp.headers.get("x-ms-diagnostics")
    assert "access_token" not in resp.text


async def test_user_with_token_links_applications(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        assert w.applications_url and w.applications_url.startswith("http")
        assert w.app is not None


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer cwt=forged", "Bearer", "Basic YWxpY2U6ZGVtby1wYXNzd29yZA==", "cwt=abc"],
)
async def test_application_requests_without_valid_token_get_the_challenge(
    shared_server, sim_credentials, authorization: str | None
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        assert w.app_url
        headers = {"Authorization": authorization} if authorization else {}
        resp = await w.http.get(w.app_url, headers={**ACCEPT, **headers})
        assert resp.status_code == 401
        challenge = w.challenge_of(resp)
        assert challenge.token_url == w.token_url
        assert resp.headers.get("x-ms-diagnostics")
        assert "Traceback" not in resp.text
        # The application is untouched by the rejected request (docs/protocol.md §3.3).
        assert (await w.get(w.app_url)).status_code == 200


async def test_token_post_to_lowercased_path_is_accepted(shared_server, sim_credentials) -> None:
    """Paths are case-insensitive (the walkthrough is challenged with /WebTicket, posts lower)."""
    user, password = sim_credentials
    async with httpx.AsyncClient() as http:
        w = Walker(http, shared_server.discovery_url, user, password)
        resp = await http.get(await _user_url(http, shared_server.discovery_url))
        token_url = httpx.URL(str(w.challenge_of(resp).token_url))
        lowered = token_url.copy_with(path=token_url.path.lower())
        resp = await http.post(
            lowered,
            data={"grant_type": "password", "username": user, "password": password},
            headers=ACCEPT,
        )
    assert resp.status_code == 200, resp.text


async def test_unknown_discovery_path_is_a_ucwa_404(shared_server) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.get(shared_server.base_url + "/autodiscover/nothing-here", headers=ACCEPT)
    assert resp.status_code == 404
    assert error_body(resp)["code"] == "NotFound"
