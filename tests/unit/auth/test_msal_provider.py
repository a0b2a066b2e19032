"""MsalProvider with the real msal against the simulator's identity provider over https."""

from __future__ import annotations

import asyncio
import html
import re
import threading
import webbrowser
from dataclasses import dataclass, field
from types import MappingProxyType

import keyring.backends.fail
import pytest
import requests

from app import logs
from app.auth.errors import InteractionRequired, MfaRequired, ProviderError, UntrustedCertificate
from app.auth.msal_provider import DeviceCode, MsalProvider, authority_from_challenge, scopes_for
from app.auth.store import Kind, TokenStore
from tests.helpers.authfixtures import Idp

RESOURCE = "https://127.0.0.1:4443"


@dataclass(frozen=True)
class Challenge:
    resource: str = RESOURCE
    scheme: str = "Bearer"
    token_url: str | None = None
    grant_types: tuple[str, ...] = ()
    params: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    refused_authority: str | None = None


class CountingStore(TokenStore):
    """An in-memory TokenStore (keyring's fail backend) that counts writes."""

    def __init__(self) -> None:
        super().__init__(keyring.backends.fail.Keyring())
        self.writes = 0

    def set(self, kind: Kind, account: str, value: str) -> None:
        self.writes += 1
        super().set(kind, account, value)


def provider(idp: Idp, store: TokenStore | None = None, **kw) -> MsalProvider:
    codes: list[DeviceCode] = kw.pop("codes", [])
    return MsalProvider(
        authority=idp.authority,
        client_id="test-client",
        store=store,
        ca_bundle=idp.ca_pem,
        on_device_code=codes.append,
        **{"interaction": "device_code", **kw},
    )


@pytest.mark.anyio
async def test_device_code_sign_in_then_silent_from_cache(idp: Idp) -> None:
    idp.provider.pending_polls = 1  # msal must wait through one "authorization_pending"
    codes: list[DeviceCode] = []
    store = CountingStore()
    aad = provider(idp, store, codes=codes)

    token = await aad.get_token(Challenge())

    assert idp.provider.validate(token) == "alice@contoso.com"
    assert logs.secrets.scrub(f"sent {token}") == "sent ***"  # registered for log redaction
    assert len(codes) == 1 and codes[0].user_code in codes[0].text
    assert codes[0].verification_uri in codes[0].text
    assert aad.signed_in_as == "alice@contoso.com" and aad.last_source == "identity_provider"
    hits, writes = idp.provider.token_hits(), store.writes
    # Scope echoed at the device-code grant: the next call is served from msal's cache.
    assert await aad.get_token(Challenge()) == token
    assert aad.last_source == "cache"
    assert idp.provider.token_hits() == hits
    assert store.writes == writes  # unchanged cache is not written back


@pytest.mark.anyio
async def test_a_rejected_token_is_replaced_using_the_refresh_token(idp: Idp) -> None:
    aad = provider(idp)
    first = await aad.get_token(Challenge())
    idp.provider.expire_tokens()
    second = await aad.get_token(Challenge(), stale=first)
    assert second != first and idp.provider.validate(second)
    assert idp.provider.token_hits("refresh_token") == 1


@pytest.mark.anyio
async def test_a_second_host_gets_its_own_token_without_asking_the_user(idp: Idp) -> None:
    codes: list[DeviceCode] = []
    aad = provider(idp, codes=codes)
    await aad.get_token(Challenge())
    other = await aad.get_token(Challenge(resource="https://localhost:4443"))
    assert idp.provider.validate(other) and len(codes) == 1


@pytest.mark.anyio
@pytest.mark.keyring
async def test_cache_in_the_keyring_signs_in_silently_after_a_restart(
    idp: Idp, keyring_store: TokenStore
) -> None:
    token = await provider(idp, keyring_store).get_token(Challenge())
    hits = idp.provider.token_hits()

    restarted = provider(idp, TokenStore(service=keyring_store.service), interaction="none")
    assert await restarted.get_token(Challenge()) == token
    assert restarted.last_source == "cache" and idp.provider.token_hits() == hits


@pytest.mark.anyio
async def test_no_interaction_allowed_and_nothing_cached_asks_to_sign_in(idp: Idp) -> None:
    codes: list[DeviceCode] = []
    with pytest.raises(InteractionRequired, match="Sign in again"):
        await provider(idp, interaction="none", codes=codes).get_token(Challenge())
    assert codes == [] and idp.provider.token_hits() == 0


@pytest.mark.anyio
async def test_a_declined_device_code_says_so(idp: Idp) -> None:
    idp.provider.decline_device_codes = True
    with pytest.raises(InteractionRequired, match="declined"):
        await provider(idp).get_token(Challenge())


@pytest.mark.anyio
async def test_waiting_for_a_device_code_can_be_cancelled(idp: Idp) -> None:
    idp.provider.pending_polls = 1000  # nobody ever types the code
    aad = provider(idp)
    aad.on_device_code = lambda code: aad.cancel()
    with pytest.raises(InteractionRequired, match="cancelled"):
        await aad.get_token(Challenge())


@pytest.mark.anyio
async def test_untrusted_identity_provider_certificate_names_the_host(idp: Idp) -> None:
    # REQUESTS_CA_BUNDLE (system CAs) is what msal would use without our bundle.
    aad = MsalProvider(authority=idp.authority, client_id="c", interaction="device_code")
    with pytest.raises(UntrustedCertificate) as caught:
        await aad.get_token(Challenge())
    assert "127.0.0.1" in caught.value.user_message


@pytest.mark.anyio
async def test_browser_sign_in_where_a_browser_exists(idp: Idp) -> None:
    """acquire_token_interactive for real; the "browser" follows the redirects like one would."""
    visited: list[str] = []

    class Browser(webbrowser.BaseBrowser):
        def submit(self, url: str) -> None:
            page = requests.get(url, verify=idp.ca_pem, timeout=10)
            action = re.search(r'action="([^"]+)"', page.text)
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
            assert action, page.text
            requests.post(html.unescape(action.group(1)), data=fields, timeout=10)

        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            visited.append(url)
            threading.Thread(target=self.submit, args=(url,), daemon=True).start()
            return True

    webbrowser.register("ucwa-test", None, Browser("ucwa-test"), preferred=True)
    try:
        aad = provider(idp, interaction="browser", interactive_timeout_s=20)
        token = await aad.get_token(Challenge())
    finally:
        webbrowser._tryorder.remove("ucwa-test")  # type: ignore[attr-defined]
    assert idp.provider.validate(token) and visited[0].startswith(idp.authority)
    assert idp.provider.token_hits("authorization_code") == 1


def test_authority_and_scopes_from_a_challenge() -> None:
    uri = "https://login.microsoftonline.com/common/oauth2/authorize"
    assert authority_from_challenge({"authorization_uri": uri}) == (
        "https://login.microsoftonline.com/common"
    )
    assert scopes_for(
        "https://webpool.infra.lync.com", ["Conversations.Initiate", "api://x/y"]
    ) == [
        "https://webpool.infra.lync.com/Conversations.Initiate",
        "api://x/y",
    ]


@pytest.mark.anyio
async def test_an_authority_the_client_refused_is_named_instead_of_none_given() -> None:
    aad = MsalProvider(authority=None, client_id="c", username="alice@contoso.com", store=None)
    why = "lync.contoso.com sent Azure AD sign-in to login.evil.example, …; the app refused it."
    with pytest.raises(ProviderError) as caught:
        await aad.get_token(Challenge(refused_authority=why))
    assert caught.value.user_message == why and caught.value.code == "UntrustedServer"
    with pytest.raises(ProviderError, match="needs an authority"):
        await aad.get_token(Challenge())  # no authority at all: the settings are asked for


def test_mfa_answer_maps_to_mfa_required() -> None:
    from app.auth.msal_provider import _result_error

    error = _result_error({"error": "invalid_grant", "error_codes": [50076]}, "login.example")
    assert isinstance(error, MfaRequired) and "browser" in error.user_message


@pytest.mark.anyio
async def test_a_token_is_renewed_before_it_expires_not_after_a_401(idp: Idp) -> None:
    now = [idp.provider.clock()]
    aad = provider(idp, clock=lambda: now[0])
    first = await aad.get_token(Challenge())
    assert not aad.renewal_due(first)
    now[0] += idp.provider.token_lifetime_s - 299  # within the last five minutes
    assert aad.renewal_due(first)
    second = await aad.get_token(Challenge())  # no stale token: nothing was rejected
    assert second != first and idp.provider.validate(second)
    assert idp.provider.token_hits("refresh_token") == 1
    assert not aad.renewal_due(second) and not aad.renewal_due("unknown")


@pytest.mark.anyio
async def test_an_early_renewal_that_would_need_a_person_keeps_the_current_token(
    idp: Idp,
) -> None:
    now = [idp.provider.clock()]
    codes: list[DeviceCode] = []
    aad = provider(idp, clock=lambda: now[0], codes=codes)
    first = await aad.get_token(Challenge())
    idp.provider.revoke_refresh_tokens()
    now[0] += idp.provider.token_lifetime_s - 120
    assert await aad.get_token(Challenge()) == first
    assert len(codes) == 1  # only the first sign-in showed a device code


@pytest.mark.anyio
async def test_a_grant_that_finishes_after_sign_out_writes_nothing_to_the_keyring(
    idp: Idp,
) -> None:
    store = CountingStore()
    aad = provider(idp, store)
    await aad.get_token(Challenge())
    [late_app] = aad._apps.values()  # a grant given up on at its deadline still runs with it
    await aad.sign_out()
    newer = aad._token_cache  # a newer sign-in has begun and changed the new cache
    newer.has_state_changed = True
    writes = store.writes
    # The late grant's thread ends now, after the sign-out.
    await asyncio.to_thread(aad._silent_sync, late_app, scopes_for(RESOURCE, aad.scopes), True)
    assert store.writes == writes
    assert newer.has_state_changed  # the newer sign-in still saves its own state
