"""A sign-in server dripping its answer one byte at a time: the grant fails within its deadline."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest

from app.auth.errors import ProviderUnreachable
from app.auth.msal_provider import MsalProvider
from app.auth.webticket import WebTicketProvider
from tests.helpers.authfixtures import Tls
from tests.helpers.slowdrip import SlowDrip
from tests.unit.auth.test_webticket import Challenge


@pytest.mark.anyio
async def test_a_dripping_web_ticket_endpoint_fails_the_sign_in_within_the_deadline() -> None:
    async with SlowDrip(interval_s=0.2) as drip, httpx.AsyncClient(timeout=30.0) as http:
        provider = WebTicketProvider(http, "alice@contoso.com", "pw", grant_deadline_s=1.0)
        started = time.monotonic()
        with pytest.raises(ProviderUnreachable) as caught:
            await provider.get_token(Challenge(token_url=f"{drip.url}/WebTicket/oauthtoken"))
        took = time.monotonic() - started
    assert took < 3.0
    assert caught.value.user_message.startswith(
        "The sign-in server 127.0.0.1 did not answer within 1 seconds."
    )


@pytest.mark.anyio
async def test_a_dripping_azure_ad_authority_fails_the_sign_in_within_the_deadline(
    tmp_path: Path,
) -> None:
    tls = Tls.create(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tls.cert_pem, tls.key_pem)
    async with SlowDrip(interval_s=0.2, tls=server) as drip:
        aad = MsalProvider(
            authority=f"{drip.url}/adfs",
            client_id="test-client",
            ca_bundle=str(tls.ca_pem),
            interaction="device_code",
            grant_deadline_s=1.0,
        )
        started = time.monotonic()
        with pytest.raises(ProviderUnreachable) as caught:
            await aad.get_token(Challenge(resource="https://127.0.0.1"))
        took = time.monotonic() - started
    assert took < 3.0
    assert "did not answer within 1 seconds" in caught.value.user_message
    assert drip.requests >= 1  # it did reach the authority: the deadline, not an error, ended it
