"""The Simulator: owns config, state, faults and the ASGI app; the entry point for tests."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

import app.simulator.incoming as incoming
from app.simulator.config import SimConfig
from app.simulator.documents import Paths
from app.simulator.errors import SimError
from app.simulator.events import EventChannel
from app.simulator.faults import Faults
from app.simulator.state import Application, RequestRecord, Token, new_id

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = logging.getLogger(__name__)

TokenValidator = Callable[[str], str | None]

_LOG_LIMIT = 20_000
# Ids of deleted applications remembered so a late request still gets the right 404/410; older
# ones fall back to a plain 404, which a client treats the same way (it creates a new one).
_GONE_LIMIT = 1_000


class Simulator:
    """A UCWA 2.0 server (see docs/protocol.md); `asgi` is the app, `faults` the fault API."""

    def __init__(self, config: SimConfig | None = None) -> None:
        from app.simulator.routes import build_app  # routes import this module's types

        self.config = config or SimConfig()
        self.faults = Faults(self)
        self.tokens: dict[str, Token] = {}
        self.apps: dict[str, Application] = {}  # live applications only
        self._gone: collections.OrderedDict[str, tuple[str, str]] = collections.OrderedDict()
        self._validators: list[TokenValidator] = []
        self._log: collections.deque[RequestRecord] = collections.deque(maxlen=_LOG_LIMIT)
        self._log_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutting_down = False
        self._starlette: Starlette = build_app(self)
        self.asgi: ASGIApp = self._starlette_wrapped()

    def _starlette_wrapped(self) -> ASGIApp:
        from app.simulator.middleware import SimMiddleware

        return SimMiddleware(self._starlette, self)

    # --- public API --------------------------------------------------------------------------

    @property
    def request_log(self) -> list[RequestRecord]:
        """A snapshot copy of every request served so far (oldest first)."""
        with self._log_lock:
            return list(self._log)

    def add_routes(self, routes: Sequence[BaseRoute]) -> None:
        """Extra Starlette routes (matched before the UCWA paths), e.g. an identity provider."""
        table = self._starlette.router.routes
        for offset, route in enumerate(routes):
            table.insert(offset, route)

    def add_token_validator(self, fn: TokenValidator) -> None:
        """*fn(bearer_token) -> user | None*: tokens it accepts are valid UCWA tokens too."""
        self._validators.append(fn)

    def close(self) -> None:
        """Cancel scripted far ends and release parked P-GETs (safe from any thread)."""

        def shut() -> None:
            self._shutting_down = True
            for app in list(self.apps.values()):
                for conv in app.conversations.values():
                    if conv.task is not None:
                        conv.task.cancel()
                app.channel.wake()

        self._run_in_loop(shut)

    # --- used by the handlers ----------------------------------------------------------------

    def bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._shutting_down = False

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    def issue_token(self, user: str, *, realm: str | None = None) -> Token:
        """A web ticket; with config.token_realms it is valid only on origin *realm*."""
        token = Token("cwt=" + secrets.token_urlsafe(32), user, time.monotonic())
        token.expires_at += self.config.token_lifetime_s
        if self.config.token_realms and realm is not None:
            token.realm = realm.lower()
        self.tokens[token.value] = token
        return token

    def user_for_token(self, value: str, origin: str | None = None) -> str | None:
        """The user of a live token that is valid on *origin*, else None."""
        token = self.tokens.get(value)
        if token is not None:
            if token.realm is not None and (origin is None or origin.lower() != token.realm):
                return None  # issued by another origin's token URL: not valid here
            if token.expires_at > time.monotonic():
                return token.user
            del self.tokens[value]
            return None
        for validator in self._validators:
            try:
                user = validator(value)
            except Exception:  # a plug-in's bug must not become a 500 here
                log.exception("token validator failed")
                continue
            if user:
                return user
        return None

    def find_user(self, name: str) -> str | None:
        wanted = name.strip().lower()
        if wanted.startswith("sip:"):
            wanted = wanted[4:]
        for user in self.config.users:
            if user.lower() == wanted:
                return user
        return None

    def create_application(
        self,
        user: str,
        *,
        user_agent: str,
        endpoint_id: str,
        culture: str,
        instance_id: str | None,
        app_type: str | None,
    ) -> tuple[Application, bool]:
        """A new application, or (multi-tab rule) the live one with the same identity."""
        identity = (endpoint_id, user_agent, culture, instance_id, app_type)
        for app in self.apps.values():
            if app.user == user and identity == (
                app.endpoint_id,
                app.user_agent,
                app.culture,
                app.instance_id,
                app.app_type,
            ):
                return app, False
        aid = new_id(5)
        while aid in self.apps or aid in self._gone:
            aid = new_id(5)
        hold = self.config.medium_hold_s
        channel = EventChannel(
            Paths("", aid).events,
            max_poll_s=self.config.max_poll_s,
            merge=self.config.merge_events,
            hold_s=None if hold is None else self.config.delay(hold),
        )
        app = Application(
            aid, user, user_agent, endpoint_id, culture, instance_id, app_type, channel
        )
        app.lurker = bool(self.config.lurker_start)
        self.apps[aid] = app
        return app, True

    def application(self, aid: str, user: str) -> Application:
        """The caller's live application, enforcing the idle / activity / reset rules."""
        app = self.apps.get(aid)
        if app is None or app.user != user:
            gone = self._gone.get(aid)
            if gone is not None and gone[0] == user:
                raise _gone_error(gone[1])
            raise SimError(404, "ApplicationNotFound")
        now = time.monotonic()
        why = self._expiry(app, now)
        if why is not None:
            self.delete_application(app, why)
            raise _gone_error(why)
        idle_since = app.channel.idle_since
        if idle_since is not None and now - idle_since > self.config.state_reset_s:
            self.reset_transient_state(app)
            app.channel.last_release = now  # one reset per silence
        return app

    def _expiry(self, app: Application, now: float) -> str | None:
        """The subcode *app* expired with by *now*, else None (docs/protocol.md §4.3)."""
        cfg = self.config
        idle_since = app.channel.idle_since
        if idle_since is not None and now - idle_since > cfg.app_idle_limit_s:
            return "ApplicationNotFound"
        if cfg.calls_keep_alive and app.live_conversations():
            app.last_activity = now  # an ongoing call counts as activity (docs/protocol.md §4.3)
        if app.made_available and now - app.last_activity > cfg.activity_limit_s:
            return "InactiveApplicationExpired"
        return None

    def sweep(self) -> int:
        """Delete every application that has expired by now; returns how many.

        Requests check their own application, but one whose client went away sends none: without
        this its state and scripted far ends would stay for the life of the process.
        """
        now = time.monotonic()
        expired = [(app, why) for app in self.apps.values() if (why := self._expiry(app, now))]
        for app, why in expired:
            self.delete_application(app, why)
        return len(expired)

    async def sweep_forever(self) -> None:
        """Run sweep() every config.sweep_interval_s on the serving loop until cancelled."""
        self.bind_loop()
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                self.sweep()
            except Exception:  # one bad sweep must not end all later ones
                log.exception("sweeping expired applications failed")

    def delete_application(self, app: Application, subcode: str = "ApplicationNotFound") -> None:
        """End its calls, fail its P-GETs and forget it, keeping only its id for the error."""
        app.deleted = True
        app.gone_subcode = subcode
        for conv in app.conversations.values():
            conv.alive = False
            if conv.task is not None:
                conv.task.cancel()
        app.channel.close(_gone_error(subcode))
        if self.apps.get(app.aid) is app:
            del self.apps[app.aid]
            self._gone[app.aid] = (app.user, subcode)
            while len(self._gone) > _GONE_LIMIT:
                self._gone.popitem(last=False)

    def reset_transient_state(self, app: Application) -> None:
        """Conversations close silently; the next P-GET gets `resume` (docs/protocol.md §7.6)."""
        for conv in app.conversations.values():
            if conv.task is not None:
                conv.task.cancel()
            conv.alive = False
        app.conversations.clear()
        for inv in app.invitations.values():
            inv.completed = True
        app.channel.reset()

    # --- thread-safe fault hooks (called by Faults) ------------------------------------------

    def _run_in_loop(self, fn: Callable[[], object]) -> None:
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop.is_closed() or not loop.is_running() or running is loop:
            fn()
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def call() -> None:
            try:
                fn()
                done.set_result(None)
            except BaseException as exc:  # hand it to the calling thread
                done.set_exception(exc)

        loop.call_soon_threadsafe(call)
        try:
            done.result(timeout=5)
        except concurrent.futures.TimeoutError:
            log.warning("simulator loop did not run a fault action within 5 s")

    def _drop_event_channels(self) -> bool:
        found: list[bool] = []

        def drop() -> None:
            for app in list(self.apps.values()):
                if app.channel.parked is not None:
                    app.channel.parked.dropped = True
                    app.channel.wake()
                    found.append(True)

        self._run_in_loop(drop)
        return bool(found)

    def _expire_tokens(self) -> None:
        self._run_in_loop(self.tokens.clear)

    def _expire_applications(self, subcode: str) -> None:
        def expire() -> None:
            for app in list(self.apps.values()):
                self.delete_application(app, subcode)

        self._run_in_loop(expire)

    def _force_resync(self) -> None:
        def resync() -> None:
            for app in list(self.apps.values()):
                app.channel.resync_pending = True
                app.channel.wake()

        self._run_in_loop(resync)

    def _force_resume(self) -> None:
        def resume() -> None:
            for app in list(self.apps.values()):
                self.reset_transient_state(app)

        self._run_in_loop(resume)

    def _ring_incoming(self, caller: str, user: str | None) -> int:
        rung: list[Application] = []

        def ring_all() -> None:
            for app in list(self.apps.values()):
                if (user is None or app.user.lower() == user.lower()) and (
                    incoming.accepts_phone_audio(app)
                ):
                    incoming.ring(self.config, app, caller)
                    rung.append(app)

        self._run_in_loop(ring_all)
        return len(rung)

    def _wake_polls_at(self, when: float) -> None:
        def wake_all() -> None:
            for app in list(self.apps.values()):
                app.channel.wake()

        def schedule() -> None:
            loop = self._loop
            wake_all()
            if loop is not None and when > time.monotonic():
                loop.call_later(when - time.monotonic() + 0.001, wake_all)

        self._run_in_loop(schedule)


def _gone_error(subcode: str) -> SimError:
    return SimError(410 if subcode == "InactiveApplicationExpired" else 404, subcode)
