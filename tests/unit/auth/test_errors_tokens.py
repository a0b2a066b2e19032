"""Sign-in errors tell the user what to do; tokens never show their value."""

from __future__ import annotations

import pytest

from app.auth import errors
from app.auth.tokens import AccessToken, parse_expires_in


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (errors.InvalidCredentials(), "check them"),
        (errors.AccountLocked(), "administrator"),
        (errors.PasswordExpired(), "change it"),
        (errors.InteractionRequired(), "enter your password"),
        (errors.MfaRequired(), "device code"),
        (errors.ProviderUnreachable("lync.contoso.com"), "lync.contoso.com"),
        (errors.UntrustedCertificate("lync.contoso.com"), "CA bundle"),
        (errors.ProviderError(), "try again"),
    ],
)
def test_every_error_says_what_to_do(error: errors.AuthError, advice: str) -> None:
    assert isinstance(error, errors.AuthError)
    assert advice.lower() in error.user_message.lower()


def test_untrusted_certificate_names_the_host_and_is_a_connection_problem() -> None:
    error = errors.UntrustedCertificate("lync.contoso.com")
    assert error.host == "lync.contoso.com" and isinstance(error, errors.ProviderUnreachable)
    assert "turn off" not in error.user_message and "disable" not in error.user_message


def test_a_token_never_shows_its_value() -> None:
    token = AccessToken.issued("cwt=SECRETVALUE", 3600, resource="https://pool")
    assert "SECRETVALUE" not in repr(token) and "SECRETVALUE" not in str(token)
    assert "https://pool" in repr(token)
    assert AccessToken.from_dict(token.to_dict()) == token


def test_token_lifetime_and_early_renewal() -> None:
    token = AccessToken("cwt=x", expires_at=1000.0, issued_at=0.0)
    assert not token.due_for_refresh(899) and token.due_for_refresh(900)  # a tenth early
    assert not token.expired(900) and token.expired(990)  # 30 s margin


def test_a_long_token_is_renewed_five_minutes_before_it_ends() -> None:
    ticket = AccessToken("cwt=x", expires_at=28_800.0, issued_at=0.0)  # 8 hours
    assert ticket.renew_at == 28_500.0
    assert not ticket.due_for_refresh(28_499) and ticket.due_for_refresh(28_500)
    short = AccessToken("cwt=y", expires_at=60.0, issued_at=0.0)
    assert short.renew_at == 54.0


@pytest.mark.parametrize("raw", [None, [], {"value": ""}, {"value": "x", "expires_at": "soon"}])
def test_foreign_token_data_is_rejected(raw: object) -> None:
    with pytest.raises(ValueError):
        AccessToken.from_dict(raw)


def test_expires_in_as_sent_by_servers() -> None:
    assert parse_expires_in("28289") == 28289 and parse_expires_in(None) == 3600
    assert parse_expires_in(-5) == 3600
