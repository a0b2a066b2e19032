"""Bounded body reading and the one JSON decoder: caps, capped decompression, depth, UTF-8, type."""

from __future__ import annotations

import asyncio
import gzip
import json
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.httpbody import (
    MAX_DEPTH,
    BodyError,
    BodyTooLarge,
    decode_json,
    read_capped,
)


def _bomb(decoded_mib: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"0" * (1024 * 1024)
    return b"".join([*(z.compress(block) for _ in range(decoded_mib)), z.flush()])


async def _streamed(
    content: bytes, headers: dict[str, str], chunk: int = 1 << 20
) -> httpx.Response:
    async def parts() -> Any:
        for i in range(0, len(content), chunk):
            yield content[i : i + chunk]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=parts())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        request = http.build_request("GET", "https://pool.contoso.com/x")
        return await http.send(request, stream=True)


def test_a_gzip_bomb_is_stopped_at_the_cap_with_little_memory() -> None:
    bomb = _bomb(200)  # ~200 KB on the wire, 200 MiB decoded, all in one network chunk

    async def read() -> bytes:
        response = await _streamed(bomb, {"Content-Encoding": "gzip"})
        return await read_capped(response, 2 * 1024 * 1024)

    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="more than 2 MiB"):
            asyncio.run(read())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_a_compressed_body_within_the_cap_is_read_decoded() -> None:
    doc = json.dumps({"a": ["x" * 1000] * 100}).encode()

    async def read() -> bytes:
        response = await _streamed(gzip.compress(doc), {"Content-Encoding": "gzip"}, chunk=7)
        return await read_capped(response, len(doc))

    assert asyncio.run(read()) == doc


def test_an_error_body_is_cut_short_not_refused() -> None:
    async def read() -> bytes:
        response = await _streamed(b"e" * 100_000, {})
        return await read_capped(response, 1000, truncate=True)

    assert asyncio.run(read()) == b"e" * 1000


def test_an_unknown_or_broken_encoding_is_refused() -> None:
    async def read(content: bytes, encoding: str) -> bytes:
        response = await _streamed(content, {"Content-Encoding": encoding})
        return await read_capped(response, 1000)

    with pytest.raises(BodyError, match="cannot read"):
        asyncio.run(read(b"x", "br"))
    with pytest.raises(BodyError, match="not validly compressed"):
        asyncio.run(read(b"not gzip at all", "gzip"))


@pytest.mark.parametrize(
    ("data", "ctype", "words"),
    [
        (b"[" * 100_000, None, f"nested more than {MAX_DEPTH} levels deep"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), None, "nested more than"),
        (b'{"a": "\xff"}', None, "not valid UTF-8"),
        (b"<html>502</html>", "text/html; charset=utf-8", "web page instead of an answer"),
        (b"OK", "text/plain", "text/plain instead of JSON"),
        (b'{"a": 1', None, "malformed JSON"),
        (b"1" * 101, None, "more than"),
    ],
)
def test_every_problem_is_a_body_error_that_says_what_is_wrong(
    data: bytes, ctype: str | None, words: str
) -> None:
    with pytest.raises(BodyError, match=words):
        decode_json(data, limit=100 if data.startswith(b"1") else 1 << 20, content_type=ctype)


def test_deep_but_allowed_documents_and_brackets_in_strings_are_fine() -> None:
    deep = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert decode_json(deep, limit=1 << 20) is not None
    tricky = json.dumps({"s": "[" * 500 + '\\"[' + "{" * 100, "t": ["]" * 300]}).encode()
    assert decode_json(tricky, limit=1 << 20) == json.loads(tricky)
    assert decode_json(b'\xef\xbb\xbf{"bom": 1}', limit=100) == {"bom": 1}


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_strings = st.text(alphabet='[]{}"\\ab', max_size=6)
_docs = st.recursive(
    st.none() | st.integers() | _strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
    max_leaves=90,
)


@settings(max_examples=300, deadline=None)
@given(_docs, st.integers(min_value=0, max_value=80), st.booleans())
def test_the_depth_check_agrees_with_the_real_depth(doc: Any, wraps: int, as_dict: bool) -> None:
    for _ in range(wraps):
        doc = {"k[": doc} if as_dict else [doc, "]"]
    data = json.dumps(doc).encode()
    if _depth(doc) > MAX_DEPTH:
        with pytest.raises(BodyError, match="nested"):
            decode_json(data, limit=1 << 20)
    else:
        assert decode_json(data, limit=1 << 20) == doc
