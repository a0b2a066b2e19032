"""The URL table (case-insensitive), the dispatcher, and the hostile-input safety net."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

import app.simulator.calls as calls
import app.simulator.control as control
import app.simulator.discovery as discovery
import app.simulator.people as people
import app.simulator.resources as resources
from app.simulator.context import Ctx
from app.simulator.discovery import json_response
from app.simulator.errors import SimError, error_response

if TYPE_CHECKING:
    from app.simulator.simulator import Simulator

log = logging.getLogger(__name__)

Handler = Callable[[Ctx], Awaitable[Response]]


async def events_get(ctx: Ctx) -> Response:
    app = resources.the_app(ctx)
    faults = ctx.sim.faults
    doc = await app.channel.poll(
        ctx.query,
        stall_until=faults.stall_until,
        take_drop=faults.take_drop,
        shutting_down=lambda: ctx.sim.shutting_down,
    )
    return json_response(doc)


A = r"/ucwa/oauth/v1/applications/(?P<app>[^/]+)"
C = A + r"/communication/conversations/(?P<conv>[^/]+)"
P = r"(?P<prefix>/pool[0-9])?"

# (pattern on the lower-cased path, {method: handler}, needs a token)
_SPEC: list[tuple[str, dict[str, Handler], bool]] = [
    (P + r"/autodiscover/autodiscoverservice\.svc/root/?", {"GET": discovery.root}, False),
    (P + r"/?", {"GET": discovery.root}, False),
    (
        P + r"/autodiscover/autodiscoverservice\.svc/root/(oauth/)?user/?",
        {"GET": discovery.user},
        False,  # authenticates itself (the challenge is its documented behaviour)
    ),
    (r"/autodiscover/xframe/xframe\.html", {"GET": discovery.xframe}, False),
    (r"/webticket/oauthtoken", {"POST": discovery.token}, False),
    (
        r"/ucwa/oauth/v1/applications/?",
        {
            "POST": resources.applications_post,
            "GET": resources.applications_get,
            "OPTIONS": resources.applications_options,
        },
        True,
    ),
    (
        A + r"/?",
        {"GET": resources.application_get, "DELETE": resources.application_delete},
        True,
    ),
    (A + r"/events", {"GET": events_get}, True),
    (A + r"/policies", {"GET": resources.policies_get}, True),
    (A + r"/batch", {"POST": resources.batch_post}, True),
    (A + r"/people", {"GET": resources.people_get}, True),
    (A + r"/people/search", {"GET": people.search_get}, True),
    (A + r"/people/(?P<contact>[^/]+)", {"GET": people.contact_get}, True),
    (A + r"/onlinemeetings", {"GET": resources.online_meetings_get}, True),
    (A + r"/me", {"GET": resources.me_get}, True),
    (A + r"/me/phones", {"GET": resources.phones_get}, True),
    (A + r"/me/makemeavailable", {"POST": resources.make_me_available}, True),
    (A + r"/me/reportmyactivity", {"POST": resources.report_my_activity}, True),
    (A + r"/me/callforwardingsettings", {"GET": resources.call_forwarding_get}, True),
    (A + r"/me/(?P<part>presence|note|location)", {"GET": resources.me_part_get}, True),
    (
        A + r"/communication",
        {"GET": resources.communication_get, "PUT": resources.communication_put},
        True,
    ),
    (A + r"/communication/conversations", {"GET": calls.conversations_get}, True),
    (A + r"/communication/phoneaudioinvitations", {"POST": calls.start_phone_audio}, True),
    (
        A + r"/communication/phoneaudioinvitations/(?P<inv>[^/]+)",
        {"GET": calls.invitation_get},
        True,
    ),
    (
        A + r"/communication/phoneaudioinvitations/(?P<inv>[^/]+)/cancel",
        {"POST": calls.invitation_cancel},
        True,
    ),
    (
        A + r"/communication/phoneaudioinvitations/(?P<inv>[^/]+)/(?P<answer>accept|decline)",
        {"POST": calls.invitation_answer},
        True,
    ),
    (C, {"GET": calls.conversation_get, "DELETE": calls.conversation_delete}, True),
    (C + r"/phoneaudio", {"GET": calls.phone_audio_get}, True),
    (
        C + r"/phoneaudio/(?P<action>holdphoneaudio|resumephoneaudio|stopphoneaudio|"
        r"addphoneaudio)",
        {"POST": calls.phone_audio_action},
        True,
    ),
    (C + r"/participants", {"GET": calls.participants_get}, True),
    (C + r"/participants/(?P<part>[^/]+)", {"GET": calls.participant_get}, True),
    (
        C + r"/participants/(?P<part>[^/]+)/participantaudio",
        {"GET": calls.participant_audio_get},
        True,
    ),
]
TABLE = [(re.compile(pattern), handlers, auth) for pattern, handlers, auth in _SPEC]


def _match(path: str) -> tuple[dict[str, Handler], dict[str, str], bool] | None:
    for pattern, handlers, auth in TABLE:
        m = pattern.fullmatch(path)
        if m:
            params = {k: v for k, v in m.groupdict().items() if v is not None}
            return handlers, params, auth
    return None


def _check_headers(ctx: Ctx) -> None:
    """Cross-domain allow list (only when X-Ms-Origin is sent) and the version requirement."""
    cfg = ctx.sim.config
    origin = ctx.request.headers.get("x-ms-origin")
    if origin is not None and origin.strip().rstrip("/").lower() not in cfg.allowed_origins:
        raise SimError(
            403, message="Service does not allow a cross domain request from this origin."
        )
    wanted = ctx.request.headers.get("x-ms-requiresminresourceversion")
    if wanted is not None:
        try:
            version = float(wanted)
        except ValueError:
            raise SimError(
                400,
                "ParameterValidationFailure",
                parameters={"X-MS-RequiresMinResourceVersion": "must be a number"},
            ) from None
        if not version <= cfg.max_resource_version:  # NaN is unsupported too
            raise SimError(404, "APIVersionNotSupported")


def build_app(sim: Simulator) -> Starlette:
    """The Starlette app: /_sim/ control routes, extra routes (added later), then UCWA."""
    fqdn = sim.config.server_fqdn

    async def dispatch(request: Request) -> Response:
        sim.bind_loop()
        path = request.url.path.lower()
        if len(request.url.path) > 2048:
            return error_response(404, "ResourceNotFound", fqdn=fqdn)
        found = _match(path)
        if found is None:
            return error_response(404, "ResourceNotFound", "No such resource.", fqdn=fqdn)
        handlers, params, auth = found
        method = request.method.upper()
        handler = handlers.get(method)
        if handler is None and method == "HEAD":
            handler = handlers.get("GET")
        ctx = Ctx(request, sim, params)
        if handler is None:
            allowed = ", ".join(sorted(handlers))
            return error_response(
                405, None, f"{method} is not allowed here.", headers={"Allow": allowed}, fqdn=fqdn
            )
        try:
            if auth:
                denied = discovery.authenticate(ctx)
                if denied is not None:
                    return denied
                _check_headers(ctx)
            return await handler(ctx)
        except SimError as exc:
            return exc.response(fqdn)
        except Exception:  # never a traceback on the wire
            log.exception("simulator handler failed: %s %s", method, request.url.path)
            return error_response(500, None, "Internal simulator error.", fqdn=fqdn)

    async def dispatch_asgi(scope: Scope, receive: Receive, send: Send) -> None:
        response = await dispatch(Request(scope, receive))
        await response(scope, receive, send)

    app = Starlette(routes=list(control.routes(sim)))
    # Everything no explicit route claims (any method, any path) goes to the UCWA dispatcher.
    app.router.default = dispatch_asgi
    return app
