"""Sans-IO parsing of P-GET bodies into ordered, typed events (docs/protocol.md §7.3)."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.ucwa.errors import RemoteProtocolError
from app.ucwa.models import Link, Resource, parse_link, parse_resource
from app.ucwa.reasons import CallReason, reason_message

__all__ = ["Event", "EventBatch", "EventType", "parse_batch", "parse_reason"]

log = logging.getLogger(__name__)


class EventType(enum.Enum):
    """What happened to the event's target: resources are added/updated/deleted,
    operations are started/updated/completed."""

    ADDED = "added"
    UPDATED = "updated"
    DELETED = "deleted"
    STARTED = "started"
    COMPLETED = "completed"


_TYPES = {t.value: t for t in EventType}


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a batch, with the sender block it came from."""

    sender_rel: str  # "communication", "conversation", "me", ...
    sender_href: str  # absolute href of the sender resource (a conversation for phoneAudio events)
    type: EventType
    link: Link  # the target: its rel names the kind of resource, its href is its identity
    resource: Resource | None = None  # the embedded body, when the server sent one
    status: str | None = None  # "Success" / "Failure" on completed operations
    reason: CallReason | None = None  # event-level reason, else one inside the embedded body
    in_link: Link | None = None  # the "in" link (e.g. which participant a participantAudio is of)

    def with_resource(self, resource: Resource) -> Event:
        """The same event with a body fetched by GET (for events that arrived without one)."""
        reason = self.reason if self.reason is not None else _resource_reason(resource)
        return replace(self, resource=resource, reason=reason)


@dataclass(frozen=True, slots=True)
class EventBatch:
    """One P-GET answer: where to poll next and the events in strict delivery order."""

    next_href: str | None
    resync_href: str | None = None
    resume_href: str | None = None
    events: tuple[Event, ...] = ()


def parse_reason(doc: object) -> CallReason | None:
    """A ``reason`` block ({code, subcode, message}) → CallReason with our own sentence."""
    if not isinstance(doc, dict):
        return None
    code, subcode = doc.get("code"), doc.get("subcode")
    code = code if isinstance(code, str) and code else None
    subcode = subcode if isinstance(subcode, str) and subcode else None
    if subcode is not None and subcode.casefold() == "none":
        subcode = None
    if code is None and subcode is None:
        return None
    return CallReason(code=code, subcode=subcode, message=reason_message(code, subcode))


def _resource_reason(resource: Resource | None) -> CallReason | None:
    return parse_reason(resource.prop("reason")) if resource is not None else None


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]  # one block where an array was expected: tolerate
    raise RemoteProtocolError(f"{what} is neither an array nor an object.")


def _body(embedded: object, rel: str, href: str, base_url: str) -> Resource | None:
    if embedded is None:
        return None
    if not isinstance(embedded, dict):
        raise RemoteProtocolError("An event's _embedded is not an object.")
    folded = rel.casefold()
    doc = next(
        (v for k, v in embedded.items() if isinstance(k, str) and k.casefold() == folded), None
    )
    if doc is None and len(embedded) == 1:
        doc = next(iter(embedded.values()))  # keyed by another name; it is still the target
    if isinstance(doc, list):
        doc = doc[0] if doc else None
    if doc is None:
        return None
    # The body's identity is the event link when the body omits its self link.
    return parse_resource(doc, base_url, rel=rel, href=href)


def _event(sender_rel: str, sender_href: str, doc: object, base_url: str) -> Event | None:
    if not isinstance(doc, dict):
        raise RemoteProtocolError("An event is not an object.")
    raw_link = doc.get("link")
    rel = raw_link.get("rel") if isinstance(raw_link, dict) else None
    if not isinstance(rel, str) or not rel:
        raise RemoteProtocolError("An event has no link rel.")
    link = parse_link(rel, raw_link, base_url)
    raw_type = doc.get("type")
    if not isinstance(raw_type, str):
        raise RemoteProtocolError(f"The event about {rel!r} has no type.")
    event_type = _TYPES.get(raw_type.strip().casefold())
    if event_type is None:
        log.debug("skipping event of unknown type %r about %r", raw_type, rel)
        return None
    raw_in = doc.get("in")
    in_link = None
    if isinstance(raw_in, dict) and isinstance(raw_in.get("href"), str):
        in_rel = raw_in.get("rel")
        in_link = parse_link(in_rel if isinstance(in_rel, str) else "in", raw_in, base_url)
    resource = _body(doc.get("_embedded"), rel, link.href, base_url)
    status = doc.get("status")
    reason = parse_reason(doc.get("reason")) or _resource_reason(resource)
    return Event(
        sender_rel=sender_rel,
        sender_href=sender_href,
        type=event_type,
        link=link,
        resource=resource,
        status=status if isinstance(status, str) else None,
        reason=reason,
        in_link=in_link,
    )


def _href(links: Mapping[Any, Any], rel: str, base_url: str) -> str | None:
    value = links.get(rel)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    return parse_link(rel, value, base_url).href


def _parse_batch(doc: object, base_url: str) -> EventBatch:
    if not isinstance(doc, dict):
        raise RemoteProtocolError("The event channel answer is not an object.")
    links = doc.get("_links")
    if not isinstance(links, dict):
        raise RemoteProtocolError("The event channel answer has no _links.")
    next_href = _href(links, "next", base_url)
    resync_href = _href(links, "resync", base_url)
    resume_href = _href(links, "resume", base_url)
    if next_href is None and resync_href is None and resume_href is None:
        raise RemoteProtocolError("The event channel answer says neither next, resync nor resume.")
    events: list[Event] = []
    # Order matters across sender blocks, and a sender may repeat (docs/protocol.md §7.3): flatten
    # in order.
    for sender in _list(doc.get("sender"), "sender"):
        if not isinstance(sender, dict):
            raise RemoteProtocolError("A sender block is not an object.")
        raw_events = _list(sender.get("events"), "events")
        if not raw_events:
            continue  # an empty block needs no identity (the docs print some without href)
        sender_rel, sender_href = sender.get("rel"), sender.get("href")
        if not isinstance(sender_rel, str) or not isinstance(sender_href, str):
            raise RemoteProtocolError("A sender block with events lacks rel or href.")
        sender_href = parse_link(sender_rel, {"href": sender_href}, base_url).href
        for raw in raw_events:
            try:
                event = _event(sender_rel, sender_href, raw, base_url)
            except (RemoteProtocolError, ValueError, TypeError, AttributeError, KeyError) as exc:
                # One odd event must not cost the whole package: refusing it would re-poll the same
                # package forever, fail the channel and drop the call (docs/protocol.md §7.5 keeps
                # going). The envelope above is still checked strictly.
                log.warning("skipping a malformed event from %s: %s", sender_rel, exc)
                continue
            if event is not None:
                events.append(event)
    return EventBatch(
        next_href=next_href,
        resync_href=resync_href,
        resume_href=resume_href,
        events=tuple(events),
    )


def parse_batch(doc: object, base_url: str) -> EventBatch:
    """Parse a decoded P-GET body. Raises RemoteProtocolError and nothing else."""
    try:
        return _parse_batch(doc, base_url)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        raise RemoteProtocolError(f"Unreadable event batch: {exc.__class__.__name__}") from exc
