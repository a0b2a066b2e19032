"""The /_sim/ control endpoints refuse web pages, foreign hosts, missing tokens and wild values."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.control_guard import MAX_COUNT, MAX_SECONDS, TOKEN_HEADER
from tests.unit.simulator.conftest import CONTROL, JSON, assert_ucwa_error

pytestmark = pytest.mark.anyio

FAULTS = CONTROL + "/_sim/faults"
LATENCY = {"action": "add_latency", "seconds": 1}


async def test_a_text_plain_post_from_a_web_page_is_refused(
    http: httpx.AsyncClient, sim: Simulator
) -> None:
    body = b'{"action": "expire_tokens"}'
    plain = {"Content-Type": "text/plain"}
    assert_ucwa_error(
        await http.post(FAULTS, content=body, headers=plain), 415, "UnsupportedMediaType"
    )
    assert_ucwa_error(await http.post(FAULTS, content=body), 415, "UnsupportedMediaType")
    assert_ucwa_error(
        await http.post(CONTROL + "/_sim/reset", content=b""), 415, "UnsupportedMediaType"
    )
    assert sim.faults.snapshot()["rules"] == []
    accepted = await http.post(
        FAULTS, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "host",
    [
        "sim.test",
        "evil.example:8080",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "127.0.0.2",
        "",
    ],
)
async def test_a_foreign_host_header_is_refused(
    http: httpx.AsyncClient, sim: Simulator, host: str
) -> None:
    """A rebound DNS name reaches 127.0.0.1 but still carries its own name in Host."""
    response = await http.post(FAULTS, json=LATENCY, headers={"Host": host})
    assert_ucwa_error(response, 403, "Forbidden")
    assert_ucwa_error(
        await http.get(CONTROL + "/_sim/log", headers={"Host": host}), 403, "Forbidden"
    )
    assert sim.faults.latency() == 0


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8443", "localhost", "LOCALHOST:80", "[::1]", "[::1]:9000"]
)
async def test_loopback_host_headers_are_accepted(
    http: httpx.AsyncClient, sim: Simulator, host: str
) -> None:
    response = await http.post(FAULTS, json=LATENCY, headers={"Host": host})
    assert response.status_code == 200, response.text
    assert sim.faults.latency() == 1


async def test_any_origin_header_is_refused(http: httpx.AsyncClient, sim: Simulator) -> None:
    for origin in ("http://127.0.0.1", "null", "https://evil.example"):
        response = await http.post(FAULTS, json=LATENCY, headers={"Origin": origin})
        assert_ucwa_error(response, 403, "Forbidden")
        assert "Origin" in response.json()["message"]
    assert sim.faults.latency() == 0


@pytest.fixture
async def embedded() -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    sim = Simulator(SimConfig(speed=50, max_poll_s=0.2, control_token="run-token-123"))
    transport = httpx.ASGITransport(app=sim.asgi)
    async with httpx.AsyncClient(transport=transport, base_url=CONTROL) as client:
        yield sim, client
    sim.close()


async def test_an_embedded_simulator_needs_the_run_token(
    embedded: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, http = embedded
    for headers in (
        {},
        {TOKEN_HEADER: "run-token-12"},
        {TOKEN_HEADER: "wrong"},
        {TOKEN_HEADER: "é".encode("latin-1")},
    ):
        assert_ucwa_error(
            await http.post("/_sim/faults", json=LATENCY, headers=headers), 403, "Forbidden"
        )
        assert_ucwa_error(await http.get("/_sim/log", headers=headers), 403, "Forbidden")
    assert sim.faults.latency() == 0
    token = {TOKEN_HEADER: "run-token-123"}
    assert (await http.post("/_sim/faults", json=LATENCY, headers=token)).status_code == 200
    assert (await http.get("/_sim/log", headers=token)).status_code == 200
    assert sim.faults.latency() == 1


async def test_a_standalone_simulator_needs_no_token(http: httpx.AsyncClient) -> None:
    assert (await http.get(CONTROL + "/_sim/state")).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        b'{"action": "add_latency", "seconds": Infinity}',
        b'{"action": "add_latency", "seconds": -Infinity}',
        b'{"action": "add_latency", "seconds": NaN}',
        b'{"action": "add_latency", "seconds": 1e999}',
        b'{"action": "stall_events", "seconds": 1e999}',
    ],
)
async def test_infinite_or_nan_seconds_are_refused(
    http: httpx.AsyncClient, sim: Simulator, raw: bytes
) -> None:
    response = await http.post(FAULTS, content=raw, headers=JSON)
    assert_ucwa_error(response, 400, "BadRequest")
    assert sim.faults.latency() == 0
    assert sim.faults.snapshot()["stall_remaining_s"] == 0


@pytest.mark.parametrize(
    "call",
    [
        {"action": "add_latency", "seconds": MAX_SECONDS + 1},
        {"action": "add_latency", "seconds": -1},
        {"action": "add_latency", "seconds": "5"},
        {"action": "add_latency", "seconds": True},
        {"action": "stall_events", "seconds": 3600},
        {"action": "force_status", "path_contains": "me", "status": 503, "count": MAX_COUNT + 1},
        {"action": "force_status", "path_contains": "me", "status": 503, "count": 0},
        {"action": "force_status", "path_contains": "me", "status": 99},
        {"action": "force_status", "path_contains": "me", "status": 600},
        {"action": "force_status", "path_contains": "me", "status": 503.5},
        {"action": "force_status", "path_contains": "me", "status": 503, "retry_after": 1e9},
        {"action": "force_status", "path_contains": "x" * 201, "status": 503},
        {"action": "force_status", "path_contains": ["me"], "status": 503},
        {"action": "expire_applications", "inactive": "yes"},
        {"action": "hostile_body", "path_contains": "events", "kind": "fork_bomb"},
        {"action": "hostile_body", "path_contains": "events", "kind": "drip", "drip_ms": 1e9},
        {"action": "hostile_body", "path_contains": "events", "kind": "drip", "drip_ms": 0},
        {"action": "hostile_body", "path_contains": "events", "kind": "deep", "status": 100},
        {"action": "hostile_body", "path_contains": "events", "kind": "deep", "count": 0},
        {"action": "hostile_body", "path_contains": "events", "kind": ["deep"]},
    ],
)
async def test_out_of_bounds_values_are_refused(
    http: httpx.AsyncClient, sim: Simulator, call: dict[str, object]
) -> None:
    response = await http.post(FAULTS, json=call)
    assert_ucwa_error(response, 400, "BadRequest", "ParameterValidationFailure")
    snapshot = sim.faults.snapshot()
    assert snapshot["rules"] == [] and snapshot["latency_s"] == 0
    assert snapshot["stall_remaining_s"] == 0 and snapshot["hostile"] == []


async def test_values_at_the_bounds_are_accepted(http: httpx.AsyncClient, sim: Simulator) -> None:
    edge = {"action": "add_latency", "seconds": MAX_SECONDS}
    assert (await http.post(FAULTS, json=edge)).status_code == 200
    assert sim.faults.latency() == MAX_SECONDS
    forced = {"action": "force_status", "path_contains": "me", "status": 599, "count": MAX_COUNT}
    assert (await http.post(FAULTS, json=forced)).status_code == 200
    assert sim.faults.snapshot()["rules"]
    drip = {"action": "hostile_body", "path_contains": "e", "kind": "drip", "drip_ms": 1000}
    assert (await http.post(FAULTS, json=drip)).status_code == 200
    assert sim.faults.snapshot()["hostile"]
    assert (await http.post(CONTROL + "/_sim/reset", json={})).status_code == 200
    assert sim.faults.latency() == 0
    assert sim.faults.snapshot()["hostile"] == []


@pytest.mark.parametrize("since", ["nan", "inf", "-Infinity", "soon"])
async def test_the_log_refuses_a_cutoff_that_is_not_a_finite_time(
    http: httpx.AsyncClient, since: str
) -> None:
    response = await http.get(CONTROL + "/_sim/log", params={"since": since})
    assert_ucwa_error(response, 400, "BadRequest", "ParameterValidationFailure")
