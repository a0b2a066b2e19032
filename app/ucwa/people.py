"""Finding a colleague: the application's people → search resource, and contacts as typed values.

The search URL is learned from the application (``_embedded.people._links.search``), never built
(docs/people-search.md). Every number a contact lists goes through the one number policy in
``app.ucwa.dialing`` (``dial_target_from_server``); numbers it refuses are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from app.ucwa.dialing import DialTarget, dial_target, dial_target_from_server, is_link
from app.ucwa.errors import (
    InvalidNumber,
    LocalProtocolError,
    SearchNotAllowed,
    ServerError,
)
from app.ucwa.links import with_params
from app.ucwa.models import Resource, parse_resource

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_QUERY",
    "Contact",
    "ContactNumber",
    "is_name_query",
    "parse_contact",
    "parse_search",
    "search_href",
    "search_people",
]

DEFAULT_LIMIT: Final = 10  # a list a person can read at a glance under the number field
MAX_LIMIT: Final = 100  # the documented range of `limit` is 1 to 100
MAX_QUERY: Final = 256  # the vendor caps `query` at 256 characters
_MAX_TEXT: Final = 256  # a name, title or department longer than this is cut, not shown whole
_MAX_EMAILS: Final = 8

# The number properties of a contact, in the order they are offered, with the label shown.
NUMBER_FIELDS: Final = (
    ("work", "workPhoneNumber"),
    ("mobile", "mobilePhoneNumber"),
    ("home", "homePhoneNumber"),
    ("other", "otherPhoneNumber"),
)

GetJson = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ContactNumber:
    """One number a contact lists: ``kind`` ("work", "mobile", ...), the server's ``uri``
    (``tel:+1425554321;ext=54321``) and the target a call to it is placed to."""

    kind: str
    uri: str
    target: DialTarget


@dataclass(frozen=True, slots=True)
class Contact:
    """A person found in the address book."""

    name: str
    title: str
    department: str
    sip_uri: str
    emails: tuple[str, ...]
    numbers: tuple[ContactNumber, ...]

    @property
    def sip_target(self) -> DialTarget | None:
        """The person's SIP address as a target, or None when the server sent no usable one."""
        if not self.sip_uri:
            return None
        try:
            return dial_target(self.sip_uri)
        except InvalidNumber:
            return None

    def choices(self) -> list[tuple[str, DialTarget]]:
        """What can be dialled for this person: each number ("work", target), else the SIP
        address ("sip", target); empty when neither is usable."""
        if self.numbers:
            return [(number.kind, number.target) for number in self.numbers]
        sip = self.sip_target
        return [("sip", sip)] if sip is not None else []


def is_name_query(text: str, region: str | None = None) -> bool:
    """Whether typed text is a name (or part of an e-mail address) to look up, not a number.

    It starts with a letter, and is neither a link nor text the number policy accepts with
    letters in it ("x123" extension forms). Something with an @ is searched even when it is a
    complete SIP address: the person behind it may list numbers. Text starting with a digit,
    + or ( is a number being typed ("425 555 0100 ext. 12", or a typo after one).
    """
    text = text.strip()
    if not text or not text[0].isalpha() or len(text) > MAX_QUERY or is_link(text):
        return False
    if "@" in text:
        return True
    try:
        dial_target(text, region)
    except InvalidNumber:
        return True
    return False


def _text(resource: Resource, name: str) -> str:
    return " ".join((resource.text(name) or "").split())[:_MAX_TEXT]


def parse_contact(resource: Resource, region: str | None = None) -> Contact:
    """A contact resource as a Contact; numbers the policy refuses are dropped (and logged)."""
    numbers: list[ContactNumber] = []
    for kind, field in NUMBER_FIELDS:
        uri = resource.text(field)
        if not uri or not uri.strip():
            continue
        try:
            target = dial_target_from_server(uri.strip(), region)
        except InvalidNumber as exc:
            log.info("contact %s: %s is not dialable (%s)", resource.href, field, exc)
            continue
        numbers.append(ContactNumber(kind, uri.strip(), target))
    emails_raw = resource.prop("emailAddresses")
    emails = tuple(
        e.strip()
        for e in (emails_raw if isinstance(emails_raw, list) else [])[:_MAX_EMAILS]
        if isinstance(e, str) and e.strip()
    )
    sip_uri = _text(resource, "uri")
    name = _text(resource, "name") or sip_uri.removeprefix("sip:") or (emails[0] if emails else "")
    return Contact(
        name=name,
        title=_text(resource, "title"),
        department=_text(resource, "department"),
        sip_uri=sip_uri,
        emails=emails,
        numbers=tuple(numbers),
    )


def parse_search(
    doc: object, base_url: str, *, href: str, limit: int, region: str | None = None
) -> list[Contact]:
    """The contacts of a search answer (at most ``limit``); no ``_embedded`` means nobody."""
    answer = parse_resource(doc, base_url, rel="search", href=href)
    found = answer.embedded.get("contact", ())
    return [parse_contact(contact, region) for contact in found[:limit]]


async def search_href(application: Resource, base_url: str, get_json: GetJson) -> str:
    """The search link of the application's ``people`` resource (fetched when only linked)."""
    people = application.first("people")
    if people is None and (href := application.link("people")) is not None:
        people = parse_resource(await get_json(href), base_url, rel="people", href=href)
    search = people.link("search") if people is not None else None
    if search is None:
        raise LocalProtocolError("This server offers no address-book search.")
    return search


async def search_people(
    application: Resource,
    base_url: str,
    get_json: GetJson,
    query: str,
    limit: int = DEFAULT_LIMIT,
    *,
    region: str | None = None,
) -> list[Contact]:
    """GET ``search?query=&limit=``: the best matches first. SearchNotAllowed on 403;
    LocalProtocolError for an empty or over-long query (nothing is sent)."""
    query = " ".join(query.split())
    if not query:
        raise LocalProtocolError("Type a name to search for.")
    if len(query) > MAX_QUERY:
        raise LocalProtocolError("That is too long to search for.")
    limit = max(1, min(MAX_LIMIT, limit))
    base = await search_href(application, base_url, get_json)
    url = with_params(base, query=query, limit=limit)
    try:
        doc = await get_json(url)
    except ServerError as exc:
        if exc.status == 403:
            raise SearchNotAllowed(
                403, exc.code, exc.subcode, message=str(exc), diagnostics=exc.diagnostics
            ) from exc
        raise
    return parse_search(doc, base_url, href=url, limit=limit, region=region)
