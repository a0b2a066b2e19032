"""A tiny protocol-following test client for the simulator's own unit tests (in-process ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator

USER, PASSWORD = "alice@contoso.com", "demo-password"
ORIGIN = "http://sim.test"
CONTROL = "http://127.0.0.1"  # the /_sim/ endpoints answer only to a loopback Host header
JSON = {"Content-Type": "application/json"}


@dataclass
class Ev:
    sender: str
    type: str
    rel: str
    href: str
    raw: dict[str, Any]

    @property
    def body(self) -> dict[str, Any] | None:
        embedded: dict[str, Any] | None = self.raw.get("_embedded", {}).get(self.rel)
        return embedded

    @property
    def state(self) -> str | None:
        return None if self.body is None else self.body.get("state")


class Ucwa:
    """Signs in, creates an application and follows only the hrefs the server returns."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token = ""
        self.app: dict[str, Any] = {}
        self.next_url = ""
        self.seen: list[Ev] = []

    def url(self, href: str) -> str:
        return href if href.startswith("http") else ORIGIN + href

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, href: str, **kw: Any) -> httpx.Response:
        return await self.http.get(self.url(href), headers=self.auth, **kw)

    async def post(self, href: str, **kw: Any) -> httpx.Response:
        return await self.http.post(self.url(href), headers=self.auth, **kw)

    async def sign_in(self, user: str = USER, password: str = PASSWORD) -> None:
        root = (await self.http.get("/autodiscover/autodiscoverservice.svc/root")).json()
        user_url = root["_links"]["user"]["href"]
        challenge = await self.http.get(user_url)
        assert challenge.status_code == 401
        token_url = challenge.headers["www-authenticate"].split('href="')[1].split('"')[0]
        grant = {"grant_type": "password", "username": user, "password": password}
        self.token = (await self.http.post(token_url, data=grant)).json()["access_token"]
        apps = (await self.get(user_url)).json()["_links"]["applications"]["href"]
        body = {"userAgent": "tests/1.0", "endpointId": "e-1", "culture": "en-US"}
        created = await self.post(apps, json=body)
        assert created.status_code == 201, created.text
        self.app = created.json()
        self.next_url = self.app["_links"]["events"]["href"]

    def link(self, *path: str) -> str:
        doc: Any = self.app
        for part in path[:-1]:
            doc = doc["_embedded"][part]
        href: str = doc["_links"][path[-1]]["href"]
        return href

    async def poll(self) -> dict[str, Any]:
        """One P-GET on the current `next`; collects events into self.seen."""
        response = await self.get(self.next_url)
        assert response.status_code == 200, response.text
        doc: dict[str, Any] = response.json()
        links = doc["_links"]
        self.next_url = (links.get("next") or links.get("resume") or links.get("resync"))["href"]
        for sender in doc.get("sender", []):
            for event in sender["events"]:
                self.seen.append(
                    Ev(
                        sender["rel"],
                        event["type"],
                        event["link"]["rel"],
                        event["link"]["href"],
                        event,
                    )
                )
        return doc

    async def until(self, pred: Callable[[Ev], bool], *, since: int = 0, limit: float = 5) -> Ev:
        """Poll until an event matching *pred* arrived (at index >= *since*); returns it."""
        async with asyncio.timeout(limit):
            checked = since
            while True:
                for ev in self.seen[checked:]:
                    if pred(ev):
                        return ev
                checked = len(self.seen)
                await self.poll()

    async def call(self, to: str, *, phone: str = "+14255550123", op: str = "op-1") -> str:
        start = self.link("communication", "startPhoneAudio")
        body = {"to": to, "phoneNumber": phone, "operationId": op}
        response = await self.post(start, json=body)
        assert response.status_code == 201, response.text
        return response.headers["location"]

    def last(self, rel: str) -> Ev:
        return [e for e in self.seen if e.rel == rel][-1]


@pytest.fixture
def sim_config() -> SimConfig:
    """Faster than the suite default: P-GETs are held at most 0.2 s."""
    return SimConfig(speed=50, max_poll_s=0.2)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim.asgi)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


@pytest.fixture
async def ucwa(http: httpx.AsyncClient) -> Ucwa:
    """Signed in, application created, one (empty) P-GET done so startPhoneAudio may work."""
    client = Ucwa(http)
    await client.sign_in()
    await client.poll()
    return client


def assert_ucwa_error(
    response: httpx.Response, status: int, code: str, subcode: str | None = None
) -> dict[str, Any]:
    """A UCWA error: status, JSON body with code (and subcode), X-Ms-Diagnostics header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "x-ms-diagnostics" in response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    if subcode is not None:
        assert body.get("subcode") == subcode
    return body
