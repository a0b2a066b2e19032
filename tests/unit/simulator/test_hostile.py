"""Hostile input: every bad request gets the right status and a UCWA error body, quickly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.simulator import Simulator
from tests.unit.simulator.conftest import CONTROL, JSON, ORIGIN, Ucwa, assert_ucwa_error

pytestmark = pytest.mark.anyio


async def test_malformed_json_and_wrong_types(ucwa: Ucwa) -> None:
    start = ucwa.url(ucwa.link("communication", "startPhoneAudio"))
    json_type = ucwa.auth | {"Content-Type": "application/json"}
    for raw in (b"{", b"[1, 2]", b"null", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000):
        response = await ucwa.http.post(start, content=raw, headers=json_type)
        assert_ucwa_error(response, 413 if len(raw) > 65536 else 400, response.json()["code"])
        assert response.json()["code"] in ("BadRequest", "EntityTooLarge")
    deep = b"[" * 30_000 + b"]" * 30_000
    assert_ucwa_error(
        await ucwa.http.post(start, content=deep, headers=json_type), 400, "BadRequest"
    )
    xml = ucwa.auth | {"Content-Type": "application/xml"}
    response = await ucwa.http.post(start, content=b"<to>tel:+1</to>", headers=xml)
    assert_ucwa_error(response, 415, "UnsupportedMediaType")


async def test_oversized_bodies_are_refused(ucwa: Ucwa) -> None:
    apps = ucwa.url(ucwa.app["_links"]["self"]["href"].rsplit("/", 1)[0])
    big = b"{" + b" " * 70_000 + b"}"
    declared = await ucwa.http.post(apps, content=big, headers=ucwa.auth)
    assert_ucwa_error(declared, 413, "EntityTooLarge")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b" " * 1024

    streamed = await ucwa.http.post(apps, content=chunks(), headers=ucwa.auth)
    assert_ucwa_error(streamed, 413, "EntityTooLarge")


async def test_unknown_paths_and_methods(ucwa: Ucwa) -> None:
    assert_ucwa_error(await ucwa.http.get("/nope"), 404, "NotFound")
    assert_ucwa_error(await ucwa.get("/ucwa/oauth/v1/applications/zzz/me"), 404, "NotFound")
    app = ucwa.url(ucwa.app["_links"]["self"]["href"])
    response = await ucwa.http.request("BREW", app, headers=ucwa.auth)
    body = assert_ucwa_error(response, 405, "MethodNotAllowed")
    assert body["message"]
    assert response.headers["allow"] == "DELETE, GET"
    assert_ucwa_error(await ucwa.http.put(app, headers=ucwa.auth), 405, "MethodNotAllowed")
    assert_ucwa_error(await ucwa.post(ucwa.app["_links"]["batch"]["href"]), 405, "MethodNotAllowed")
    long_path = "/ucwa/" + "a/" * 3000
    assert_ucwa_error(await ucwa.http.get(long_path), 404, "NotFound")


async def test_weird_host_header_does_not_break_absolute_hrefs(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/autodiscover/autodiscoverservice.svc/root", headers={"Host": "evil\r\nx: y"}
    )
    assert response.status_code == 200
    assert "\n" not in response.json()["_links"]["user"]["href"]


async def test_control_api_is_loopback_only(sim: Simulator) -> None:
    remote = httpx.ASGITransport(sim.asgi, client=("192.0.2.7", 5555))
    async with httpx.AsyncClient(transport=remote, base_url=ORIGIN) as outsider:
        denied = await outsider.post(CONTROL + "/_sim/faults", json={"action": "expire_tokens"})
        assert_ucwa_error(denied, 403, "Forbidden")
        assert_ucwa_error(await outsider.get(CONTROL + "/_sim/log"), 403, "Forbidden")


async def test_control_api_over_http(ucwa: Ucwa, sim: Simulator) -> None:
    http = ucwa.http
    ok = await http.post(
        CONTROL + "/_sim/faults",
        json={"action": "force_status", "path_contains": "/me", "status": 503, "retry_after": 2},
    )
    assert ok.status_code == 200, ok.text
    forced = await ucwa.get(ucwa.link("me", "self"))
    assert_ucwa_error(forced, 503, "ServiceUnavailable")
    assert forced.headers["retry-after"] == "2"
    assert (await ucwa.get(ucwa.link("me", "self"))).status_code == 200  # count=1
    bad_calls = [
        {"action": "nope"},
        {"action": "add_latency"},
        {"action": "clear", "x": 1},
        {"action": "force_status", "path_contains": "x", "status": 200},
        [],
        {},
    ]
    for bad in bad_calls:
        assert_ucwa_error(await http.post(CONTROL + "/_sim/faults", json=bad), 400, "BadRequest")
    assert_ucwa_error(
        await http.post(CONTROL + "/_sim/faults", content=b"{", headers=JSON), 400, "BadRequest"
    )
    gone = {"action": "force_status", "path_contains": "me", "status": 410, "count": 5}
    await http.post(CONTROL + "/_sim/faults", json=gone | {"subcode": "CannotRedirect"})
    assert (await http.post(CONTROL + "/_sim/reset", json={})).status_code == 200
    assert (await ucwa.get(ucwa.link("me", "self"))).status_code == 200
    log = (await http.get(CONTROL + "/_sim/log")).json()["requests"]
    assert {"t", "method", "path", "query", "status"} <= set(log[-1])
    assert not any(r["path"].startswith("/_sim") for r in log)
    assert [r for r in log if r["status"] == 503]


async def test_forced_statuses_by_method_count_and_code(ucwa: Ucwa, sim: Simulator) -> None:
    me = ucwa.link("me", "self")
    sim.faults.force_status("/ME", 409, count=2, method="get")
    sim.faults.force_status("events", 410, code="Gone", subcode="InactiveApplicationExpired")
    sim.faults.force_status("/me", 401, method="POST")
    assert_ucwa_error(await ucwa.get(me), 409, "Conflict")
    assert_ucwa_error(await ucwa.get(me), 409, "Conflict")
    assert (await ucwa.get(me)).status_code == 200
    gone = await ucwa.get(ucwa.next_url)
    assert_ucwa_error(gone, 410, "Gone", "InactiveApplicationExpired")
    challenged = await ucwa.post(ucwa.link("me", "reportMyActivity"))
    assert challenged.status_code == 401 and "MsRtcOAuth" in challenged.headers["www-authenticate"]
    with pytest.raises(ValueError):
        sim.faults.force_status("x", 302)


async def test_latency_fault(ucwa: Ucwa, sim: Simulator) -> None:
    import time

    sim.faults.add_latency(0.2)
    started = time.monotonic()
    await ucwa.get(ucwa.link("me", "self"))
    assert time.monotonic() - started >= 0.2
    sim.faults.clear()
    started = time.monotonic()
    await ucwa.get(ucwa.link("me", "self"))
    assert time.monotonic() - started < 0.1


async def test_random_garbage_never_breaks_the_server(ucwa: Ucwa, sim: Simulator) -> None:
    """A seeded barrage of odd requests: every answer is a deliberate status, never a 500."""
    import random

    rng = random.Random(1234)
    app = ucwa.app["_links"]["self"]["href"]
    paths = [
        app,
        app + "/me/makeMeAvailable",
        app + "/communication",
        app + "/communication/phoneAudioInvitations",
        app + "/communication/conversations/zz/phoneAudio/holdPhoneAudio",
        app + "/events",
        "/WebTicket/oauthtoken",
        "/autodiscover/autodiscoverservice.svc/root/oauth/user",
        "/%ff%fe/%00",
        "/ucwa/oauth/v1/applications/%2e%2e/me",
    ]
    bodies = [b"", b"{}", b"{", b"[]", b'{"to": 5}', b'{"to": null, "operationId": []}',
              b'{"SupportedModalities": "PhoneAudio"}', "{\"to\": \"tel:\u0661\u0662\"}".encode(),
              b"\x00\x01\x02", b'{"a":' * 500]  # fmt: skip
    types = ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "*/*"]
    queries = ["", "?ack=1", "?ack=%00", "?timeout=-1e308", "?to=sip:x@y", "?ack=1&ack=2", "?=&&="]
    for _ in range(300):
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
        url = ucwa.url(rng.choice(paths) + rng.choice(queries))
        headers = dict(ucwa.auth)
        content_type = rng.choice(types)
        if content_type:
            headers["Content-Type"] = content_type
        if rng.random() < 0.2:
            headers["If-Match"] = rng.choice(["*", '"x"', "", 'W/"1"'])
        body = rng.choice(bodies)
        response = await ucwa.http.request(method, url, content=body, headers=headers)
        assert (
            response.status_code != 500 or response.json().get("subcode") == "CallbackChannelError"
        )
        if response.status_code >= 400 and response.status_code != 401:
            assert response.headers["content-type"].startswith("application/json"), url
            assert "code" in response.json() or "error" in response.json()
            assert "x-ms-diagnostics" in response.headers
