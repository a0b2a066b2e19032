"""A local OpenID Connect / OAuth identity provider (an Azure AD stand-in) for the simulator."""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.simulator.config import DEMO_USERS

# Device codes are approved after this many "authorization_pending" polls, as if the person
# had typed the code in a browser meanwhile.
DEFAULT_PENDING_POLLS = 1
PREFIX = "/aad"


Endpoint = Callable[[Request], Awaitable[Response]]


class _SimulatorHooks(Protocol):
    def add_routes(self, routes: Sequence[BaseRoute]) -> None: ...
    def add_token_validator(self, fn: Callable[[str], str | None]) -> None: ...


@dataclass
class _Grant:
    user: str
    scope: str
    expires_at: float
    audience: str = ""
    nonce: str = ""  # of the authorize request; msal checks the id token echoes it


@dataclass
class _DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    polls: int = 0


@dataclass
class AadHit:
    """One request to the identity provider (never holds a secret)."""

    t: float
    endpoint: str  # "discovery", "devicecode", "token", "authorize", "userrealm"
    grant_type: str = ""


@dataclass
class AadProvider:
    """Serves discovery, device code, authorize and token endpoints under ``/aad/<tenant>``.

    Tokens it issues are opaque strings it remembers; ``validate`` maps one back to its user for
    the simulator's UCWA endpoints. Accounts come from ``users`` (password grant only).
    """

    users: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_USERS))
    tenant: str = "contoso"
    token_lifetime_s: float = 3600.0
    pending_polls: int = DEFAULT_PENDING_POLLS
    poll_interval_s: int = 1  # "interval" of the device-code answer; msal sleeps this between polls
    device_user: str | None = None  # who "types" the device code; default: the first user
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._device: dict[str, _DeviceCode] = {}
        self._codes: dict[str, _Grant] = {}
        self._hits: list[AadHit] = []
        self._issued: list[str] = []  # every access and refresh token, for leak scans
        self.require_mfa = False  # password grant answers AADSTS50076 (test hook)
        self.decline_device_codes = False

    # -- wiring -------------------------------------------------------------------------------

    def authority(self, base_url: str) -> str:
        """What a client passes to msal as ``authority`` for a server at ``base_url``."""
        return f"{base_url.rstrip('/')}{PREFIX}/{self.tenant}"

    def install(self, sim: _SimulatorHooks) -> None:
        """Mount into a Simulator through its extension hooks add_routes / add_token_validator."""
        sim.add_routes(self.routes())
        sim.add_token_validator(self.validate)

    def routes(self) -> list[BaseRoute]:
        t = f"{PREFIX}/{{tenant}}"
        endpoints: list[tuple[str, Endpoint, list[str]]] = [
            (f"{t}/v2.0/.well-known/openid-configuration", self._discovery, ["GET"]),
            (f"{t}/.well-known/openid-configuration", self._discovery, ["GET"]),
            (f"{t}/oauth2/v2.0/devicecode", self._devicecode, ["POST"]),
            (f"{t}/oauth2/v2.0/token", self._token, ["POST"]),
            (f"{t}/oauth2/v2.0/authorize", self._authorize, ["GET"]),
            (f"{PREFIX}/common/userrealm/{{user}}", self._userrealm, ["GET"]),
        ]
        return [Route(path, _closing(fn), methods=methods) for path, fn, methods in endpoints]

    # -- observations and controls ------------------------------------------------------------

    @property
    def hits(self) -> list[AadHit]:
        with self._lock:
            return list(self._hits)

    def token_hits(self, grant_type: str | None = None) -> int:
        return sum(
            1
            for h in self.hits
            if h.endpoint == "token" and (grant_type is None or h.grant_type == grant_type)
        )

    @property
    def issued_secrets(self) -> list[str]:
        """Every access and refresh token handed out so far (tests scan output for them)."""
        with self._lock:
            return list(self._issued)

    def validate(self, token: str) -> str | None:
        """User name for a live access token this provider issued, else None."""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.expires_at <= self.clock():
            return None
        return grant.user

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (refresh tokens still work)."""
        with self._lock:
            self._access.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()

    # -- endpoints ----------------------------------------------------------------------------

    def _hit(self, endpoint: str, grant_type: str = "") -> None:
        with self._lock:
            self._hits.append(AadHit(self.clock(), endpoint, grant_type))

    async def _discovery(self, request: Request) -> Response:
        self._hit("discovery")
        base = f"{str(request.base_url).rstrip('/')}{PREFIX}/{request.path_params['tenant']}"
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["none"],
                "scopes_supported": ["openid", "profile", "offline_access"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "password",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
            }
        )

    async def _userrealm(self, request: Request) -> Response:
        self._hit("userrealm")
        return JSONResponse({"ver": "1.0", "account_type": "Managed", "domain_name": "contoso.com"})

    async def _devicecode(self, request: Request) -> Response:
        self._hit("devicecode")
        form = await _form(request)
        device_code = secrets.token_urlsafe(24)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        uri = f"{str(request.base_url).rstrip('/')}{PREFIX}/devicelogin"
        with self._lock:
            self._device[device_code] = _DeviceCode(
                client_id=str(form.get("client_id", "")),
                scope=str(form.get("scope", "")),
                user_code=user_code,
                expires_at=self.clock() + 900,
            )
        return JSONResponse(
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": self.poll_interval_s,
                "message": f"To sign in, open {uri} and enter the code {user_code}.",
            }
        )

    async def _authorize(self, request: Request) -> Response:
        # Consent is automatic: the "browser" is redirected straight back with a code.
        self._hit("authorize")
        q = request.query_params
        user = q.get("login_hint") or self._default_user()
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                user, q.get("scope", ""), self.clock() + 300, nonce=q.get("nonce", "")
            )
        answer = {"code": code, "state": q.get("state", "")}
        redirect_uri = q.get("redirect_uri", "")
        if q.get("response_mode") == "form_post":
            # msal's loopback listener wants the answer POSTed by an auto-submitting form.
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = (
                f'<html><body onload="document.forms[0].submit()">'
                f'<form method="post" action="{html.escape(redirect_uri)}">{fields}</form>'
                f"</body></html>"
            )
            return HTMLResponse(page)
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await _form(request)
        grant_type = str(form.get("grant_type", ""))
        self._hit("token", grant_type)
        client_id = str(form.get("client_id", ""))
        scope = str(form.get("scope", ""))
        if grant_type == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_grant(str(form.get("device_code", "")), client_id)
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.pop(str(form.get("refresh_token", "")), None)
            if grant is None:
                return _error("invalid_grant", "AADSTS70008: refresh token expired.", [70008])
            return self._issue(grant.user, scope or grant.scope, client_id)
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(str(form.get("code", "")), None)
            if grant is None or grant.expires_at <= self.clock():
                return _error("invalid_grant", "AADSTS70000: bad code.", [70000])
            return self._issue(grant.user, scope or grant.scope, client_id, nonce=grant.nonce)
        if grant_type == "password":
            user = str(form.get("username", ""))
            if self.users.get(user) != form.get("password"):
                return _error("invalid_grant", "AADSTS50126: invalid user or password.", [50126])
            if self.require_mfa:
                return _error("invalid_grant", "AADSTS50076: use multi-factor.", [50076])
            return self._issue(user, scope, client_id)
        return _error("unsupported_grant_type", f"grant {grant_type!r} not supported", [])

    def _device_grant(self, device_code: str, client_id: str) -> Response:
        with self._lock:
            pending = self._device.get(device_code)
            if pending is None or pending.expires_at <= self.clock():
                self._device.pop(device_code, None)
                return _error("expired_token", "AADSTS70020: device code expired.", [70020])
            if self.decline_device_codes:
                del self._device[device_code]
                return _error("authorization_declined", "AADSTS70000: declined.", [70000])
            if pending.polls < self.pending_polls:
                pending.polls += 1
                return _error("authorization_pending", "AADSTS70016: pending.", [70016])
            del self._device[device_code]
        # The token request carries no scope: echo the one asked for at /devicecode, or msal
        # caches the token with an empty target and never finds it silently.
        return self._issue(self._default_user(), pending.scope, client_id or pending.client_id)

    def _default_user(self) -> str:
        return self.device_user or next(iter(self.users), "alice@contoso.com")

    def _issue(self, user: str, scope: str, client_id: str, *, nonce: str = "") -> Response:
        now = self.clock()
        access = "aad-at-" + secrets.token_urlsafe(32)
        refresh = "aad-rt-" + secrets.token_urlsafe(32)
        scopes = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
        audience = scopes[0].rsplit("/", 1)[0] if scopes and "://" in scopes[0] else ""
        with self._lock:
            self._access[access] = _Grant(user, scope, now + self.token_lifetime_s, audience)
            self._refresh[refresh] = _Grant(user, scope, now + 90 * 86400)
            self._issued.extend((access, refresh))
        oid = f"oid-{user.split('@')[0]}"
        tid = f"tid-{self.tenant}"
        id_claims = {
            "iss": f"https://sim.invalid/{tid}/v2.0",
            "aud": client_id,
            "sub": f"sub-{oid}",
            "oid": oid,
            "tid": tid,
            "preferred_username": user,
            "name": user.split("@")[0].capitalize(),
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + self.token_lifetime_s),
        }
        if nonce:
            id_claims["nonce"] = nonce
        return JSONResponse(
            {
                "token_type": "Bearer",
                "scope": " ".join(scopes),
                "expires_in": int(self.token_lifetime_s),
                "ext_expires_in": int(self.token_lifetime_s),
                "access_token": access,
                "refresh_token": refresh,
                "id_token": _unsigned_jwt(id_claims),
                "client_info": _b64(json.dumps({"uid": oid, "utid": tid}).encode()),
            },
            headers={"Cache-Control": "no-store"},
        )


def _closing(endpoint: Endpoint) -> Endpoint:
    """msal's requests session keeps connections open indefinitely; closing each one lets the
    server (and a test) stop at once instead of waiting for idle keep-alive sockets."""

    async def handle(request: Request) -> Response:
        response = await endpoint(request)
        response.headers["Connection"] = "close"
        return response

    return handle


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's request.form() needs python-multipart, a dependency for one call.
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _error(error: str, description: str, codes: list[int]) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description, "error_codes": codes},
        status_code=400,
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unsigned_jwt(claims: Mapping[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."
