"""Tiny token providers for client tests: a real password grant and a scripted fake."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from app.ucwa.auth import AuthChallenge


class PasswordGrant:
    """The web-ticket password grant (docs/protocol.md §3.1) in a few lines: a form POST."""

    def __init__(self, http: httpx.AsyncClient, username: str, password: str) -> None:
        self._http = http
        self._username = username
        self._password = password
        self.grants = 0
        self._cached: dict[str, str] = {}

    async def get_token(self, challenge: AuthChallenge, *, stale: str | None = None) -> str:
        cached = self._cached.get(challenge.resource)
        if cached is not None and cached != stale:
            return cached
        assert challenge.token_url, challenge
        self.grants += 1
        response = await self._http.post(
            challenge.token_url,
            data={"grant_type": "password", "username": self._username, "password": self._password},
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise PermissionError(f"token endpoint answered {response.status_code}")
        token = str(response.json()["access_token"])
        self._cached[challenge.resource] = token
        return token


class FakeTokens:
    """Hands out "cwt=1", "cwt=2", ... and records every challenge it was asked about."""

    def __init__(
        self, *, delay: float = 0.0, fail: Callable[[], BaseException] | None = None
    ) -> None:
        self.challenges: list[AuthChallenge] = []
        self.stale: list[str | None] = []
        self._delay = delay
        self._fail = fail
        self._n = 0

    async def get_token(self, challenge: AuthChallenge, *, stale: str | None = None) -> str:
        self.challenges.append(challenge)
        self.stale.append(stale)
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._fail is not None:
            raise self._fail()
        self._n += 1
        return f"cwt={self._n}"
