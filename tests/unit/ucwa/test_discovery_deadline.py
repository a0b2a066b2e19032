"""Discovery as a whole ends within its deadline, however slowly the server drips its answer."""

from __future__ import annotations

import time

import httpx
import pytest

from app.ucwa.auth import UcwaAuth
from app.ucwa.discovery import discover
from app.ucwa.errors import TransportError
from app.ucwa.transport import Transport
from tests.helpers.slowdrip import SlowDrip
from tests.helpers.tokens import FakeTokens
from tests.unit.ucwa.test_discovery import APPS, USER, Net, links, protected


@pytest.mark.anyio
async def test_a_server_dripping_one_byte_at_a_time_fails_discovery_within_the_deadline() -> None:
    async with SlowDrip(interval_s=0.2) as drip, httpx.AsyncClient() as http:
        transport = Transport(http, max_attempts=1)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await discover(transport, discovery_url=f"{drip.url}/autodiscover", deadline_s=1.0)
        took = time.monotonic() - started
    assert took < 3.0  # every byte came well inside the 30 s per-read timeout
    assert "did not finish within 1 seconds" in caught.value.user_message
    assert "127.0.0.1" in caught.value.user_message


@pytest.mark.anyio
async def test_time_a_person_spends_signing_in_does_not_count_against_discovery() -> None:
    net = Net(
        {
            "https://lyncdiscover.contoso.com/": lambda r: links(user=USER),
            USER: protected(applications=APPS),
        }
    )
    slow_person = FakeTokens(delay=1.0)  # typing a password takes longer than the deadline
    async with httpx.AsyncClient(transport=httpx.MockTransport(net)) as http:
        transport = Transport(http, UcwaAuth(slow_person, allowed=lambda _: True), max_attempts=1)
        found = await discover(transport, address="alice@contoso.com", deadline_s=0.5)
    assert found.applications_url == APPS
