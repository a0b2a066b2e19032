"""Conformance: hostile input gets the right status and a UCWA error body, never a 500 or a hang."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from app.simulator import SimConfig
from tests.helpers.ucwa_walker import ACCEPT, Walker, error_body, link, walker

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def shared_sim_config() -> SimConfig:
    """Short polls: hostile requests must never hold a test up."""
    return SimConfig(speed=50, max_poll_s=0.1)


APP_BODY = b'{"userAgent": "T/1", "endpointId": "e-1", "culture": "en-US"}'


async def _post_raw(w: Walker, href: str, content: bytes, ctype: str | None) -> httpx.Response:
    headers = {"Content-Type": ctype} if ctype else {}
    return await w.request("POST", href, content=content, headers=headers)


def _assert_clean(resp: httpx.Response, status: int | tuple[int, ...], code: str | None = None):
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, (resp.status_code, resp.text[:300])
    body = error_body(resp)
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    "content",
    [
        b'{"userAgent": ',
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b'{"userAgent": {"nested": true}, "endpointId": [], "culture": 5}',
        b"[" * 20_000 + b"]" * 20_000,
    ],
    ids=["truncated", "text", "binary", "array", "string", "null", "wrong-types", "deep-nesting"],
)
async def test_malformed_json_is_a_400(shared_server, sim_credentials, content: bytes) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await _post_raw(w, str(w.applications_url), content, "application/json")
        _assert_clean(resp, 400, "BadRequest")


async def test_malformed_json_on_start_phone_audio_is_a_400(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        href = w.communication_link("startPhoneAudio")
        resp = await _post_raw(w, href, b'{"to": "tel:+14255550100",', "application/json")
        _assert_clean(resp, 400, "BadRequest")


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml-ish", "image/png"])
async def test_wrong_content_type_is_415(shared_server, sim_credentials, ctype: str) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await _post_raw(w, str(w.applications_url), APP_BODY, ctype)
        _assert_clean(resp, 415, "UnsupportedMediaType")


async def test_vendor_json_media_type_is_accepted(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        body = APP_BODY.replace(b"e-1", b"e-vendor")
        resp = await _post_raw(
            w, str(w.applications_url), body, "application/vnd.microsoft.com.ucwa+json"
        )
        assert resp.status_code == 201, resp.text


async def test_token_endpoint_with_json_instead_of_a_form(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        assert w.token_url
        resp = await w.http.post(
            w.token_url,
            json={"grant_type": "password", "username": "alice@contoso.com", "password": "x"},
            headers=ACCEPT,
        )
        assert resp.status_code in (400, 415), resp.text
        assert resp.headers["content-type"].startswith("application/json")
        assert "Traceback" not in resp.text


@pytest.mark.parametrize(
    "path", ["/ucwa/oauth/v1/nowhere", "/nothing", "/ucwa/oauth/v1/applications/999999/me"]
)
async def test_unknown_path_is_a_ucwa_404(shared_server, sim_credentials, path: str) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await w.get(shared_server.base_url + path)
        _assert_clean(resp, 404, "NotFound")


async def test_unknown_path_under_a_live_application_is_404(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        resp = await w.get(str(w.app_url) + "/no/such/thing")
        _assert_clean(resp, 404, "NotFound")


@pytest.mark.parametrize(
    ("method", "which"),
    [
        ("PUT", "applications"),
        ("DELETE", "applications"),
        ("PATCH", "app"),
        ("PUT", "events"),
        ("DELETE", "me"),
        ("POST", "phones"),
        ("GET", "startPhoneAudio"),
        ("DELETE", "discovery"),
    ],
)
async def test_wrong_method_is_405(shared_server, sim_credentials, method: str, which: str) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me = w.embedded("me")
        target = {
            "applications": w.applications_url,
            "app": w.app_url,
            "events": w.next_url,
            "me": link(me, "self"),
            "phones": link(me, "phones"),
            "startPhoneAudio": w.communication_link("startPhoneAudio"),
            "discovery": shared_server.discovery_url,
        }[which]
        resp = await w.request(method, str(target), json={} if method != "GET" else None)
        _assert_clean(resp, 405, "MethodNotAllowed")


@pytest.mark.parametrize("where", ["applications", "startPhoneAudio", "token"])
async def test_oversized_body_is_413_quickly(shared_server, sim_credentials, where: str) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await w.parked()
        big = b'{"userAgent": "' + b"x" * (256 * 1024) + b'"}'
        started = time.monotonic()
        if where == "token":
            assert w.token_url
            resp = await w.http.post(
                w.token_url,
                content=b"grant_type=password&username=" + b"a" * (256 * 1024),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert resp.status_code == 413, resp.status_code
            assert "Traceback" not in resp.text
        else:
            href = (
                w.applications_url
                if where == "applications"
                else w.communication_link("startPhoneAudio")
            )
            resp = await _post_raw(w, str(href), big, "application/json")
            _assert_clean(resp, 413, "EntityTooLarge")
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "params",
    [
        {"timeout": "-1"},
        {"timeout": "0"},
        {"timeout": "99999999999999999999999999"},
        {"timeout": "abc"},
        {"timeout": "NaN"},
        {"timeout": "inf"},
        {"low": "-5", "medium": "1e309"},
        {"priority": "-1"},
        {"priority": "9" * 40},
        {"ack": "-5"},
        {"ack": "abc"},
        {"ack": "1e400"},
        {"ack": "9" * 40},
    ],
    ids=lambda p: "&".join(f"{k}={v[:12]}" for k, v in p.items()),
)
async def test_absurd_event_query_values_never_break_the_channel(
    shared_server, sim_credentials, params: dict[str, str]
) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        started = time.monotonic()
        resp = await w.pget(**params)
        assert time.monotonic() - started < 3
        if resp.status_code == 200:
            assert set(resp.json()["_links"]) & {"next", "resync"}
        else:
            _assert_clean(resp, 400, "BadRequest")
        # A proper poll still works afterwards.
        assert (await w.pget()).status_code == 200


async def test_many_and_huge_query_parameters_are_harmless(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        params = {f"p{i}": "v" * 50 for i in range(100)}
        resp = await w.get(str(w.app_url), params=params)
        assert resp.status_code in (200, 400, 414), resp.status_code
        if resp.status_code != 200:
            error_body(resp)


async def test_sim_control_endpoints_reject_garbage(shared_server) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            shared_server.base_url + "/_sim/faults",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert resp.status_code == 400
        error_body(resp)
        resp = await http.post(
            shared_server.base_url + "/_sim/faults", json={"action": "force_status", "status": "x"}
        )
        assert resp.status_code == 400
        error_body(resp)


def _raw_partial_request(base_url: str) -> socket.socket:
    """Opens a connection that promises a body and never sends it (slowloris)."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(
        b"POST /ucwa/oauth/v1/applications HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    return sock


async def test_a_stuck_client_does_not_stall_others(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        socks = [_raw_partial_request(shared_server.base_url) for _ in range(5)]
        try:
            started = time.monotonic()
            assert (await w.get(str(w.app_url))).status_code == 200
            assert time.monotonic() - started < 0.5
        finally:
            for s in socks:
                s.close()
        await asyncio.sleep(0.05)
        assert (await w.get(str(w.app_url))).status_code == 200


async def test_garbage_on_the_wire_does_not_hurt_the_server(shared_server, sim_credentials) -> None:
    parts = urlsplit(shared_server.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=2) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n")
        with contextlib.suppress(TimeoutError, OSError):
            sock.recv(1024)
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        assert (await w.get(str(w.app_url))).status_code == 200
