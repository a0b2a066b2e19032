"""The HTTP layer: JSON headers, typed errors, bounded retries that honour Retry-After."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable

import httpx
import pytest

from app.ucwa.errors import (
    ApplicationGone,
    AuthenticationError,
    CertificateError,
    RemoteProtocolError,
    ServerError,
    TransportError,
)
from app.ucwa.transport import Transport, decode_json

URL = "https://pool.contoso.com/ucwa/oauth/v1/applications/1/me"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> tuple[httpx.AsyncClient, Transport, Sleeps]:
    sleeps = Sleeps()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return http, Transport(http, sleep=sleeps, rng=lambda: 0.5, **kwargs), sleeps  # type: ignore[arg-type]


def error(status: int, code: str, subcode: str | None = None, **headers: str) -> httpx.Response:
    body = {"code": code, **({"subcode": subcode} if subcode else {})}
    return httpx.Response(status, json=body, headers=headers)


def scripted(*answers: httpx.Response) -> tuple[Callable[[httpx.Request], httpx.Response], list]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler, seen


@pytest.mark.anyio
async def test_json_requests_accept_json() -> None:
    handler, seen = scripted(httpx.Response(201, json={"rel": "x"}))
    http, transport, _ = make(handler)
    async with http:
        response = await transport.post_json(URL, {"to": "tel:+1"})
    assert await decode_json(response) == {"rel": "x"}
    assert seen[0].headers["accept"] == "application/json"
    assert seen[0].headers["content-type"] == "application/json"
    assert json.loads(seen[0].content) == {"to": "tel:+1"}


@pytest.mark.anyio
async def test_empty_post_has_no_body() -> None:
    handler, seen = scripted(httpx.Response(204))
    http, transport, _ = make(handler)
    async with http:
        await transport.post_json(URL, None)
    assert seen[0].content == b""
    assert "content-type" not in seen[0].headers


@pytest.mark.anyio
async def test_503_retry_after_is_honoured() -> None:
    handler, seen = scripted(
        error(503, "ServiceUnavailable", **{"Retry-After": "2"}), httpx.Response(200, json={})
    )
    http, transport, sleeps = make(handler)
    async with http:
        await transport.get_json(URL)
    assert len(seen) == 2
    assert sleeps.delays == [2.0]


@pytest.mark.anyio
async def test_retry_after_is_bounded_and_attempts_are_capped() -> None:
    handler, seen = scripted(error(429, "TooManyRequests", **{"Retry-After": "3600"}))
    http, transport, sleeps = make(handler, max_attempts=3, max_retry_after_s=10.0)
    async with http:
        with pytest.raises(ServerError) as caught:
            await transport.request("GET", URL)
    assert len(seen) == 3
    assert sleeps.delays == [10.0, 10.0]
    assert caught.value.status == 429
    assert caught.value.retry_after == 3600.0


@pytest.mark.anyio
async def test_backoff_grows_with_jitter_when_no_retry_after() -> None:
    handler, _ = scripted(error(503, "ServiceUnavailable"))
    http, transport, sleeps = make(handler)
    async with http:
        with pytest.raises(ServerError):
            await transport.request("GET", URL)
    assert sleeps.delays == [0.375, 0.75, 1.5]  # ceiling/2 + 0.5 * ceiling/2


@pytest.mark.anyio
async def test_post_is_not_repeated_after_a_500() -> None:
    handler, seen = scripted(error(500, "ServiceFailure"))
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(ServerError):
            await transport.post_json(URL, {"x": 1})
    assert len(seen) == 1


@pytest.mark.anyio
async def test_get_is_repeated_after_a_500() -> None:
    handler, seen = scripted(error(500, "ServiceFailure"), httpx.Response(200, json={}))
    http, transport, _ = make(handler)
    async with http:
        await transport.get_json(URL)
    assert len(seen) == 2


@pytest.mark.anyio
async def test_retry_false_sends_exactly_once() -> None:
    handler, seen = scripted(error(503, "ServiceUnavailable", **{"Retry-After": "1"}))
    http, transport, sleeps = make(handler)
    async with http:
        with pytest.raises(ServerError) as caught:
            await transport.post_json(URL, {"operationId": "x"}, retry=False)
    assert len(seen) == 1 and sleeps.delays == []
    assert caught.value.retry_after == 1.0


@pytest.mark.anyio
async def test_callback_channel_error_is_never_repeated_here() -> None:
    handler, seen = scripted(error(500, "ServiceFailure", "CallbackChannelError"))
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(ServerError) as caught:
            await transport.request("GET", URL)
    assert len(seen) == 1 and caught.value.subcode == "CallbackChannelError"


@pytest.mark.anyio
async def test_application_not_found_is_typed() -> None:
    handler, _ = scripted(error(404, "NotFound", "ApplicationNotFound"))
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(ApplicationGone):
            await transport.request("GET", URL)


@pytest.mark.anyio
async def test_final_401_is_an_authentication_error() -> None:
    handler, _ = scripted(httpx.Response(401))
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(AuthenticationError):
            await transport.request("GET", URL)


@pytest.mark.anyio
async def test_connect_errors_name_the_host_and_are_retried_for_gets() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    http, transport, sleeps = make(handler)
    async with http:
        with pytest.raises(TransportError, match=r"pool\.contoso\.com"):
            await transport.request("GET", URL)
        assert calls == 4 and len(sleeps.delays) == 3
        with pytest.raises(TransportError):
            await transport.post_json(URL, {})
        assert calls == 5  # a POST may have arrived: not repeated


@pytest.mark.anyio
async def test_certificate_errors_name_the_host_and_are_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
        cause.verify_message = "self-signed certificate"
        raise httpx.ConnectError("ssl failed", request=request) from cause

    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(CertificateError) as caught:
            await transport.request("GET", URL)
    assert caught.value.host == "pool.contoso.com"
    assert "pool.contoso.com" in caught.value.user_message
    assert calls == 1


@pytest.mark.anyio
async def test_in_process_hangs_are_bounded_by_asyncio_timeout() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("never")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    transport = Transport(http, sleep=Sleeps(), max_attempts=1, grace_s=0.01)
    async with http:
        with pytest.raises(TransportError, match="did not answer in time"):
            await transport.request("GET", URL, timeout_s=0.02)


@pytest.mark.anyio
async def test_non_json_answer_is_a_protocol_error() -> None:
    handler, _ = scripted(
        httpx.Response(200, text="<html/>", headers={"content-type": "text/html"})
    )
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(RemoteProtocolError):
            await transport.get_json(URL)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 503, 504])
async def test_a_hold_post_is_not_repeated_after_a_possibly_half_done_error(status: int) -> None:
    # docs/protocol.md §8.4: 500/503/504 only for idempotent requests; a repeated hold/stop could
    # act twice.
    handler, seen = scripted(error(status, "ServiceFailure"), httpx.Response(204))
    http, transport, sleeps = make(handler)
    async with http:
        with pytest.raises(ServerError) as caught:
            await transport.post_json(URL + "/holdPhoneAudio")
    assert caught.value.status == status
    assert len(seen) == 1 and sleeps.delays == []


@pytest.mark.anyio
async def test_429_is_repeated_even_for_a_post_and_503_for_an_idempotent_one() -> None:
    handler, seen = scripted(error(429, "TooManyRequests"), httpx.Response(204))
    http, transport, _ = make(handler)
    async with http:
        await transport.post_json(URL + "/holdPhoneAudio")
    assert len(seen) == 2
    handler, seen = scripted(error(503, "ServiceUnavailable"), httpx.Response(204))
    http, transport, _ = make(handler)
    async with http:
        await transport.post_json(URL + "/reportMyActivity", idempotent=True)
    assert len(seen) == 2


@pytest.mark.anyio
async def test_an_invalid_server_url_is_a_protocol_error() -> None:
    handler, seen = scripted(httpx.Response(200, json={}))
    http, transport, _ = make(handler)
    async with http:
        with pytest.raises(RemoteProtocolError, match="unusable URL"):
            await transport.request("GET", "https://pool.contoso.com:ack/ucwa/events")
    assert seen == []


@pytest.mark.anyio
async def test_make_me_available_required_runs_the_hook_and_repeats_the_request_once() -> None:
    handler, seen = scripted(
        error(409, "Conflict", "MakeMeAvailableRequired"), httpx.Response(201, json={})
    )
    http, transport, _ = make(handler)
    made: list[str] = []

    async def make_available() -> None:
        made.append("again")

    transport.on_make_me_available_required = make_available
    async with http:
        response = await transport.post_json(URL + "/startPhoneAudio", {"to": "x"}, retry=False)
    assert response.status_code == 201
    assert made == ["again"]
    assert len(seen) == 2


@pytest.mark.anyio
async def test_make_me_available_required_twice_is_an_error_not_a_loop() -> None:
    handler, seen = scripted(error(409, "Conflict", "MakeMeAvailableRequired"))
    http, transport, _ = make(handler)
    made: list[str] = []

    async def make_available() -> None:
        made.append("again")
        # The hook's own request meets the same refusal: it must not call the hook again.
        with pytest.raises(ServerError):
            await transport.post_json(URL + "/makeMeAvailable", {})

    transport.on_make_me_available_required = make_available
    async with http:
        with pytest.raises(ServerError) as caught:
            await transport.post_json(URL + "/reportMyActivity")
    assert caught.value.subcode == "MakeMeAvailableRequired"
    assert made == ["again"]
    assert len(seen) == 3  # the request, the hook's makeMeAvailable, the one repeat


@pytest.mark.anyio
async def test_other_conflicts_are_not_repeated() -> None:
    handler, seen = scripted(error(409, "Conflict", "AlreadyExists"))
    http, transport, _ = make(handler)

    async def make_available() -> None:
        raise AssertionError("not for other conflicts")

    transport.on_make_me_available_required = make_available
    async with http:
        with pytest.raises(ServerError):
            await transport.post_json(URL + "/makeMeAvailable", {})
    assert len(seen) == 1
