"""app.wiring: the window and the commands sign in by the same rules (TLS, keyring, caches)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import pytest

from app import wiring
from app.auth.errors import ProviderError
from app.auth.store import Kind, TokenStore
from app.history.service import HistoryService
from app.settings import Settings
from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallSnapshot, ConnectionState, SessionStatus
from app.ucwa.auth import AuthChallenge
from app.viewmodel.ports import Account


def _discovery_cache() -> Path:
    return Path(platformdirs.user_state_dir("ucwa-phone", appauthor=False)) / "discovery.json"


async def _window_session(http: httpx.AsyncClient, account: Account, password: str) -> Any:
    adapter = wiring.SignInAdapter(http, Settings(), persistent=True)
    return await adapter.open_session(account, password, show_device_code=lambda _text: None)


async def _command_session(http: httpx.AsyncClient, account: Account, password: str) -> Any:
    settings = Settings(user=account.user, address=account.address, discovery_url=account.server)
    keep = not account.ephemeral
    tokens = wiring.token_provider(http, settings, keep=keep, password=password, interaction="none")
    return wiring.session(http, tokens, settings, keep=keep)


@pytest.mark.anyio
@pytest.mark.parametrize("build", [_window_session, _command_session], ids=["window", "command"])
@pytest.mark.parametrize("ephemeral", [True, False], ids=["demo account", "real account"])
async def test_the_demo_account_leaves_nothing_behind_and_a_real_one_is_remembered(
    build: Callable[..., Any],
    ephemeral: bool,
    sim_server: SimServer,
    sim_credentials: tuple[str, str],
) -> None:
    user, password = sim_credentials
    store = TokenStore()
    await store.adelete(Kind.WEBTICKET, user)  # the keyring is shared by the whole test run
    account = Account(address=user, server=sim_server.discovery_url, user=user, ephemeral=ephemeral)
    async with wiring.make_http(Settings()) as http:
        session = await build(http, account, password)
        try:
            await session.sign_in()  # plain http is fine to this machine
            assert session.status.state is ConnectionState.SIGNED_IN
        finally:
            await session.aclose()
    kept_token = await store.aget(Kind.WEBTICKET, user)
    assert (kept_token is not None) is not ephemeral
    assert _discovery_cache().exists() is not ephemeral


@pytest.mark.anyio
@pytest.mark.parametrize("keep", [False, True], ids=["demo account", "real account"])
async def test_a_password_never_goes_unencrypted_to_another_machine(keep: bool) -> None:
    settings = Settings(user="alice@contoso.com", address="alice@contoso.com")
    challenge = AuthChallenge(
        scheme="MsRtcOAuth",
        token_url="http://lyncweb.contoso.com/WebTicket/oauthtoken",
        grant_types=("password",),
        resource="http://lyncweb.contoso.com",
    )
    async with wiring.make_http(settings) as http:
        tokens = wiring.token_provider(
            http, settings, keep=keep, password="s3cret", interaction="none"
        )
        with pytest.raises(ProviderError, match="unencrypted"):
            await tokens.get_token(challenge)


@pytest.mark.anyio
async def test_a_private_ca_bundle_is_trusted_and_nothing_else_is() -> None:
    with SimServer(Simulator(SimConfig()), tls=True) as server:
        assert server.ca_pem_path is not None
        async with wiring.make_http(Settings(ca_bundle=server.ca_pem_path)) as http:
            assert (await http.get(server.discovery_url)).status_code == 200
        async with wiring.make_http(Settings()) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(server.discovery_url)


def test_a_missing_ca_bundle_is_named_with_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(wiring.CaBundleUnreadable) as caught:
        wiring.make_http(Settings(ca_bundle=str(missing)))
    assert str(caught.value) == (
        f"The CA bundle {missing} cannot be read: No such file or directory."
    )


def test_a_ca_bundle_without_certificates_is_named_too(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(wiring.CaBundleUnreadable, match=f"The CA bundle {junk} cannot be read"):
        wiring.make_http(Settings(ca_bundle=str(junk)))


def test_the_window_gives_up_on_a_dead_server_sooner_than_a_command() -> None:
    window = wiring.make_http(Settings(), window=True)
    command = wiring.make_http(Settings())
    assert window.timeout.connect is not None and command.timeout.connect is not None
    assert window.timeout.connect < command.timeout.connect


def test_the_password_comes_from_the_environment_only_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(wiring.PASSWORD_ENV, raising=False)
    assert wiring.env_password() is None
    monkeypatch.setenv(wiring.PASSWORD_ENV, "")
    assert wiring.env_password() is None
    monkeypatch.setenv(wiring.PASSWORD_ENV, "s3cret")
    assert wiring.env_password() == "s3cret"


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("lync.contoso.com", "https://lync.contoso.com/autodiscover/autodiscoverservice.svc/root"),
        (
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/autodiscover/autodiscoverservice.svc/root",
        ),
        ("https://lyncdiscover.contoso.com/x/root", "https://lyncdiscover.contoso.com/x/root"),
    ],
)
def test_a_bare_server_name_gets_the_autodiscovery_path(server: str, url: str) -> None:
    assert wiring.discovery_url(server) == url


@pytest.mark.anyio
@pytest.mark.parametrize("ephemeral", [True, False], ids=["demo account", "real account"])
async def test_window_calls_go_to_the_history_file_of_their_account(
    tmp_path: Path, ephemeral: bool, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    history = HistoryService(tmp_path)
    account = Account(address=user, server=sim_server.discovery_url, user=user, ephemeral=ephemeral)
    async with wiring.make_http(Settings()) as http:
        adapter = wiring.SignInAdapter(http, Settings(), persistent=False, history=history)
        session = await adapter.open_session(account, password, show_device_code=lambda _t: None)
        try:
            ended = _Ended()
            session.add_listener(ended)
            await session.sign_in()
            await session.start_call("(425) 555-0101", "+14255550123")  # busy
            async with asyncio.timeout(10):
                await ended.wait()
        finally:
            await session.aclose()
    store = history.store(ephemeral, create=False)
    assert store is not None and not history.path(not ephemeral).exists()
    [entry] = store.entries()
    assert (entry.typed, entry.sent, entry.outcome) == (
        "(425) 555-0101",
        "tel:+14255550101",
        "busy",
    )
    assert await adapter.notice() is None


@pytest.mark.anyio
async def test_a_damaged_history_is_told_once_after_sign_in(tmp_path: Path) -> None:
    history = HistoryService(tmp_path)
    history.path(False).write_bytes(b"not a database" * 300)
    account = Account(address="a@contoso.com", server="https://127.0.0.1:9/")
    async with wiring.make_http(Settings()) as http:
        adapter = wiring.SignInAdapter(http, Settings(), persistent=False, history=history)
        session = await adapter.open_session(account, "pw", show_device_code=lambda _t: None)
        notice = await adapter.notice()
        assert notice is not None and "moved aside" in notice
        assert await adapter.notice() is None
        await session.aclose()


class _Ended(asyncio.Event):
    """A session listener set once the call is over."""

    def on_status(self, status: SessionStatus) -> None:
        """The connection's state does not matter here; only the call's end does."""

    def on_call(self, snapshot: CallSnapshot) -> None:
        if snapshot.state.is_final:
            self.set()
