"""Loopback-only /_sim/ endpoints: POST faults, POST reset, GET log (same as the Python API).

Callers are checked by control_guard: loopback peer and Host, no Origin, JSON POSTs, and the
per-run token when one is configured; numeric arguments are bounded there too.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.simulator.control_guard import Refused, check_arguments, check_caller, parse_body
from app.simulator.errors import JSON_TYPE, error_response

if TYPE_CHECKING:
    from app.simulator.simulator import Simulator

log = logging.getLogger(__name__)

PREFIX = "/_sim"

# action -> (allowed keyword arguments, required ones)
_ACTIONS: dict[str, tuple[set[str], set[str]]] = {
    "force_status": (
        {"path_contains", "status", "count", "method", "retry_after", "code", "subcode"},
        {"path_contains", "status"},
    ),
    "hostile_body": (
        {"path_contains", "kind", "count", "method", "status", "drip_ms"},
        {"path_contains", "kind"},
    ),
    "reset_connection": ({"path_contains", "count", "method"}, {"path_contains"}),
    "stall_requests": (
        {"path_contains", "seconds", "count", "method"},
        {"path_contains", "seconds"},
    ),
    "stall_events": ({"seconds"}, {"seconds"}),
    "drop_event_channel": (set(), set()),
    "expire_tokens": (set(), set()),
    "expire_applications": ({"inactive"}, set()),
    "add_latency": ({"seconds"}, {"seconds"}),
    "force_resync": (set(), set()),
    "force_resume": (set(), set()),
    "fail_phone_audio_get": ({"error", "count"}, {"error"}),
    "ring_incoming": ({"caller", "user"}, set()),
    "clear": (set(), set()),
}


def is_loopback(request: Request) -> bool:
    client = request.client
    if client is None:
        return False
    host = client.host
    if host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _json(doc: object, status: int = 200) -> Response:
    return Response(json.dumps(doc).encode(), status_code=status, media_type=JSON_TYPE)


def routes(sim: Simulator) -> list[BaseRoute]:
    fqdn = sim.config.server_fqdn

    def guarded(
        fn: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            sim.bind_loop()
            if not is_loopback(request):
                return error_response(403, None, "The control API is loopback-only.", fqdn=fqdn)
            try:
                check_caller(request, sim.config.control_token)
            except Refused as refused:
                return error_response(refused.status, refused.subcode, refused.message, fqdn=fqdn)
            try:
                result: Response = await fn(request)
                return result
            except Exception:  # a bad control call must not hurt the server
                log.exception("simulator control call failed")
                return error_response(500, None, "Control call failed.", fqdn=fqdn)

        return endpoint

    async def faults(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > 64 * 1024:
            return error_response(413, fqdn=fqdn)
        try:
            doc = parse_body(raw)
        except (ValueError, RecursionError):
            return error_response(400, "DeserializationFailure", fqdn=fqdn)
        if not isinstance(doc, dict) or not isinstance(doc.get("action"), str):
            return error_response(400, "ParameterValidationFailure", "'action' missing", fqdn=fqdn)
        action = doc.pop("action")
        spec = _ACTIONS.get(action)
        if spec is None:
            return error_response(
                400, "ParameterValidationFailure", f"unknown action {action[:40]!r}", fqdn=fqdn
            )
        allowed, required = spec
        unknown = set(doc) - allowed
        missing = required - set(doc)
        if unknown or missing:
            problems = {k: "unknown" for k in unknown} | {k: "required" for k in missing}
            return error_response(400, "ParameterValidationFailure", parameters=problems, fqdn=fqdn)
        try:
            check_arguments(doc)
            getattr(sim.faults, action)(**doc)
        except (TypeError, ValueError) as exc:
            return error_response(400, "ParameterValidationFailure", str(exc)[:200], fqdn=fqdn)
        return _json({"ok": True, "action": action, "faults": sim.faults.snapshot()})

    async def reset(request: Request) -> Response:
        sim.faults.clear()
        return _json({"ok": True})

    async def request_log(request: Request) -> Response:
        """The request log; `?since=<t>` keeps only records with t > since."""
        records = sim.request_log
        since = request.query_params.get("since")
        if since is not None:
            try:
                cutoff = float(since)
            except ValueError:
                cutoff = math.nan
            if not math.isfinite(cutoff):
                return error_response(400, "ParameterValidationFailure", fqdn=fqdn)
            records = [r for r in records if r.t > cutoff]
        return _json({"requests": [asdict(r) for r in records]})

    async def state(request: Request) -> Response:
        return _json({"faults": sim.faults.snapshot(), "applications": len(sim.apps)})

    return [
        Route(PREFIX + "/faults", guarded(faults), methods=["POST"]),
        Route(PREFIX + "/reset", guarded(reset), methods=["POST"]),
        Route(PREFIX + "/log", guarded(request_log), methods=["GET"]),
        Route(PREFIX + "/state", guarded(state), methods=["GET"]),
    ]
