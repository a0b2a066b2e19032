"""A tiny protocol-only UCWA 2.0 client for black-box simulator tests (never imports app.ucwa)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

JSON = dict[str, Any]
ACCEPT = {"Accept": "application/json"}
EVENT_TYPES = frozenset({"added", "updated", "deleted", "started", "completed"})

# Scenario numbers from the simulator's scenario table (README.md).
ANSWERED = "tel:+14255550100"
BUSY = "tel:+14255550101"
DECLINED = "tel:+14255550102"
NO_ANSWER = "tel:+14255550103"
CALLBACK_UNANSWERED = "tel:+14255550104"
FORWARDED = "tel:+14255550105"
REMOTE_HANGUP = "tel:+14255550106"
UNREACHABLE = "tel:+14255550107"
NOT_FOUND = "tel:+14255550108"
DO_NOT_DISTURB = "tel:+14255550109"
UNKNOWN_SUBCODE = "tel:+14255550110"
MY_WORK_PHONE = "+14255550123"
MY_MOBILE_PHONE = "+14255550124"


@dataclass(frozen=True)
class Challenge:
    """One WWW-Authenticate challenge (docs/protocol.md §2.3, §3.1)."""

    scheme: str
    params: dict[str, str]

    @property
    def token_url(self) -> str | None:
        return self.params.get("href")

    @property
    def grant_types(self) -> tuple[str, ...]:
        raw = self.params.get("grant_type", "")
        return tuple(g.strip() for g in raw.split(",") if g.strip())


_SEP = re.compile(r"[\s,]*")
_PARAM = re.compile(r'([\w.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')
_SCHEME = re.compile(r"[\w.!#$%&'*+^`|~-]+")


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Parses WWW-Authenticate values: quoted or bare params, one or several challenges."""
    found: list[Challenge] = []
    for value in values:
        pos = 0
        current: Challenge | None = None
        while True:
            pos = _SEP.match(value, pos).end()  # type: ignore[union-attr]
            if pos >= len(value):
                break
            param = _PARAM.match(value, pos)
            if param is not None and current is not None:
                raw = param.group(2)
                if raw.startswith('"'):
                    raw = raw[1:-1].replace('\\"', '"')
                current.params[param.group(1).lower()] = raw
                pos = param.end()
                continue
            scheme = _SCHEME.match(value, pos)
            if scheme is None:
                break
            current = Challenge(scheme.group(0), {})
            found.append(current)
            pos = scheme.end()
    return found


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_params(url: str, **params: str | int) -> str:
    """Adds/replaces query parameters while keeping the server's own ones verbatim."""
    return str(httpx.URL(url).copy_merge_params({k: str(v) for k, v in params.items()}))


def link(resource: JSON | None, rel: str) -> str | None:
    """The first href for rel in a resource's _links (single or list form), else None."""
    if not isinstance(resource, dict):
        return None
    links = resource.get("_links") or {}
    value = links.get(rel)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        href = value.get("href")
        return href if isinstance(href, str) else None
    return None


def links(resource: JSON | None) -> set[str]:
    if not isinstance(resource, dict):
        return set()
    return set((resource.get("_links") or {}).keys())


@dataclass(frozen=True)
class Event:
    """One event flattened out of a P-GET body, in delivery order."""

    sender: str
    sender_href: str
    type: str
    rel: str
    href: str
    body: JSON | None  # _embedded content, or a GET made right after arrival when fetched
    embedded: bool
    status: str | None
    reason: JSON | None
    raw: JSON

    @property
    def state(self) -> str | None:
        return self.body.get("state") if self.body else None

    def __repr__(self) -> str:
        extra = f" {self.state}" if self.state else ""
        if self.reason:
            extra += f" {self.reason.get('code')}/{self.reason.get('subcode')}"
        return f"<{self.sender}>{self.rel} {self.type}{extra}"


@dataclass
class Walker:
    """Signs in by discovery, follows only returned hrefs, and polls the event channel."""

    http: httpx.AsyncClient
    discovery_url: str
    user: str
    password: str
    auth: str | None = None
    token_url: str | None = None
    applications_url: str | None = None
    app: JSON | None = None
    app_url: str | None = None
    next_url: str | None = None
    events: list[Event] = field(default_factory=list)
    bodies: list[JSON] = field(default_factory=list)
    fetch_missing: frozenset[str] = frozenset()
    poll_errors: list[httpx.Response | BaseException] = field(default_factory=list)
    _poller: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    # --- plumbing -----------------------------------------------------------------------------
    def url(self, href: str) -> str:
        base = self.applications_url or self.discovery_url
        return urljoin(origin(base) + "/", href)

    async def request(
        self, method: str, href: str, *, auth: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(ACCEPT)
        headers.update(kwargs.pop("headers", {}) or {})
        if auth and self.auth:
            headers.setdefault("Authorization", self.auth)
        return await self.http.request(method, self.url(href), headers=headers, **kwargs)

    async def get(self, href: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", href, **kwargs)

    async def post(self, href: str, body: JSON | None = None, **kwargs: Any) -> httpx.Response:
        if body is None:
            return await self.request("POST", href, **kwargs)
        return await self.request("POST", href, json=body, **kwargs)

    async def get_json(self, href: str) -> JSON:
        resp = await self.get(href)
        assert resp.status_code == 200, (href, resp.status_code, resp.text)
        doc = resp.json()
        assert isinstance(doc, dict)
        return doc

    # --- discovery and auth (docs/protocol.md §2, §3) ---------------------------------------------
    async def discover(self) -> str:
        resp = await self.http.get(self.discovery_url, headers=ACCEPT)
        assert resp.status_code == 200, resp.text
        user_href = link(resp.json(), "user")
        assert user_href, resp.text
        return urljoin(self.discovery_url, user_href)

    async def grant(self, challenge: Challenge | None = None) -> str:
        token_url = challenge.token_url if challenge else self.token_url
        assert token_url, "no token URL known"
        self.token_url = token_url
        resp = await self.http.post(
            token_url,
            data={"grant_type": "password", "username": self.user, "password": self.password},
            headers=ACCEPT,
        )
        assert resp.status_code == 200, (resp.status_code, resp.text)
        doc = resp.json()
        self.auth = f"{doc['token_type']} {doc['access_token']}"
        return self.auth

    def challenge_of(self, resp: httpx.Response) -> Challenge:
        found = [
            c
            for c in parse_challenges(resp.headers.get_list("www-authenticate"))
            if c.scheme.lower() == "msrtcoauth"
        ]
        assert found, f"no MsRtcOAuth challenge in {resp.headers.get_list('www-authenticate')}"
        return found[0]

    async def sign_in(self, *, create: bool = True) -> JSON | None:
        user_url = await self.discover()
        resp = await self.http.get(user_url, headers=ACCEPT)
        assert resp.status_code == 401, (resp.status_code, resp.text)
        await self.grant(self.challenge_of(resp))
        resp = await self.http.get(user_url, headers={**ACCEPT, "Authorization": str(self.auth)})
        assert resp.status_code == 200, resp.text
        apps = link(resp.json(), "applications")
        assert apps, resp.text
        self.applications_url = urljoin(user_url, apps)
        if create:
            return await self.create_application()
        return None

    async def create_application(self, **overrides: Any) -> JSON:
        assert self.applications_url
        body = {
            "userAgent": "ConformanceWalker/1.0",
            "endpointId": str(uuid.uuid4()),
            "culture": "en-US",
            **overrides,
        }
        resp = await self.post(self.applications_url, body)
        assert resp.status_code == 201, (resp.status_code, resp.text)
        self.app = resp.json()
        self.app_url = self.url(str(link(self.app, "self")))
        self.next_url = self.url(str(link(self.app, "events")))
        return self.app

    # --- navigation helpers ----------------------------------------------------------------
    def embedded(self, rel: str) -> JSON:
        assert self.app
        value = self.app["_embedded"][rel]
        assert isinstance(value, dict)
        return value

    def communication_link(self, rel: str) -> str:
        href = link(self.embedded("communication"), rel)
        assert href, f"communication has no {rel} link"
        return href

    async def start_call(
        self,
        to: str | None = ANSWERED,
        phone: str | None = MY_WORK_PHONE,
        operation_id: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body: JSON = dict(extra)
        if to is not None:
            body["to"] = to
        if phone is not None:
            body["phoneNumber"] = phone
        body["operationId"] = operation_id or uuid.uuid4().hex
        return await self.post(self.communication_link("startPhoneAudio"), body)

    # --- event channel (docs/protocol.md §7) ------------------------------------------------------
    async def pget(
        self, url: str | None = None, *, read_timeout: float | None = 30.0, **params: str | int
    ) -> httpx.Response:
        """One P-GET on url (default: the current next URL); does not move the cursor.

        `params` are query parameters (timeout, ack, priority...); `read_timeout` is ours.
        """
        target = url or self.next_url
        assert target
        if params:
            target = with_params(self.url(target), **params)
        return await self.get(target, timeout=httpx.Timeout(read_timeout))

    def absorb(self, doc: JSON) -> list[Event]:
        """Flattens a 200 P-GET body into events and moves the cursor (next/resync/resume)."""
        self.bodies.append(doc)
        lnk = doc.get("_links") or {}
        for rel in ("next", "resume", "resync"):
            if rel in lnk:
                self.next_url = self.url(lnk[rel]["href"])
                break
        out: list[Event] = []
        for sender in doc.get("sender") or []:
            for raw in sender.get("events") or []:
                rel = raw["link"]["rel"]
                emb = (raw.get("_embedded") or {}).get(rel)
                out.append(
                    Event(
                        sender=sender["rel"],
                        sender_href=sender["href"],
                        type=raw["type"],
                        rel=rel,
                        href=self.url(raw["link"]["href"]),
                        body=emb if isinstance(emb, dict) else None,
                        embedded=isinstance(emb, dict),
                        status=raw.get("status"),
                        reason=raw.get("reason"),
                        raw=raw,
                    )
                )
        return out

    async def _fill(self, events: list[Event]) -> list[Event]:
        filled = []
        for ev in events:
            if ev.body is None and ev.rel in self.fetch_missing and ev.type != "deleted":
                resp = await self.get(ev.href)
                if resp.status_code == 200:
                    ev = Event(**{**ev.__dict__, "body": resp.json()})
            filled.append(ev)
        return filled

    async def poll_once(self, **params: str | int) -> list[Event]:
        resp = await self.pget(**params)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        new = await self._fill(self.absorb(resp.json()))
        self.events.extend(new)
        return new

    def start_polling(self, **params: str | int) -> None:
        """Keeps exactly one P-GET parked in the background, like a well-behaved client."""
        assert self._poller is None

        async def loop() -> None:
            while True:
                try:
                    resp = await self.pget(**params)
                except (httpx.TransportError, httpx.TimeoutException) as exc:
                    self.poll_errors.append(exc)
                    await asyncio.sleep(0.02)
                    continue
                if resp.status_code != 200:
                    self.poll_errors.append(resp)
                    if resp.status_code in (401, 404, 410):
                        return
                    await asyncio.sleep(0.02)
                    continue
                new = self.absorb(resp.json())
                self.events.extend(await self._fill(new))
                self._arrived.set()

        self._poller = asyncio.create_task(loop())

    async def stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def parked(self, **params: str | int) -> None:
        """Starts the background poller and gives its first P-GET time to park."""
        self.start_polling(**params)
        await asyncio.sleep(0.05)

    async def wait_for(
        self, predicate: Callable[[list[Event]], bool], within: float = 5.0
    ) -> list[Event]:
        """Waits until predicate(all events so far) holds; needs the background poller."""
        deadline = time.monotonic() + within
        while not predicate(self.events):
            if self._poller is None:
                await self.poll_once()
                continue
            if self._poller.done():
                raise AssertionError(f"poller stopped: {self.poll_errors!r}; {self.events!r}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; events so far: {self.events!r}")
            self._arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.events

    async def wait_event(
        self, rel: str, type_: str | None = None, within: float = 5.0, **props: Any
    ) -> Event:
        def match(ev: Event) -> bool:
            return (
                ev.rel == rel
                and (type_ is None or ev.type == type_)
                and all((ev.body or {}).get(k) == v for k, v in props.items())
            )

        await self.wait_for(lambda evs: any(match(e) for e in evs), within)
        return next(e for e in self.events if match(e))


def first(events: list[Event], rel: str, type_: str | None = None, **props: Any) -> Event | None:
    for ev in events:
        if (
            ev.rel == rel
            and (type_ is None or ev.type == type_)
            and all((ev.body or {}).get(k) == v for k, v in props.items())
        ):
            return ev
    return None


def index_of(events: list[Event], rel: str, type_: str | None = None, **props: Any) -> int:
    ev = first(events, rel, type_, **props)
    assert ev is not None, f"no {rel} {type_} {props} in {events!r}"
    return events.index(ev)


def inv_completed(events: list[Event]) -> bool:
    return first(events, "phoneAudioInvitation", "completed") is not None


def conversation_over(events: list[Event]) -> bool:
    return first(events, "conversation", "deleted") is not None


@asynccontextmanager
async def walker(base_discovery_url: str, user: str, password: str) -> AsyncIterator[Walker]:
    """A signed-in Walker with a fresh application; its poller is stopped on exit."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as http:
        w = Walker(http, base_discovery_url, user, password)
        w.fetch_missing = frozenset({"phoneAudio", "conversation", "phoneAudioInvitation"})
        await w.sign_in()
        try:
            yield w
        finally:
            await w.stop_polling()


# Synchronous error codes mirror the HTTP status name (docs/protocol.md §8.2).
STATUS_CODES = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    412: "PreconditionFailed",
    413: "EntityTooLarge",
    415: "UnsupportedMediaType",
    428: "PreconditionRequired",
    429: "TooManyRequests",
    500: "ServiceFailure",
    503: "ServiceUnavailable",
}
_DIAGNOSTICS = re.compile(r'^\d+;\s*source="[^"]*";\s*reason="[^"]*"')


def error_body(resp: httpx.Response) -> JSON:
    """Asserts the UCWA error format and returns the body.

    docs/protocol.md §1.1, §8.1 and §11 check 38.
    """
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), (resp.status_code, ctype, resp.text[:300])
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and body["code"], body
    expected = STATUS_CODES.get(resp.status_code)
    assert expected is None or body["code"] == expected, (resp.status_code, body)
    assert body.get("subcode") not in ("", "None"), body  # "None" in the tables = omitted
    assert "Traceback" not in resp.text
    diag = resp.headers.get("x-ms-diagnostics")
    assert diag, f"no X-Ms-Diagnostics on {resp.status_code}"
    assert _DIAGNOSTICS.match(diag), diag
    return body
