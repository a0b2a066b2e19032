"""Frozen, typed views of UCWA resources and error bodies; parsers raise RemoteProtocolError."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from app.httpbody import ERROR_LIMIT, BodyError, decode_json
from app.ucwa.errors import ApplicationGone, RemoteProtocolError, ServerError
from app.ucwa.links import resolve
from app.ucwa.reasons import reason_message
from app.ucwa.retry import parse_retry_after

__all__ = [
    "CIMap",
    "Link",
    "Resource",
    "parse_date",
    "parse_error_body",
    "parse_link",
    "parse_resource",
]

log = logging.getLogger(__name__)

V = TypeVar("V")

# Deeper nesting than this is no UCWA document; refusing it keeps recursion bounded.
MAX_DEPTH = 32

# 410 subcodes that mean "stop and tell the user", not "recreate the application" (docs/protocol.md
# §4.4).
_FATAL_410 = frozenset({"toomanyapplications", "useragentnotallowed", "cannotredirect"})


class CIMap(Mapping[str, V]):
    """Read-only mapping, case-insensitive lookup (name casing varies: docs/protocol.md §1.4)."""

    __slots__ = ("_data", "_folded")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        self._data: dict[str, V] = dict(items) if items else {}
        # Built on the first lookup that misses: most names arrive in the expected case.
        self._folded: dict[str, str] | None = None

    def _find(self, key: str) -> str | None:
        if key in self._data:
            return key
        if self._folded is None:
            folded: dict[str, str] = {}
            for name in self._data:
                # The first spelling wins when a document repeats a name in another case.
                folded.setdefault(name.casefold(), name)
            self._folded = folded
        return self._folded.get(key.casefold())

    def __getitem__(self, key: str) -> V:
        found = self._find(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return self._data[found]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"CIMap({self._data!r})"


@dataclass(frozen=True, slots=True)
class Link:
    """One entry of ``_links``: the relation, its absolute href and an optional display title."""

    rel: str
    href: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """A UCWA resource: type (``rel``), identity (``href``), properties, links, embedded items.

    ``properties`` holds every member except ``rel``, ``_links`` and ``_embedded``, verbatim.
    All three mappings look names up case-insensitively.
    """

    rel: str
    href: str
    properties: Mapping[str, Any] = field(default_factory=CIMap)
    links: Mapping[str, tuple[Link, ...]] = field(default_factory=CIMap)
    embedded: Mapping[str, tuple[Resource, ...]] = field(default_factory=CIMap)

    def link(self, rel: str) -> str | None:
        """First absolute href for ``rel``, or None when the server did not offer that link."""
        found = self.links.get(rel)
        return found[0].href if found else None

    def link_title(self, rel: str) -> str | None:
        found = self.links.get(rel)
        return found[0].title if found else None

    def prop(self, name: str, default: Any = None) -> Any:
        """Property value by case-insensitive name."""
        return self.properties.get(name, default)

    def text(self, name: str) -> str | None:
        """A property that must be a string to be useful; anything else reads as absent."""
        value = self.properties.get(name)
        return value if isinstance(value, str) else None

    def date(self, name: str) -> datetime | None:
        """A ``"\\/Date(ms)\\/"`` (or ISO 8601) property as an aware UTC datetime."""
        return parse_date(self.properties.get(name))

    def first(self, rel: str) -> Resource | None:
        """First embedded resource under ``rel``."""
        found = self.embedded.get(rel)
        return found[0] if found else None


def parse_link(rel: str, doc: object, base_url: str) -> Link:
    """Parse one ``{"href": ..., "title": ...}`` object; an href is the one thing a link needs."""
    if not isinstance(doc, dict):
        raise RemoteProtocolError(f"Link {rel!r} is not an object.")
    href = doc.get("href")
    if not isinstance(href, str):
        raise RemoteProtocolError(f"Link {rel!r} has no href.")
    title = doc.get("title")
    title = title if isinstance(title, str) else None
    return Link(rel=rel, href=resolve(base_url, href), title=title)


def _as_list(value: object) -> list[object]:
    # A rel that may repeat is an array even with one element; tolerate both forms (docs/protocol.md
    # §1.2).
    if isinstance(value, list):
        return value
    return [value]


def _parse_links(doc: object, base_url: str) -> CIMap[tuple[Link, ...]]:
    if doc is None:
        return CIMap()
    if not isinstance(doc, dict):
        raise RemoteProtocolError("_links is not an object.")
    links: dict[str, tuple[Link, ...]] = {}
    for rel, value in doc.items():
        if not isinstance(rel, str):
            continue
        parsed = []
        for item in _as_list(value):
            # An empty placeholder link ({} or {"href": null}) carries nothing; skip, don't fail.
            if isinstance(item, dict) and item.get("href") is None:
                continue
            parsed.append(parse_link(rel, item, base_url))
        if parsed:
            links[rel] = tuple(parsed)
    return CIMap(links)


def _parse_embedded(doc: object, base_url: str, depth: int) -> CIMap[tuple[Resource, ...]]:
    if doc is None:
        return CIMap()
    if not isinstance(doc, dict):
        raise RemoteProtocolError("_embedded is not an object.")
    embedded: dict[str, tuple[Resource, ...]] = {}
    for key, value in doc.items():
        if not isinstance(key, str):
            continue
        items = []
        for item in _as_list(value):
            if isinstance(item, dict) and not _has_self(item):
                # Placeholders such as the multi-tab sample's "me": {} have no identity to use.
                log.debug("ignoring embedded %r without a self link", key)
                continue
            items.append(_parse(item, base_url, rel=key, href=None, depth=depth + 1))
        if items:
            embedded[key] = tuple(items)
    return CIMap(embedded)


def _has_self(doc: dict[Any, Any]) -> bool:
    links = doc.get("_links")
    if not isinstance(links, dict):
        return False
    own = links.get("self")
    if isinstance(own, list):
        own = own[0] if own else None
    return isinstance(own, dict) and isinstance(own.get("href"), str)


def _parse(
    doc: object, base_url: str, *, rel: str | None, href: str | None, depth: int
) -> Resource:
    if depth > MAX_DEPTH:
        raise RemoteProtocolError("The server sent a resource nested too deeply.")
    if not isinstance(doc, dict):
        raise RemoteProtocolError(f"Expected a JSON object for {rel or 'a resource'}.")
    own_rel = doc.get("rel")
    if own_rel is not None and not isinstance(own_rel, str):
        raise RemoteProtocolError("A resource's rel is not a string.")
    links = _parse_links(doc.get("_links"), base_url)
    self_href = links["self"][0].href if "self" in links else href
    if self_href is None:
        raise RemoteProtocolError(f"The {own_rel or rel or 'resource'} resource has no self link.")
    properties = {
        key: value
        for key, value in doc.items()
        if isinstance(key, str) and key not in ("rel", "_links", "_embedded")
    }
    return Resource(
        rel=own_rel or rel or "",
        href=self_href,
        properties=CIMap(properties),
        links=links,
        embedded=_parse_embedded(doc.get("_embedded"), base_url, depth),
    )


def parse_resource(
    doc: object, base_url: str, *, rel: str | None = None, href: str | None = None
) -> Resource:
    """Parse a JSON resource (already decoded) whose relative hrefs resolve against ``base_url``.

    ``rel`` is used when the document names no type (discovery documents); ``href`` is its identity
    when it has no self link (an event body is identified by the event's link; a discovery redirect
    by the URL it was fetched from). Without either, a document lacking a self link falls back to
    ``base_url`` only at the top level; embedded resources must have their own. Raises
    RemoteProtocolError and nothing else.
    """
    if href is None and isinstance(doc, dict) and not _has_self(doc):
        href = base_url
    try:
        return _parse(doc, base_url, rel=rel, href=href, depth=0)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        # A defensive net: a parser bug must still look like "the server sent nonsense".
        raise RemoteProtocolError(f"Unreadable resource: {exc.__class__.__name__}") from exc


_DATE = re.compile(r"^/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/$")


def parse_date(value: object) -> datetime | None:
    """``"/Date(1474932024822)/"`` (JSON form, docs/protocol.md §1.1) or ISO 8601 → aware UTC."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if match:
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
        except OverflowError:
            return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # Plain dicts are case-sensitive; httpx.Headers is not. Support both.
        folded = name.casefold()
        value = next((v for k, v in headers.items() if k.casefold() == folded), None)
    return value


def parse_error_body(status: int, headers: Mapping[str, str], body: bytes) -> ServerError:
    """Turn an HTTP error answer into a typed error (ApplicationGone for a dead application).

    A body that is not a UCWA error object came from an intermediary (docs/protocol.md §1.1): the
    error then carries the status only. The server's ``message`` is logged, never shown: the user
    gets our own sentence for the subcode (docs/protocol.md §11 check 38: never parse it).
    """
    code: str | None = None
    subcode: str | None = None
    try:
        doc = decode_json(body, limit=ERROR_LIMIT) if body.strip() else None
    except BodyError:
        doc = None  # cut short at ERROR_LIMIT, or not JSON at all: the status says enough
    if isinstance(doc, dict):
        raw_code, raw_subcode = doc.get("code"), doc.get("subcode")
        code = raw_code if isinstance(raw_code, str) and raw_code else None
        subcode = raw_subcode if isinstance(raw_subcode, str) and raw_subcode else None
        if subcode is not None and subcode.casefold() == "none":
            subcode = None  # docs/protocol.md §12 #23: "None" and absent mean the same
        if doc.get("debugInfo") or doc.get("message"):
            log.debug(
                "UCWA error %s %s/%s: message=%r debugInfo=%r",
                status,
                code,
                subcode,
                doc.get("message"),
                doc.get("debugInfo"),
            )
    diagnostics = _header(headers, "X-Ms-Diagnostics")
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    message = reason_message(code, subcode) if (code or subcode) else _status_message(status)
    gone = (status == 404 and (subcode or "").casefold() == "applicationnotfound") or (
        status == 410 and (subcode or "").casefold() not in _FATAL_410
    )
    cls = ApplicationGone if gone else ServerError
    return cls(
        status,
        code,
        subcode,
        message=message,
        diagnostics=diagnostics,
        retry_after=retry_after,
    )


def _status_message(status: int) -> str:
    if status in (502, 503, 504):
        return "The server is busy or down; try again later."
    if status == 429:
        return "Too many requests; try again in a moment."
    if 500 <= status < 600:
        return "The server ran into a problem."
    if status == 403:
        return "You are not allowed to do that."
    if status == 404:
        return "The server could not find what was asked for."
    return f"The server answered with HTTP status {status}."
