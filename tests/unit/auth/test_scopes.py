"""Azure AD sign-in asks for the permissions the session's operations need, from one table."""

from __future__ import annotations

import httpx
import keyring.backends.fail

from app.auth.msal_provider import MsalProvider, scopes_for
from app.auth.scopes import OPERATIONS_USED, REQUIRED_SCOPES, scopes_needed
from app.auth.service import SignInService
from app.auth.store import TokenStore
from app.settings import Settings


def test_availability_and_keep_alive_need_user_read_write() -> None:
    for operation in ("me", "makeMeAvailable", "phones", "reportMyActivity"):
        assert "User.ReadWrite" in scopes_needed({operation}), operation


def test_a_call_needs_both_conversation_scopes() -> None:
    assert scopes_needed({"startPhoneAudio"}) == ("Conversations.Initiate",)
    assert scopes_needed({"conversation"}) == ("Conversations.Receive",)
    assert set(scopes_needed({"communication"})) == {
        "Conversations.Initiate",
        "Conversations.Receive",
    }


def test_sign_in_asks_for_every_scope_the_session_uses_and_nothing_else() -> None:
    assert set(REQUIRED_SCOPES) == {
        "Conversations.Initiate",
        "Conversations.Receive",
        "User.ReadWrite",
    }
    assert scopes_needed(OPERATIONS_USED) == REQUIRED_SCOPES
    assert "Contacts.ReadWrite" not in REQUIRED_SCOPES


def test_the_provider_requests_the_table_scopes_for_the_pool() -> None:
    assert MsalProvider().scopes == REQUIRED_SCOPES
    store = TokenStore(keyring.backends.fail.Keyring())
    service = SignInService(Settings(user="alice@contoso.com"), httpx.AsyncClient(), store=store)
    assert service.aad.scopes == REQUIRED_SCOPES
    assert scopes_for("https://webpool.infra.lync.com", REQUIRED_SCOPES) == [
        "https://webpool.infra.lync.com/Conversations.Initiate",
        "https://webpool.infra.lync.com/Conversations.Receive",
        "https://webpool.infra.lync.com/User.ReadWrite",
    ]
