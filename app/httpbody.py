"""Bounded reading and safe JSON decoding of HTTP bodies: the one home of both (ucwa and auth).

A server (or anything between it and us) decides how many bytes we read, how far they expand when
decompressed and how deeply their JSON nests. Every body the client reads goes through
``read_capped`` (decoded bytes are counted while streaming, so a gzip bomb is stopped after at most
``limit`` bytes), and every JSON document is turned into objects by ``decode_json`` (size, UTF-8,
nesting depth, syntax and content type checked; any problem is a ``BodyError``). The limits are
documented in docs/protocol.md §1 ("Limits").
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any, Final

import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "DOCUMENT_LIMIT",
    "ERROR_LIMIT",
    "EVENTS_LIMIT",
    "MAX_DEPTH",
    "BodyError",
    "BodyTooLarge",
    "check_json_type",
    "checked_text",
    "decode_at",
    "decode_json",
    "read_capped",
    "with_body",
]

DOCUMENT_LIMIT: Final = 2 * 1024 * 1024
"""A resource document (application, me, phoneAudio, discovery, token answer)."""
EVENTS_LIMIT: Final = 8 * 1024 * 1024
"""One event channel answer (thousands of events after a long stall fit easily)."""
ERROR_LIMIT: Final = 16 * 1024
"""An error answer: only its first bytes are read; a UCWA error body is a few hundred bytes."""
MAX_DEPTH: Final = 64
"""JSON nesting deeper than this is refused (UCWA documents nest fewer than 10 levels)."""
ACCEPT_ENCODING: Final = "gzip, deflate"
"""The only encodings read_capped can decompress with a cap; sent on every request."""

_CHUNK: Final = 64 * 1024  # decompressed bytes produced per step: memory stays near the cap
_JSON_TYPES: Final = ("application/json", "application/vnd.microsoft.com.ucwa+json")
_NOT_STRUCTURE: Final = bytes(range(256)).translate(None, b'"[]{}')
_BRACKETS: Final = bytes.maketrans(b"{}", b"[]")


class BodyError(ValueError):
    """A body we refuse to read or cannot decode; the message says why in plain words."""


class BodyTooLarge(BodyError):
    """The body (after decompression) is larger than the limit for its kind."""


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


class _Decompressor:
    """Decompresses in steps of at most _CHUNK bytes, so one small input never expands at once."""

    def __init__(self, encoding: str) -> None:
        coding = encoding.strip().lower()
        if coding in ("", "identity"):
            self._z: zlib._Decompress | None = None
        elif coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib wrapper or gzip header
        else:
            raise BodyError(f"The server used an encoding this app cannot read ({coding[:40]}).")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:
            yield data
            return
        try:
            out = self._z.decompress(data, _CHUNK)
            while True:
                if out:
                    yield out
                if not self._z.unconsumed_tail:
                    return
                out = self._z.decompress(self._z.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise BodyError("The server sent a body that is not validly compressed.") from exc


async def read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body of a streamed ``response``, decompressed, at most ``limit`` bytes; closes it.

    Past the limit: BodyTooLarge, or with ``truncate`` the first ``limit`` bytes (error answers,
    whose start is all we look at). Read timeouts stay with the caller's deadline.
    """
    try:
        read: bytes | None = response.content  # an in-memory transport hands it over read
    except httpx.ResponseNotRead:
        read = None
    if read is not None:
        await response.aclose()
        if len(read) > limit and not truncate:
            raise BodyTooLarge(
                f"The server sent more than {_size(limit)}; the answer was not read."
            )
        return read[:limit]
    decompressor = _Decompressor(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            for piece in decompressor.feed(raw):
                size += len(piece)
                if size > limit:
                    if truncate:
                        parts.append(piece[: len(piece) - (size - limit)])
                        return b"".join(parts)
                    # The error's traceback keeps this frame alive until a cyclic collection,
                    # which big byte strings do not trigger: drop what was read before raising, or
                    # a server answering bomb after bomb grows memory without bound.
                    parts.clear()
                    raise BodyTooLarge(
                        f"The server sent more than {_size(limit)}; the answer was not read."
                    )
                parts.append(piece)
    finally:
        await response.aclose()
    return b"".join(parts)


def with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response: ``response``'s status and headers with the already-decoded ``body``."""
    dropped = ("content-encoding", "content-length", "transfer-encoding")
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )


def check_json_type(content_type: str | None, *, what: str = "The server") -> None:
    """BodyError unless a Content-Type names JSON; a missing one is tolerated (servers omit it)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not ctype or ctype in _JSON_TYPES or ctype.endswith("+json"):
        return
    if ctype == "text/html":
        raise BodyError(
            f"{what} sent a web page instead of an answer; a proxy or gateway may be in the way."
        )
    raise BodyError(f"{what} sent {ctype[:60]} instead of JSON.")


def decode_json(
    data: bytes | str, *, limit: int, content_type: str | None = None, what: str = "The server"
) -> object:
    """The JSON document in ``data``; BodyError for anything else.

    Checked before decoding: the content type (when given), the size, UTF-8 validity and the
    nesting depth (counted without recursion, so 100,000 ``[`` are simply refused).
    """
    check_json_type(content_type, what=what)
    text = checked_text(data, limit=limit, what=what)
    try:
        return json.loads(text)
    except RecursionError as exc:  # the pre-scan should have caught it; kept as a safety net
        raise BodyError(f"{what} sent JSON nested more than {MAX_DEPTH} levels deep.") from exc
    except ValueError as exc:
        raise BodyError(f"{what} sent malformed JSON.") from exc


def checked_text(
    data: bytes | str, *, limit: int, what: str = "The server", whole_depth: bool = True
) -> str:
    """``data`` as text, after the size, UTF-8 and depth checks of decode_json.

    ``whole_depth=False`` leaves the depth to decode_at, value by value: scanning a body of
    several megabytes at once would hold the loop longer than an incremental decoder may.
    """
    if len(data) > limit:
        raise BodyTooLarge(f"{what} sent more than {_size(limit)}; the answer was not read.")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if whole_depth and _depth_exceeds(raw, MAX_DEPTH):
        raise BodyError(f"{what} sent JSON nested more than {MAX_DEPTH} levels deep.")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyError(f"{what} sent text that is not valid UTF-8.") from exc


def decode_at(text: str, start: int, *, depth_left: int = MAX_DEPTH) -> tuple[Any, int]:
    """One JSON value starting at ``start`` of a checked text (checked_text), and where it ends.

    For incremental decoders (event answers decoded in slices): the value may nest at most
    ``depth_left`` levels (MAX_DEPTH minus the levels the caller has walked); BodyError for that
    and for bad syntax.
    """
    too_deep = f"JSON nested more than {MAX_DEPTH} levels deep"
    try:
        found, end = _DECODER.raw_decode(text, start)
    except RecursionError as exc:
        raise BodyError(too_deep) from exc
    except ValueError as exc:
        raise BodyError(f"malformed JSON at character {start}") from exc
    if end - start > depth_left and _depth_exceeds(
        text[start:end].encode("utf-8", "surrogatepass"), depth_left
    ):
        raise BodyError(too_deep)
    return found, end


_DECODER: Final = json.JSONDecoder()


def _depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest more than ``limit`` deep; linear, no recursion.

    Escaped quotes and backslashes are removed first, then everything but quotes and brackets;
    the contents of strings are dropped; then each pass deletes the innermost ``[]`` pairs, so a
    document of depth d is empty after d passes. Openers never closed count as depth too.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    structure = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    structure = structure.replace(b'""', b"")  # strings without brackets: the common case
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    structure = structure.translate(_BRACKETS)
    for _ in range(limit):
        if not structure:
            return False
        shorter = structure.replace(b"[]", b"")
        if len(shorter) == len(structure):
            # No pair left: what remains is unclosed (malformed, but a recursive decoder would
            # still descend into every opener before noticing).
            return structure.count(b"[") > limit
        structure = shorter
    return b"[]" in structure or structure.count(b"[") > limit
