"""Resolving server hrefs and adding query parameters without disturbing the server's own."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ucwa.errors import RemoteProtocolError
from app.ucwa.links import origin, resolve, with_params

BASE = "https://pool.contoso.com/ucwa/oauth/v1/applications"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (
            "/ucwa/oauth/v1/applications/7/events?ack=1",
            "https://pool.contoso.com/ucwa/oauth/v1/applications/7/events?ack=1",
        ),
        ("https://other.contoso.com:4443/x?y=1", "https://other.contoso.com:4443/x?y=1"),
        ("  /padded  ", "https://pool.contoso.com/padded"),
        ("data:text/plain;base64,SGk=", "data:text/plain;base64,SGk="),
    ],
)
def test_resolve_relative_and_absolute(href: str, expected: str) -> None:
    assert resolve(BASE, href) == expected


@pytest.mark.parametrize("href", ["", "   ", "http://[::1"])
def test_resolve_rejects_what_is_no_url(href: str) -> None:
    with pytest.raises(RemoteProtocolError):
        resolve(BASE, href)


def test_origin() -> None:
    assert origin("https://pool.contoso.com:443/ucwa/x?y") == "https://pool.contoso.com:443"


def test_with_params_keeps_server_params_verbatim() -> None:
    url = "https://h/events?ack=3&instanceId=a%2Fb"
    assert with_params(url, timeout=900, low=10) == (
        "https://h/events?ack=3&instanceId=a%2Fb&timeout=900&low=10"
    )


def test_with_params_replaces_instead_of_duplicating() -> None:
    url = "https://h/events?timeout=180&ack=3"
    assert with_params(url, timeout=900) == "https://h/events?ack=3&timeout=900"
    assert with_params(with_params(url, timeout=900), timeout=900).count("timeout") == 1


def test_with_params_on_a_url_without_query_and_with_fragment() -> None:
    assert with_params("https://h/x#frag", q="a b") == "https://h/x?q=a%20b#frag"


def test_with_params_without_params_changes_nothing() -> None:
    assert with_params("https://h/events?ack=1") == "https://h/events?ack=1"


@given(
    ack=st.text(alphabet="abcXYZ019%-_.~", min_size=1, max_size=12),
    value=st.text(max_size=12),
)
def test_with_params_never_touches_ack(ack: str, value: str) -> None:
    url = f"https://h/events?ack={ack}"
    out = with_params(url, timeout=value)
    assert out.startswith(url + "&timeout=")
    assert "??" not in out


def test_origin_of_an_httpx_url_is_normalised() -> None:
    # Token and trust keys come from httpx URLs, so default ports and case cannot split them.
    assert origin(str(httpx.URL("https://Host.Example:443/a"))) == "https://host.example"
    assert origin(str(httpx.URL("http://127.0.0.1:8080/x?y"))) == "http://127.0.0.1:8080"
