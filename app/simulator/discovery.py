"""Discovery root, user resource, web-ticket token endpoint and the 401 challenge."""

from __future__ import annotations

import json

from starlette.responses import Response

import app.simulator.documents as d
from app.simulator.context import Ctx
from app.simulator.errors import JSON_TYPE, diagnostics, error_response
from app.simulator.pool import pool_origin

GRANT_TYPES = "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"
TRUSTED_ISSUERS = "00000001-0000-0000-c000-000000000000@*"

# Pool prefixes used by the redirect modes (same server, second path prefix).
POOL2 = "/pool2"


def json_response(
    doc: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(json.dumps(doc).encode(), status_code=status, media_type=JSON_TYPE)
    response.headers["Cache-Control"] = "no-cache"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def challenge(ctx: Ctx, reason: str = "No valid security token.") -> Response:
    """401 with the MsRtcOAuth challenge plus the Bearer one (AAD details when configured)."""
    cfg = ctx.sim.config
    response = error_response(401, None, reason, fqdn=cfg.server_fqdn)
    token_url = ctx.origin + d.TOKEN_PATH
    response.headers["WWW-Authenticate"] = (
        f'MsRtcOAuth href="{token_url}",grant_type="{GRANT_TYPES}"'
    )
    bearer = f'Bearer trusted_issuers="{TRUSTED_ISSUERS}", client_id="{cfg.aad_client_id}"'
    if cfg.aad_authority:
        authorize = cfg.aad_authority.rstrip("/") + "/oauth2/authorize"
        bearer += f', authorization_uri="{authorize}"'
    response.headers.append("WWW-Authenticate", bearer)
    return response


def authenticate(ctx: Ctx) -> Response | None:
    """Sets ctx.user from the bearer token, or returns the 401 challenge to send."""
    token = ctx.bearer()
    if token is None:
        return challenge(ctx)
    user = ctx.sim.user_for_token(token, ctx.origin)
    if user is None:
        return challenge(ctx, "The security token is invalid or has expired.")
    ctx.user = user
    return None


async def root(ctx: Ctx) -> Response:
    prefix = ctx.params.get("prefix", "")
    mode = ctx.sim.config.redirect
    if mode == "loop":
        other = "" if prefix else POOL2
        return json_response(d.redirect_doc(ctx.origin, other + d.DISCOVERY_PATH))
    if mode == "root" and not prefix:
        return json_response(d.redirect_doc(ctx.origin, POOL2 + d.DISCOVERY_PATH))
    return json_response(d.root_doc(ctx.origin, prefix))


async def user(ctx: Ctx) -> Response:
    denied = authenticate(ctx)
    if denied is not None:
        return denied
    prefix = ctx.params.get("prefix", "")
    if ctx.sim.config.redirect == "user" and not prefix:
        return json_response(d.redirect_doc(ctx.origin, POOL2 + d.DISCOVERY_PATH))
    if ctx.sim.config.redirect == "host":
        pool = pool_origin(ctx.origin, ctx.sim.config.pool_host)
        if pool is not None:  # the user is homed on the pool: its own origin, its own tokens
            return json_response(d.redirect_doc(pool, d.DISCOVERY_PATH))
    return json_response(d.user_doc(ctx.origin, prefix))


async def xframe(ctx: Ctx) -> Response:
    return Response("<!DOCTYPE html><title>XFrame</title>", media_type="text/html")


def _oauth_error(ctx: Ctx, error: str, reason: str, diag: int) -> Response:
    response = json_response({"error": error}, status=400)
    response.headers["X-Ms-Diagnostics"] = (
        f'{diag};source="{ctx.sim.config.server_fqdn}";reason="{reason}"'
    )
    return response


async def token(ctx: Ctx) -> Response:
    """Web-ticket grant (docs/protocol.md §3.1): form-encoded; only `password` is implemented."""
    ctype = ctx.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return _oauth_error(ctx, "invalid_request", "Form-encoded body required.", 28032)
    form = await ctx.form_input()
    grant = form.get("grant_type", "")
    if grant != "password":
        if not grant:
            return _oauth_error(ctx, "invalid_request", "grant_type is required.", 28032)
        return _oauth_error(
            ctx, "unsupported_grant_type", "Authentication type not allowed.", 28029
        )
    name, password = form.get("username", ""), form.get("password", "")
    if not name or not password:
        return _oauth_error(ctx, "invalid_request", "username and password are required.", 28032)
    user = ctx.sim.find_user(name)
    if user is None or ctx.sim.config.users[user] != password:
        return _oauth_error(ctx, "invalid_grant", "No valid security token.", 28020)
    issued = ctx.sim.issue_token(user, realm=ctx.origin)
    body = {
        "access_token": issued.value,
        "token_type": "Bearer",
        "expires_in": max(1, int(ctx.sim.config.token_lifetime_s)),
        "ms_rtc_identityscope": "local",
    }
    return json_response(body, headers={"Cache-Control": "no-store"})


__all__ = ["authenticate", "challenge", "diagnostics", "json_response", "root", "token", "user"]
