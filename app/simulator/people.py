"""people/search and contact: the address-book resources, answered from the directory module."""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlencode

from starlette.responses import Response

import app.simulator.documents as d
from app.simulator.context import Ctx
from app.simulator.directory import DIRECTORY, Person, find, search
from app.simulator.discovery import json_response
from app.simulator.errors import SimError
from app.simulator.resources import paths, the_app

MAX_QUERY_CHARS = 256
"""Longest `query` accepted (the vendor's documented maximum); longer -> 400."""
MAX_LIMIT = 100
"""`limit` is clamped to 1..MAX_LIMIT (the vendor's documented range); absent means the maximum."""

_LIMIT = re.compile(r"[+-]?[0-9]{1,9}")


def contact_doc(p: d.Paths, person: Person) -> d.Doc:
    """A directory contact: name, title, department, e-mail addresses and listed numbers only."""
    doc: d.Doc = {
        "rel": "contact",
        "uri": person.uri,
        "name": person.name,
        "type": "User",
        "sourceNetwork": "SameEnterprise",
        "company": "Contoso Ltd.",
        "emailAddresses": list(person.emails),
    }
    for field, value in (
        ("title", person.title),
        ("department", person.department),
        ("office", person.office),
    ):
        if value:
            doc[field] = value
    doc.update(person.phones())
    doc["etag"] = str(zlib.crc32(repr(person).encode()))
    doc["_links"] = {"self": d.link(p.contact(person.uri))}
    return doc


def _limit(ctx: Ctx) -> int:
    raw = ctx.query.get("limit")
    if raw is None or raw == "":
        return MAX_LIMIT
    if not _LIMIT.fullmatch(raw.strip()):
        raise SimError(400, "ParameterValidationFailure", parameters={"limit": "not an integer"})
    return min(max(int(raw), 1), MAX_LIMIT)


def _query(ctx: Ctx) -> str:
    raw = ctx.query.get("query")
    if raw is None or not raw.strip():
        raise SimError(400, "ParameterValidationFailure", parameters={"query": "required"})
    if len(raw) > MAX_QUERY_CHARS:
        raise SimError(
            400,
            "ParameterValidationFailure",
            parameters={"query": f"at most {MAX_QUERY_CHARS} characters"},
        )
    return raw


async def search_get(ctx: Ctx) -> Response:
    """GET people/search?query=…&limit=…: matching contacts, best first, at most `limit`."""
    app = the_app(ctx)
    user = (ctx.user or "").casefold()
    if user in {u.casefold() for u in ctx.sim.config.no_search_users}:
        raise SimError(403, message="This user is not allowed to search the address book.")
    query, limit = _query(ctx), _limit(ctx)
    found = search(query, DIRECTORY)
    p = paths(ctx, app)
    self_href = f"{p.app}/people/search?{urlencode({'query': query, 'limit': limit})}"
    doc: d.Doc = {
        "rel": "search",
        "moreResultsAvailable": len(found) > limit,
        "_links": {"self": d.link(self_href)},
    }
    if found:  # nothing matched: no `_embedded` at all, which clients must accept
        doc["_embedded"] = {"contact": [contact_doc(p, person) for person in found[:limit]]}
    return json_response(doc)


async def contact_get(ctx: Ctx) -> Response:
    """GET people/{id}: the directory entry, or a bare contact for anyone else (a number)."""
    app = the_app(ctx)
    ident = ctx.params["contact"]
    person = find(ident, DIRECTORY) if "@" in ident else None
    if person is not None:
        return json_response(contact_doc(paths(ctx, app), person))
    uri = ("sip:" + ident) if "@" in ident else ("tel:" + ident)
    return json_response(d.contact_doc(paths(ctx, app), uri))
