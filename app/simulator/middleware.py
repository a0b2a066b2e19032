"""ASGI wrapper: request log, injected latency and forced statuses, in front of every route."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import app.simulator.hostile as hostile
from app.simulator.context import Ctx
from app.simulator.control import PREFIX
from app.simulator.discovery import challenge
from app.simulator.errors import error_response
from app.simulator.faults import ForcedStatus
from app.simulator.state import RequestRecord

if TYPE_CHECKING:
    from app.simulator.simulator import Simulator


class SimulatedReset(ConnectionResetError):
    """The fault control's "reset": raised after the status line, so the server closes the
    connection mid-answer. Intended, so ``serve.py`` keeps uvicorn from logging it as a crash."""


class SimMiddleware:
    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        path = str(scope.get("path", ""))
        raw_query = scope.get("query_string", b"")
        query = raw_query.decode("latin-1") if isinstance(raw_query, bytes) else ""
        status_seen: list[int] = []

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(int(message["status"]))
            await send(message)

        started = time.time()
        try:
            if path.lower().startswith(PREFIX + "/"):
                await self.app(scope, receive, send)  # control calls stay out of the log
                return
            self.sim.bind_loop()
            latency = self.sim.faults.latency()
            if latency > 0:
                await asyncio.sleep(latency)
            network = self.sim.faults.take_network_fault(method, path, query)
            if network is not None and network.kind == "stall":
                await asyncio.sleep(network.seconds)
            elif network is not None:
                # A status line and a promised body that never comes: the server closes the
                # connection, and the client sees it reset mid-answer.
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1024")],
                    }
                )
                raise SimulatedReset("connection reset by the simulator's fault control")
            rule = self.sim.faults.take_forced(method, path, query)
            if rule is not None:
                response = self._forced(scope, receive, rule)
                await response(scope, receive, send_logged)
                return
            bad = self.sim.faults.take_hostile(method, path, query)
            if bad is not None:
                answer = hostile.hostile_response(bad.kind, bad.status, bad.drip_ms)
                await answer(scope, receive, send_logged)
                return
            await self.app(scope, receive, send_logged)
        finally:
            if not path.lower().startswith(PREFIX + "/"):
                status = status_seen[0] if status_seen else 0
                self.sim.record(RequestRecord(started, method, path, query, status))

    def _forced(self, scope: Scope, receive: Receive, rule: ForcedStatus) -> Response:
        if rule.status == 401:
            return challenge(Ctx(Request(scope, receive), self.sim, {}))
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = str(max(0, round(rule.retry_after)))
        return error_response(
            rule.status,
            rule.subcode,
            "Forced by the simulator's fault control.",
            code=rule.code,
            headers=headers,
            fqdn=self.sim.config.server_fqdn,
        )
