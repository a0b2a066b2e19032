"""Hostile answers for fault injection: bodies built to hurt a client (see Faults.hostile_body)."""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import AsyncIterator
from typing import Final

from starlette.responses import Response, StreamingResponse

from app.simulator.errors import JSON_TYPE

HOSTILE_KINDS: Final = (
    "deep",  # 100,000 '[': a recursive decoder overflows
    "huge",  # a valid JSON document of 24 MiB, streamed
    "gzip_bomb",  # ~250 KB on the wire, 256 MiB once decompressed
    "invalid_utf8",  # JSON whose string holds bytes that are not UTF-8
    "wrong_type",  # a plain-text answer where JSON is expected
    "html",  # a proxy's or captive portal's HTML page
    "drip",  # a JSON document sent one byte at a time
)

_HUGE_BYTES: Final = 24 * 1024 * 1024
_BOMB_BYTES: Final = 256 * 1024 * 1024
_STEP: Final = 1024 * 1024
_DRIP_BYTES: Final = 64 * 1024
_NOT_UTF8: Final = b'{"_links": {"next": {"href": "/\xff\xfe\xfd"}}}'
_PROXY_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    b"<h1>Bad Gateway</h1><p>The proxy server received an invalid response from an upstream "
    b"server.</p><hr><address>corporate-proxy</address></body></html>"
)


def hostile_response(kind: str, status: int, drip_ms: float) -> Response:
    """The answer of one hostile fault; unknown kinds are refused when the fault is set."""
    if kind == "deep":
        return Response(b"[" * 100_000, status, media_type=JSON_TYPE)
    if kind == "huge":
        return StreamingResponse(_huge(), status, media_type=JSON_TYPE)
    if kind == "gzip_bomb":
        return Response(_bomb(), status, headers={"Content-Encoding": "gzip"}, media_type=JSON_TYPE)
    if kind == "invalid_utf8":
        return Response(_NOT_UTF8, status, media_type=JSON_TYPE)
    if kind == "wrong_type":
        return Response(b"Service temporarily unavailable", status, media_type="text/plain")
    if kind == "html":
        return Response(_PROXY_PAGE, status, media_type="text/html")
    if kind == "drip":
        return StreamingResponse(_drip(drip_ms / 1000.0), status, media_type=JSON_TYPE)
    raise ValueError(f"kind must be one of {', '.join(HOSTILE_KINDS)}")


async def _huge() -> AsyncIterator[bytes]:
    yield b'{"pad": "'
    block = b"0" * _STEP
    for _ in range(_HUGE_BYTES // _STEP):
        yield block
        await asyncio.sleep(0)
    yield b'"}'


async def _drip(every_s: float) -> AsyncIterator[bytes]:
    body = b'{"pad": "' + b"0" * _DRIP_BYTES + b'"}'
    for i in range(len(body)):
        yield body[i : i + 1]
        await asyncio.sleep(every_s)


@functools.cache
def _bomb() -> bytes:
    """A gzip stream of a JSON string of _BOMB_BYTES zeros, built a megabyte at a time."""
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [z.compress(b'{"pad": "')]
    block = b"0" * _STEP
    parts.extend(z.compress(block) for _ in range(_BOMB_BYTES // _STEP))
    parts.append(z.compress(b'"}'))
    parts.append(z.flush())
    return b"".join(parts)
