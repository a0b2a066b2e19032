"""SignInService: method detection from the challenge, logout and forget, CLI argument helpers."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx
import keyring
import pytest

from app.auth.errors import ProviderError
from app.auth.service import SignInService, detect_method
from app.auth.store import Kind, TokenStore
from app.commands import login
from app.settings import Settings


@dataclass(frozen=True)
class Challenge:
    scheme: str = "MsRtcOAuth"
    token_url: str | None = "https://pool.contoso.com/WebTicket/oauthtoken"
    grant_types: tuple[str, ...] = ("urn:microsoft.rtc:windows", "password")
    resource: str = "https://pool.contoso.com"
    params: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


BEARER = Challenge(
    scheme="Bearer",
    token_url=None,
    grant_types=(),
    params=MappingProxyType({"authorization_uri": "https://login.example/common/oauth2/authorize"}),
)


@pytest.mark.parametrize(
    ("challenge", "setting", "method"),
    [
        (Challenge(), "webticket", "webticket"),
        (Challenge(), "aad", "aad"),  # hybrid: MsRtcOAuth challenge, token from Azure AD
        (BEARER, "webticket", "aad"),  # the server can only be answered with Azure AD
        (Challenge(grant_types=("urn:microsoft.rtc:passive",)), "webticket", "aad"),
    ],
)
def test_method_follows_the_servers_challenge(challenge, setting: str, method: str) -> None:
    assert detect_method(challenge, setting) == method


@pytest.mark.anyio
async def test_web_ticket_needs_a_user_name() -> None:
    async with httpx.AsyncClient() as http:
        service = SignInService(Settings(discovery_url="https://x/"), http, store=_memory())
        with pytest.raises(ProviderError, match="user name"):
            await service.get_token(Challenge())


def _memory() -> TokenStore:
    import keyring.backends.fail

    return TokenStore(keyring.backends.fail.Keyring())


@pytest.mark.anyio
@pytest.mark.keyring
async def test_logout_removes_this_account_and_forget_removes_everything(
    keyring_store: TokenStore,
) -> None:
    for account in ("alice@contoso.com", "bob@contoso.com"):
        keyring_store.set(Kind.WEBTICKET, account, "{}")
        keyring_store.set(Kind.PASSWORD, account, f"pw-of-{account}")
    keyring_store.set(Kind.MSAL_CACHE, "alice@contoso.com", "c" * 5000)
    settings = Settings(address="alice@contoso.com")
    async with httpx.AsyncClient() as http:
        service = SignInService(settings, http, store=keyring_store)
        assert await service.logout() == 3  # alice's ticket, password and msal cache
        assert keyring_store.get(Kind.PASSWORD, "alice@contoso.com") is None
        assert keyring_store.get(Kind.MSAL_CACHE, "alice@contoso.com") is None
        assert keyring_store.get(Kind.PASSWORD, "bob@contoso.com") == "pw-of-bob@contoso.com"

        assert await service.logout(forget=True) == 2  # bob's ticket and password
    assert keyring_store.get(Kind.PASSWORD, "bob@contoso.com") is None
    assert keyring.get_password(keyring_store.service, "index") is None


def test_login_arguments_become_settings_without_any_secret() -> None:
    parser = argparse.ArgumentParser()
    login.add_arguments(parser)
    args = parser.parse_args(["--server", "https://lync.contoso.com", "--user", "CONTOSO\\alice"])
    settings = login.apply_arguments(Settings(address="old@contoso.com"), args)
    assert settings.discovery_url == (
        "https://lync.contoso.com/autodiscover/autodiscoverservice.svc/root"
    )
    assert settings.address is None and settings.user == "CONTOSO\\alice"
    with pytest.raises(SystemExit):
        parser.parse_args(["--password", "x"])  # there is no such option, on purpose


def test_a_full_discovery_url_is_kept() -> None:
    url = "https://lync.contoso.com/autodiscover/autodiscoverservice.svc/root/oauth/user"
    assert login.discovery_url(url) == url
