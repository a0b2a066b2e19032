"""URL helpers for server-supplied hrefs: resolve relative ones, add query parameters safely."""

from __future__ import annotations

import functools
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from app.hosts import is_loopback
from app.ucwa.errors import RemoteProtocolError

__all__ = ["is_loopback", "origin", "resolve", "with_params"]


def resolve(base_url: str, href: str) -> str:
    """Return ``href`` as an absolute URL; relative hrefs are resolved against ``base_url``.

    UCWA mixes absolute and host-relative hrefs (docs/protocol.md §1.3); an absolute href (including
    a ``data:`` URI) is returned unchanged. Raises RemoteProtocolError for an href that is not a URL
    at all (e.g. a broken IPv6 literal), because hrefs come from the server.
    """
    href = href.strip()
    if not href:
        raise RemoteProtocolError("The server sent an empty link.")
    # Fast paths for the two shapes real servers send: a P-GET may carry 10,000 events.
    if href[0] == "/" and href[:2] != "//":
        return origin(base_url) + href
    if href.startswith(("https://", "http://")) and "[" not in href:
        return href
    try:
        if urlsplit(href).scheme:
            return href
        return urljoin(base_url, href)
    except ValueError as exc:
        raise RemoteProtocolError(f"The server sent a link that is no URL: {href[:200]!r}") from exc


@functools.lru_cache(maxsize=64)
def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` as spelled there (the base for relative hrefs).

    The one origin helper. It keeps the server's spelling (e.g. an explicit ``:443``) so resolved
    hrefs match the absolute ones the server sends; callers wanting a normalised origin pass an
    ``httpx.URL`` string, which httpx has already normalised (lower case, no default port).
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RemoteProtocolError(f"Not a URL: {url[:200]!r}") from exc
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def with_params(url: str, **params: str | int) -> str:
    """Add or replace query parameters, keeping every other parameter of ``url`` byte for byte.

    The server owns parameters such as ``ack=`` (docs/protocol.md §7.1): they are never decoded and
    re-encoded, so an opaque value survives exactly. Only the parameters named here are replaced.
    """
    parts = urlsplit(url)
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and unquote(piece.split("=", 1)[0]) not in params
    ]
    added = [f"{quote(key, safe='')}={quote(str(value), safe='')}" for key, value in params.items()]
    return urlunsplit(parts._replace(query="&".join(kept + added)))
