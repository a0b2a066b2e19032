"""Autodiscovery: sign-in address or discovery URL → ``applications`` URL (docs/protocol.md §2)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
import platformdirs

from app.files import write_private_atomically
from app.httpbody import DOCUMENT_LIMIT, BodyError, decode_json
from app.ucwa.auth import OUTER_DEADLINES
from app.ucwa.errors import (
    RemoteProtocolError,
    ServerError,
    TransportError,
    UcwaError,
    UnreadableBody,
)
from app.ucwa.links import is_loopback, origin
from app.ucwa.transport import Transport

log = logging.getLogger(__name__)

__all__ = [
    "DiscoveryCache",
    "DiscoveryError",
    "FileDiscoveryCache",
    "MemoryDiscoveryCache",
    "TrustRules",
    "discover",
    "discovery_urls",
    "plain_http_refusal",
    "trust_rules",
]

MAX_HOPS: Final = 5
# Discovery as a whole: every entry point and every hop, bodies included, in seconds. Per-read
# timeouts never fire against a server that drips one byte at a time; this bounds the total.
DISCOVERY_DEADLINE_S: Final = 30.0
# Skype for Business Online hands users between these; trusted like the user's own domain
# (docs/protocol.md §2.2).
MICROSOFT_ONLINE_DOMAINS: Final = ("online.lync.com", "infra.lync.com")


class DiscoveryError(UcwaError):
    """Discovery found no usable UCWA service (refused redirect, redirect loop, odd answer)."""


class DiscoveryCache(Protocol):
    """Remembers the ``applications`` URL per sign-in key (address or discovery URL)."""

    def load(self, key: str) -> str | None: ...
    def store(self, key: str, applications_url: str) -> None: ...
    def forget(self, key: str) -> None: ...


class MemoryDiscoveryCache:
    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def load(self, key: str) -> str | None:
        return self.entries.get(key)

    def store(self, key: str, applications_url: str) -> None:
        self.entries[key] = applications_url

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)


class FileDiscoveryCache:
    """A tiny JSON file in the platform's state dir; unreadable files are treated as empty."""

    MAX_ENTRIES: Final = 16  # demo servers on random ports must not grow it without bound

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (
            Path(platformdirs.user_state_dir("ucwa-phone", appauthor=False)) / "discovery.json"
        )

    def _read(self) -> dict[str, str]:
        try:
            raw = decode_json(self.path.read_bytes(), limit=DOCUMENT_LIMIT)
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}

    def _write(self, entries: dict[str, str]) -> None:
        try:
            write_private_atomically(self.path, json.dumps(entries, indent=1))
        except OSError as exc:  # a cache: losing it only costs one discovery
            log.warning("could not write %s: %s", self.path, exc)

    def load(self, key: str) -> str | None:
        return self._read().get(key)

    def store(self, key: str, applications_url: str) -> None:
        entries = self._read()
        entries.pop(key, None)
        entries[key] = applications_url  # newest last
        while len(entries) > self.MAX_ENTRIES:
            entries.pop(next(iter(entries)))
        self._write(entries)

    def forget(self, key: str) -> None:
        entries = self._read()
        if entries.pop(key, None) is not None:
            self._write(entries)


@dataclass(frozen=True, slots=True)
class Discovered:
    applications_url: str
    user_url: str
    hops: int


def discovery_urls(address: str) -> list[str]:
    """Internal first, then external (docs/protocol.md §2.1)."""
    domain = sip_domain(address)
    return [f"https://lyncdiscoverinternal.{domain}", f"https://lyncdiscover.{domain}"]


def sip_domain(address: str) -> str:
    address = address.strip()
    if address.lower().startswith("sip:"):
        address = address[4:]
    user, at, domain = address.rpartition("@")
    if not at or not user or not domain or "." not in domain:
        raise DiscoveryError(f"'{address}' is not a sign-in address like user@contoso.com.")
    return domain.lower()


def _trust_base(url: str) -> str:
    """The domain a discovery URL vouches for: lyncweb.contoso.com → contoso.com; IPs stay exact.

    Never less than a registrable domain: lyncweb.contoso.co.uk → contoso.co.uk, and for
    contoso.co.uk itself the host stays exact rather than trusting all of "co.uk".
    """
    host = httpx.URL(url).host.lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if labels[0].startswith("lyncdiscover") or len(labels) > 2:
        parent = labels[1:]
        if len(parent) >= 2 and not _public_suffix_like(parent):
            return ".".join(parent)
    return host


def _public_suffix_like(labels: Sequence[str]) -> bool:
    # Without a public-suffix list, be conservative: two labels where the TLD is a country code
    # and the second level is short (co.uk, com.au, ac.jp, gov.br) may be a public suffix.
    return len(labels) < 2 or (len(labels) == 2 and len(labels[1]) == 2 and len(labels[0]) <= 3)


def _in_domain(host: str, domain: str) -> bool:
    host, domain = host.lower(), domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


def plain_http_refusal(url: str) -> str | None:
    """Why sign-in must not start at ``url``, or None: credentials (password, web ticket, Bearer
    token) travel only over https, except to a server on this machine the user chose explicitly
    (the demo, ``ucwa-phone sim``, tests) (docs/protocol.md §3.4)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return f"Refusing {url[:200]!r}: it is not a valid URL."
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host)):
        return None
    shown = origin(str(parsed))
    if parsed.scheme == "http":
        return f"Refusing {shown}: sign-in over plain http would expose your password; use https."
    return f"Refusing {shown}: sign-in needs an https address."


class TrustRules:
    """Which servers belong to the user's organisation: discovery follows links only to them and
    UcwaAuth answers sign-in challenges only from them (docs/protocol.md §2.2 security check).

    This machine (loopback, over http or https) is trusted only when ``loopback`` is set, i.e. when
    discovery itself starts there: a real server naming 127.0.0.1 or localhost as a link or token
    URL would otherwise get the password sent to whatever listens locally.
    """

    def __init__(
        self, domains: Sequence[str], origins: Sequence[str] = (), *, loopback: bool = False
    ) -> None:
        self.domains = tuple(d.lower().strip(".") for d in domains if d and d.strip("."))
        # Exact origins the user configured (the discovery URL); only https ones, or loopback.
        self.origins = frozenset(
            origin(str(httpx.URL(o))) for o in origins if plain_http_refusal(o) is None
        )
        self.loopback = loopback

    def refusal(self, target: str) -> str | None:
        """Why ``target`` is not trusted, or None when it is."""
        try:
            url = httpx.URL(target)
            here = origin(str(url))
        except (httpx.InvalidURL, RemoteProtocolError):
            return "Refused to follow a link that is not a valid URL."
        host = url.host.lower()
        if here in self.origins:
            return None
        if url.scheme in ("http", "https") and is_loopback(host):
            if self.loopback:
                return None
            return (
                f"Refused to send sign-in to {host}: this machine is trusted only when the "
                "discovery address is on this machine too."
            )
        if url.scheme == "http":
            return f"Refused to follow an unencrypted redirect to {host}."
        if url.scheme != "https":
            return f"Refused to follow a redirect to a {url.scheme or 'bad'} URL."
        if not any(_in_domain(host, d) for d in self.domains):
            return (
                f"The server redirected sign-in to {host}, which is outside your domain. "
                "Allow that domain in the settings if your organisation uses it."
            )
        return None

    def allows(self, target: str) -> bool:
        """Predicate for UcwaAuth: may this origin (or URL) receive our credentials?"""
        return self.refusal(target) is None

    def check(self, target: str) -> str:
        reason = self.refusal(target)
        if reason is not None:
            raise DiscoveryError(reason)
        return str(httpx.URL(target))


def trust_rules(
    *,
    address: str | None = None,
    discovery_url: str | None = None,
    allowed_domains: Sequence[str] = (),
) -> TrustRules:
    """The rules for one sign-in: the SIP domain (or the discovery URL's parent domain), the
    discovery URL itself, explicitly allowed domains and Microsoft's online domains."""
    if address:
        base = sip_domain(address)
    elif discovery_url:
        base = _trust_base(discovery_url)
    else:
        raise DiscoveryError("Give a sign-in address or a discovery URL.")
    loopback = False
    if discovery_url:  # discovery starts there, whether or not an address is given too
        refusal = plain_http_refusal(discovery_url)
        if refusal is not None:
            raise DiscoveryError(refusal)
        loopback = is_loopback(httpx.URL(discovery_url).host)
    return TrustRules(
        [base, *allowed_domains, *MICROSOFT_ONLINE_DOMAINS],
        [discovery_url] if discovery_url else [],
        loopback=loopback,
    )


async def discover(
    transport: Transport,
    *,
    address: str | None = None,
    discovery_url: str | None = None,
    allowed_domains: Sequence[str] = (),
    rules: TrustRules | None = None,
    max_hops: int = MAX_HOPS,
    deadline_s: float = DISCOVERY_DEADLINE_S,
) -> Discovered:
    """Find the ``applications`` URL; raises DiscoveryError, TransportError, AuthenticationError.

    All of it ends within ``deadline_s``: past that, TransportError says the server is too slow.
    """
    try:
        async with asyncio.timeout(deadline_s) as deadline:
            # Paused while a person signs in (a device code, a browser): see auth.OUTER_DEADLINES.
            token = OUTER_DEADLINES.set((*OUTER_DEADLINES.get(), deadline))
            try:
                return await _discover(
                    transport, address, discovery_url, allowed_domains, rules, max_hops
                )
            finally:
                OUTER_DEADLINES.reset(token)
    except TimeoutError:
        where = sip_domain(address) if address else httpx.URL(discovery_url or "").host
        raise TransportError(
            f"Discovery for {where} did not finish within {deadline_s:g} seconds; "
            "the server answers too slowly. Try again later."
        ) from None


async def _discover(
    transport: Transport,
    address: str | None,
    discovery_url: str | None,
    allowed_domains: Sequence[str],
    rules: TrustRules | None,
    max_hops: int,
) -> Discovered:
    if discovery_url:
        refusal = plain_http_refusal(discovery_url)
        if refusal is not None:
            raise DiscoveryError(refusal)
        candidates = [discovery_url]
    elif address:
        candidates = discovery_urls(address)
    else:
        raise DiscoveryError("Give a sign-in address or a discovery URL.")
    if rules is None:
        rules = trust_rules(
            address=address, discovery_url=discovery_url, allowed_domains=allowed_domains
        )
    failure: UcwaError | None = None
    for candidate in candidates:
        try:
            return await _follow(transport, candidate, rules, max_hops)
        except (TransportError, ServerError, DiscoveryError, RemoteProtocolError) as exc:
            # docs/protocol.md §2.1: no answer, connection error, a non-200 (an HTML page counts), a
            # redirect out of the domain → try the next entry point.
            log.info("discovery at %s failed: %s", httpx.URL(candidate).host, exc)
            if failure is None or isinstance(failure, TransportError):
                failure = exc  # keep the most telling reason (a refusal beats "no answer")
    assert failure is not None
    if isinstance(failure, TransportError) and address:
        raise TransportError(
            f"Could not find the Skype for Business server for {sip_domain(address)}."
        ) from failure
    raise failure


async def _follow(transport: Transport, url: str, rules: TrustRules, max_hops: int) -> Discovered:
    hops = 0
    user_url: str | None = None
    for _ in range(2 * max_hops + 4):  # user links do not count as hops, but must not loop either
        response = await transport.request("GET", url, allow_redirects_status=True)
        if 300 <= response.status_code < 400:
            location = response.headers.get("location")
            if not location:
                raise DiscoveryError(f"{httpx.URL(url).host} redirected without a target.")
            target = str(httpx.URL(url).join(location))
            nxt = _hop(rules, target, hops, max_hops)
            hops += 1
            url = nxt
            continue
        links = _links(response, url)
        # user and applications links get the same trust check as redirects: whatever host they
        # name is where the password and the token go next.
        if "applications" in links:
            return Discovered(rules.check(links["applications"]), user_url or url, hops)
        if "user" in links:
            user_url = url = rules.check(links["user"])
            continue
        if "redirect" in links:
            url = _hop(rules, links["redirect"], hops, max_hops)
            hops += 1
            user_url = None
            continue
        raise DiscoveryError(f"{httpx.URL(url).host} answered discovery without a user link.")
    raise DiscoveryError("Discovery went round in circles; giving up.")


def _hop(rules: TrustRules, target: str, hops: int, max_hops: int) -> str:
    if hops >= max_hops:
        raise DiscoveryError(f"Discovery was redirected more than {max_hops} times; giving up.")
    return rules.check(target)


def _links(response: httpx.Response, url: str) -> dict[str, str]:
    try:
        doc: Any = decode_json(
            response.content,
            limit=DOCUMENT_LIMIT,
            content_type=response.headers.get("content-type"),
            what="The discovery service",
        )
    except BodyError as exc:
        raise UnreadableBody(str(exc)) from exc
    raw = doc.get("_links") if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        raise RemoteProtocolError("The discovery answer has no links.")
    found: dict[str, str] = {}
    for rel, value in raw.items():
        item = value[0] if isinstance(value, list) and value else value
        if isinstance(item, dict) and isinstance(item.get("href"), str):
            found[str(rel).lower()] = str(httpx.URL(url).join(item["href"]))
    return found
