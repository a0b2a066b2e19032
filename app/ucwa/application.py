"""The UCWA application on the server: found (cache or discovery), created, its event channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx

from app.ucwa.discovery import DiscoveryCache, TrustRules, discover
from app.ucwa.errors import RemoteProtocolError, ServerError, TransportError
from app.ucwa.eventchannel import EventChannel
from app.ucwa.links import origin, resolve
from app.ucwa.models import Resource, parse_resource
from app.ucwa.transport import Transport, decode_json

log = logging.getLogger(__name__)

__all__ = ["Application"]


async def _no_number() -> str | None:
    return None


class Application:
    """Where the session is connected: the application resource, ``me``, ``communication``.

    ``open_channel`` builds (not starts) an event channel for a URL; the owner decides what the
    channel reports to.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        rules: TrustRules,
        cache: DiscoveryCache,
        address: str | None,
        discovery_url: str | None,
        endpoint_id: str,
        user_agent: str,
        culture: str,
        open_channel: Callable[[str], EventChannel],
        callback_number: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        self._transport = transport
        self._rules = rules
        self._cache = cache
        self._address = address
        self._discovery_url = discovery_url
        self._endpoint_id = endpoint_id
        self._user_agent = user_agent
        self._culture = culture
        self._open_channel = open_channel
        self._callback_number = callback_number or _no_number
        self.applications_url: str | None = None
        self.base = ""
        self.resource: Resource | None = None
        self.me: Resource | None = None
        self.communication: Resource | None = None
        self.channel: EventChannel | None = None
        self._available_href: str | None = None
        self.available = False  # makeMeAvailable succeeded for this application

    @property
    def _cache_key(self) -> str:
        return self._discovery_url or (self._address or "").lower()

    async def establish(self) -> None:
        """Create the application (cached URL first, else discovery) and park its channel."""
        cached = self.applications_url or self._cache.load(self._cache_key)
        if cached and not self._rules.allows(cached):
            # Written before the trust rules applied (or by hand): discover again instead.
            log.warning("ignoring a cached UCWA URL outside the trusted domains")
            self._cache.forget(self._cache_key)
            cached = None
        if cached:
            try:
                await self.create(cached)
            except (TransportError, ServerError, RemoteProtocolError) as exc:
                # docs/protocol.md §2.4: a stale cache costs one discovery, nothing more.
                log.info("cached UCWA URL failed (%s); running discovery", exc)
                self._cache.forget(self._cache_key)
                self.applications_url = None
            else:
                await self.start_channel()
                await self.make_me_available()
                return
        url = await self.discover()
        await self.create(url)
        self._cache.store(self._cache_key, url)
        await self.start_channel()
        await self.make_me_available()

    async def discover(self) -> str:
        """The applications URL from discovery (not remembered; see establish and recreate)."""
        found = await discover(
            self._transport,
            address=self._address,
            discovery_url=self._discovery_url,
            rules=self._rules,
        )
        return found.applications_url

    async def rediscover(self) -> str:
        """Discovery again after the pool moved; the URL is remembered for the next start."""
        url = await self.discover()
        self.applications_url = url
        self._cache.store(self._cache_key, url)
        return url

    async def create(self, applications_url: str) -> None:
        body = {
            "userAgent": self._user_agent,
            "endpointId": self._endpoint_id,
            "culture": self._culture,
        }
        response = await self._transport.post_json(applications_url, body)
        base = origin(applications_url)
        doc = await decode_json(response)
        if doc is None:
            location = response.headers.get("location")
            if not location:
                raise RemoteProtocolError("The server created no application.")
            doc = await self._transport.get_json(resolve(base, location))
        app = parse_resource(doc, base, rel="application")
        if app.link("events") is None:
            raise RemoteProtocolError("The application has no event channel link.")
        self.applications_url = applications_url
        self.base = base
        self.me = self.communication = None  # a new application: nothing of the old one holds
        self._available_href = None
        self.available = False
        await self._adopt(app)
        log.info("application created at %s", httpx.URL(app.href).path)

    async def _adopt(self, app: Resource) -> None:
        """Take ``me`` and ``communication`` from an application document (GET what is missing)."""
        self.resource = app
        self.me = app.first("me") or self.me
        if self.me is not None and (available := self.me.link("makeMeAvailable")):
            # Remembered: a server drops the link once used, yet the user may change the number.
            self._available_href = available
        communication = app.first("communication")
        if communication is None and (href := app.link("communication")):
            communication = parse_resource(
                await self._transport.get_json(href), self.base, rel="communication", href=href
            )
        if communication is not None:
            self.communication = communication

    async def reread(self) -> None:
        """GET the application again: after makeMeAvailable its links change (lurker start)."""
        if self.resource is None:
            return
        href = self.resource.href
        doc = await self._transport.get_json(href)
        await self._adopt(parse_resource(doc, self.base, rel="application", href=href))

    async def start_channel(self) -> None:
        """A new event channel on the application's ``events`` link (the old one is closed)."""
        assert self.resource is not None
        events = self.resource.link("events")
        assert events is not None
        await self.close_channel()
        self._start(events)

    async def restart_channel_same_url(self) -> None:
        """The same channel URL again (the application survived; its channel did not)."""
        old = self.channel
        url = old.url if old is not None else None
        if old is not None:
            await old.aclose()
        if url is None:
            await self.start_channel()
            return
        # Same parameters as the first channel: with_params replaces the ones the URL already
        # carries (the ack stays verbatim), and a later `resume` must re-send them (docs/protocol.md
        # §7.2).
        self._start(url)

    def _start(self, url: str) -> None:
        channel = self._open_channel(url)
        self.channel = channel
        channel.start()

    async def close_channel(self) -> None:
        if self.channel is not None:
            await self.channel.aclose()

    async def make_me_available(self) -> None:
        """POST makeMeAvailable with the callback number, then read the application again once.

        A real server offers startPhoneAudio and reportMyActivity only after it (docs/protocol.md
        §4.3, §5.2) and announces them in events that may carry no body, so the links are read,
        not assumed. A refusal is logged, not fatal: a server that offers the links anyway still
        works.
        """
        try:
            await self.make_me_available_or_raise()
        except ServerError as exc:
            log.info("makeMeAvailable refused: %s", exc)
        except TransportError as exc:
            log.info("makeMeAvailable failed: %s", exc)

    async def make_me_available_or_raise(self) -> str:
        """``make_me_available`` for callers that must show a refusal (the connection check):
        ServerError / TransportError propagate; returns what happened, in words."""
        href = self.me.link("makeMeAvailable") if self.me is not None else None
        href = href or self._available_href
        if href is None:
            return "not offered by the server (calls still work)"
        self._available_href = href
        body: dict[str, object] = {
            "supportedModalities": ["PhoneAudio"],
            "audioPreference": "PhoneAudio",
        }
        number = await self._callback_number()
        if number:
            body["phoneNumber"] = number
        outcome = "available"
        try:
            await self._transport.post_json(href, body)
        except ServerError as exc:
            if (exc.subcode or "").casefold() != "alreadyexists":
                raise
            outcome = "already available"
        self.available = True
        try:
            await self.reread()
        except (ServerError, TransportError, RemoteProtocolError) as exc:
            log.info("could not read the application after makeMeAvailable: %s", exc)
        return outcome

    def activity_href(self) -> str | None:
        """Where to report activity (``me`` first, then the application), if offered."""
        href = self.me.link("reportMyActivity") if self.me is not None else None
        if href is None and self.resource is not None:
            href = self.resource.link("reportMyActivity")
        return href
