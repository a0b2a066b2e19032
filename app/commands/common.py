"""What the headless commands share: the password variable, discovery URLs, the HTTP client.

Kept free of the sign-in stack (msal, keyring) so `ucwa-phone call` in demo mode does not pay
for importing it.
"""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit

import httpx

from app.logs import register_secret
from app.settings import Settings

PASSWORD_ENV = "UCWA_PHONE_PASSWORD"
DISCOVERY_PATH = "/autodiscover/autodiscoverservice.svc/root"


def discovery_url(server: str) -> str:
    """A bare server URL gets the autodiscovery path; a full discovery URL stays as it is."""
    parts = urlsplit(server if "://" in server else f"https://{server}")
    if parts.path in ("", "/"):
        return f"{parts.scheme}://{parts.netloc}{DISCOVERY_PATH}"
    return parts.geturl()


def env_password() -> str | None:
    """$UCWA_PHONE_PASSWORD, or None; registered first so no log line can show it."""
    password = os.environ.get(PASSWORD_ENV) or None
    register_secret(password)
    return password


def make_http(settings: Settings) -> httpx.AsyncClient:
    """The client for the UCWA server and the web-ticket endpoint (system CAs + the bundle)."""
    context = ssl.create_default_context()
    if settings.ca_bundle:
        context.load_verify_locations(cafile=settings.ca_bundle)
    return httpx.AsyncClient(verify=context, timeout=httpx.Timeout(30.0))
