"""UcwaSession: the facade the GUI and the CLI use: sign-in, phones, one call at a time, close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

import httpx

from app.ucwa.activecall import ActiveCall
from app.ucwa.application import Application
from app.ucwa.auth import TokenProvider, UcwaAuth
from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.clockwatch import ClockWatch
from app.ucwa.dialing import DialTarget, dial_target, phone_number, resolve_region
from app.ucwa.discovery import (
    DiscoveryCache,
    DiscoveryError,
    FileDiscoveryCache,
    TrustRules,
    trust_rules,
)
from app.ucwa.errors import (
    ApplicationGone,
    AuthenticationError,
    LocalProtocolError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    UcwaError,
)
from app.ucwa.eventchannel import EventChannel, cancel_and_wait
from app.ucwa.events import Event, EventType
from app.ucwa.links import resolve
from app.ucwa.listener import SessionListener
from app.ucwa.models import Resource, parse_resource
from app.ucwa.people import DEFAULT_LIMIT, Contact, search_people
from app.ucwa.recovery import Recovery
from app.ucwa.retry import recovery_backoff
from app.ucwa.status import ConnectionState, SessionStatus
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = ["UcwaSession"]

# docs/protocol.md §4.3 asks for ≤ 4 minutes after makeMeAvailable; we aim for ≤ 3: stay well inside
# both.
ACTIVITY_INTERVAL_S: Final = 150.0
DELETE_TIMEOUT_S: Final = 5.0
# At dial time without a startPhoneAudio link: how long to wait for the Medium-priority
# `communication updated` event that brings it after makeMeAvailable (held for seconds).
LINK_WAIT_S: Final = 3.0
# Resources whose body-less `updated` event makes the session read them again.
_SESSION_RESOURCES: Final = frozenset({"me", "communication"})


class UcwaSession:
    """The protocol client as the GUI and the CLI see it (see docs/architecture.md).

    Everything runs on the caller's event loop; listeners are called synchronously on it.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenProvider,
        *,
        discovery_url: str | None = None,
        address: str | None = None,
        endpoint_id: str,
        user_agent: str = "UcwaPhone/0.1",
        culture: str = "en-US",
        default_region: str | None = None,
        allowed_redirect_domains: Sequence[str] = (),
        sleep: Sleep = asyncio.sleep,
        discovery_cache: DiscoveryCache | None = None,
        activity_interval_s: float = ACTIVITY_INTERVAL_S,
        poll_timeout_s: int | None = 180,
        event_read_timeout_s: float | None = None,
        now: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        clock: ClockWatch | None = None,
    ) -> None:
        if not (discovery_url or address):
            raise ValueError("UcwaSession needs a discovery_url or an address")
        allowed = tuple(allowed_redirect_domains)
        # One set of trust rules for discovery's links and for answering sign-in challenges: a
        # server outside the organisation never gets a link followed nor a password sent.
        try:
            rules = trust_rules(
                address=address, discovery_url=discovery_url, allowed_domains=allowed
            )
        except DiscoveryError:
            # A malformed address: sign_in reports it (discovery raises the same error there);
            # until then trust no server at all, not even this machine.
            rules = TrustRules([])
        self._auth = UcwaAuth(tokens, allowed=rules.allows)
        self._transport = Transport(http, self._auth, sleep=sleep)
        self._address = address
        self._default_region = default_region
        self._sleep = sleep
        self._activity_interval_s = activity_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._event_read_timeout_s = event_read_timeout_s
        self._now = now
        # One backoff for every recovery path (event channel retries, channel restarts,
        # re-creating the application); only a successful poll resets it.
        self._backoff = recovery_backoff(rng=rng)
        # Suspend/resume and loop stalls cut a parked poll short (docs/protocol.md §8.4).
        self._clock = clock or ClockWatch()
        self._listeners: list[SessionListener] = []
        self.status = SessionStatus(ConnectionState.SIGNED_OUT)
        self.call = CallSnapshot(CallState.IDLE)
        self._application = Application(
            self._transport,
            rules=rules,
            # Default: remembered across starts in the platform's state dir (docs/protocol.md §2.4).
            cache=discovery_cache if discovery_cache is not None else FileDiscoveryCache(),
            address=address,
            discovery_url=discovery_url,
            endpoint_id=endpoint_id,
            user_agent=user_agent,
            culture=culture,
            open_channel=self._new_channel,
            callback_number=self._availability_number,
        )
        self._transport.on_make_me_available_required = self._make_available_again
        self._call: ActiveCall | None = None
        self._phones: list[tuple[str, str]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._recovery = Recovery(
            self._application,
            self._transport,
            set_status=self._set_recovery_status,
            reconcile_call=self._reconcile_call,
            spawn=self._spawn,
            sleep=sleep,
            backoff=self._backoff,
        )
        self._activity: asyncio.Task[None] | None = None
        self._closed = False
        self._callback_number: str | None = None  # "Ring me at", as the user chose it
        self._dialing = False  # start_call is looking for the startPhoneAudio link
        self._links_changed = asyncio.Event()  # me / communication were read again
        self._reads: dict[str, asyncio.Task[Any]] = {}  # GETs in flight, by href

    # -- listeners --------------------------------------------------------------------------

    def add_listener(self, listener: SessionListener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: SessionListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _set_status(self, state: ConnectionState, detail: str | None = None) -> None:
        status = SessionStatus(state, self._display_user(), detail)
        if status == self.status:
            return
        self.status = status
        for listener in list(self._listeners):
            try:
                listener.on_status(status)
            except Exception:
                log.exception("session listener failed")

    def _set_recovery_status(self, state: ConnectionState, detail: str | None = None) -> None:
        # Steady "reconnecting": once in (whoever noticed first), once out; no new detail between.
        if state is ConnectionState.RECONNECTING and self.status.state is state:
            return
        self._set_status(state, detail)

    def _emit_call(self, snapshot: CallSnapshot) -> None:
        if snapshot == self.call:
            return
        self.call = snapshot
        for listener in list(self._listeners):
            try:
                listener.on_call(snapshot)
            except Exception:
                log.exception("session listener failed")

    def _display_user(self) -> str | None:
        me = self._application.me
        uri = me.text("uri") if me is not None else None
        if uri:
            return uri.removeprefix("sip:")
        return self._address

    # -- sign-in ----------------------------------------------------------------------------

    @property
    def transport(self) -> Transport:
        """The session's HTTP layer (request counters for diagnostics and the benchmark)."""
        return self._transport

    async def sign_in(self) -> None:
        """Discovery → token → application → event channel parked; raises a UcwaError on failure."""
        if self._closed:
            raise LocalProtocolError("This session was closed; create a new one.")
        if self.status.state in (ConnectionState.SIGNED_IN, ConnectionState.RECONNECTING):
            return
        self._set_status(ConnectionState.SIGNING_IN)
        try:
            await self._application.establish()
        except UcwaError as exc:
            self._set_status(ConnectionState.FAILED, exc.user_message)
            raise
        self._set_status(ConnectionState.SIGNED_IN)
        if self._activity is None:
            self._activity = self._spawn(self._report_activity())
        # Signed in again with a call in progress (after "sign in again"): its events of the
        # meantime are lost, so ask the server what became of it.
        try:
            await self._reconcile_call()
        except UcwaError as exc:
            log.info("could not re-read the call after signing in: %s", exc)

    def _new_channel(self, url: str) -> EventChannel:
        return EventChannel(
            self._transport,
            url,
            handle_event=self._on_event,
            on_resume=self._on_resume,
            on_reconnecting=self._on_channel_reconnecting,
            on_recovered=self._on_channel_recovered,
            on_failure=self._on_channel_failure,
            sleep=self._sleep,
            poll_timeout_s=self._poll_timeout_s,
            read_timeout_s=self._event_read_timeout_s,
            backoff=self._backoff,
            clock=self._clock,
        )

    async def _report_activity(self) -> None:
        while True:
            await self._sleep(self._activity_interval_s)
            href = self._application.activity_href()
            # Only for an application that is ours and available: after a takeover it would keep
            # the other copy's application alive, after a refused sign-in each 401 would ask the
            # token provider again, and before makeMeAvailable succeeded the server answers 409.
            if (
                href is None
                or self._recovery.running
                or self.status.state is not ConnectionState.SIGNED_IN
                or not self._application.available
            ):
                continue
            try:
                await self._transport.post_json(href, None, idempotent=True)
            except ApplicationGone as exc:
                self._schedule_recovery(exc)
            except UcwaError as exc:
                log.info("reportMyActivity failed: %s", exc)

    # -- phones -----------------------------------------------------------------------------

    async def my_phones(self) -> list[tuple[str, str]]:
        """The user's own numbers [(E.164, type)], e.g. [("+14255550123", "Work")]."""
        me = self._application.me
        href = me.link("phones") if me is not None else None
        if href is None:
            return []
        doc = await self._transport.get_json(href)
        phones = parse_resource(doc, self._application.base, rel="phones", href=href)
        found: list[tuple[str, str]] = []
        for phone in phones.embedded.get("phone", ()):
            number = phone.text("number")
            if not number:
                continue
            try:
                e164 = phone_number(number, self._region())
            except UcwaError:
                continue
            kind = (phone.text("type") or "other").strip().capitalize()
            found.append((e164, kind))
        self._phones = found
        return found

    async def _default_callback(self) -> str:
        communication = self._application.communication
        if communication is not None:
            registered = communication.text("phoneNumber")
            if registered:
                with contextlib.suppress(UcwaError):
                    return phone_number(registered, self._region())
        phones = self._phones if self._phones is not None else await self.my_phones()
        for wanted in ("Work", "Mobile"):
            for number, kind in phones:
                if kind == wanted:
                    return number
        if phones:
            return phones[0][0]
        raise LocalProtocolError("No callback number: give the number of the phone to ring first.")

    async def _availability_number(self) -> str | None:
        """The number makeMeAvailable tells the server: the user's choice, else a default."""
        if self._callback_number is not None:
            return self._callback_number
        try:
            return await self._default_callback()
        except UcwaError:
            return None

    async def set_callback_number(self, number: str | None) -> None:
        """The user changed "Ring me at": tell the server (makeMeAvailable again) when signed in.

        ``None`` or "" means the default (the registered number, else Work, else Mobile).
        """
        phone = phone_number(number, self._region()) if number else None
        if phone == self._callback_number:
            return
        self._callback_number = phone
        if self.status.state is ConnectionState.SIGNED_IN and not self._recovery.running:
            await self._application.make_me_available()
            self._links_changed.set()

    async def _make_available_again(self) -> None:
        # 409 MakeMeAvailableRequired: the server forgot that we are available.
        await self._application.make_me_available()
        self._links_changed.set()

    # -- people -----------------------------------------------------------------------------

    async def search_people(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Contact]:
        """The address book's best matches for a name, part of one, or an e-mail address.

        Raises SearchNotAllowed when the account may not search (403), LocalProtocolError
        before sending anything when not signed in or the query is empty.
        """
        app = self._application.resource
        if app is None or self.status.state not in (
            ConnectionState.SIGNED_IN,
            ConnectionState.RECONNECTING,
        ):
            raise LocalProtocolError("Sign in before searching.")
        return await search_people(
            app,
            self._application.base,
            self._transport.get_json,
            query,
            limit,
            region=self._region(),
        )

    # -- calls ------------------------------------------------------------------------------

    def _region(self) -> str | None:
        own = [number for number, _ in self._phones or ()]
        return resolve_region(self._default_region, own)

    async def start_call(self, number: str | DialTarget, callback: str | None = None) -> None:
        """Place a call via work; returns after the server's 201 (states follow via on_call).

        Raises InvalidNumber before sending anything, LocalProtocolError when a call is already
        in progress or the account cannot call, and CallFailed when the server refused the call.
        """
        # A DialTarget was made by the one number policy already: never re-read it differently.
        to = number if isinstance(number, DialTarget) else dial_target(number, self._region())
        phone = phone_number(callback, self._region()) if callback else None
        if self._live_call() is not None or self._dialing:
            raise LocalProtocolError("A call is already in progress.")
        if self.status.state not in (ConnectionState.SIGNED_IN, ConnectionState.RECONNECTING):
            raise LocalProtocolError("Sign in before calling.")
        self._dialing = True
        try:
            href = await self._start_phone_audio_href()
        finally:
            self._dialing = False
        if self._call is not None:
            self._call.current = False
        # Claimed before the first await: a second dial request now sees a call in progress.
        call = ActiveCall(
            to,
            transport=self._transport,
            emit=self._emit_call,
            channel=lambda: self._application.channel,
            spawn=self._spawn,
            on_application_gone=self._schedule_recovery,
            read=self._read_resource,
            sleep=self._sleep,
            now=self._now,
        )
        self._call = call
        await call.place(
            href,
            phone,
            pick_callback=self._default_callback,
            resolve_href=lambda location: resolve(self._application.base, location),
        )

    def _start_link(self) -> str | None:
        communication = self._application.communication
        return communication.link("startPhoneAudio") if communication is not None else None

    async def _start_phone_audio_href(self) -> str:
        """The startPhoneAudio link, read again (and waited for, bounded) when it is missing.

        A real server adds it only after makeMeAvailable, in a Medium-priority event that comes
        seconds later: a missing link is a question to ask the server, not yet an answer.
        """
        if (href := self._start_link()) is not None:
            return href
        if not self._application.available:
            # makeMeAvailable failed at sign-in (it is what brings the link): try it again.
            await self._application.make_me_available()
            if (href := self._start_link()) is not None:
                return href
        communication = self._application.communication
        if communication is not None:
            with contextlib.suppress(UcwaError):
                await self._reread("communication", communication.href)
            if (href := self._start_link()) is not None:
                return href
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINK_WAIT_S
        while (left := deadline - loop.time()) > 0:
            self._links_changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._links_changed.wait()
            if (href := self._start_link()) is not None:
                return href
        if communication is not None:
            with contextlib.suppress(UcwaError):
                await self._reread("communication", communication.href)
            if (href := self._start_link()) is not None:
                return href
        raise LocalProtocolError(
            "Your account is not enabled for call via work: the server offers no "
            "startPhoneAudio link even after reading communication again and waiting "
            f"{LINK_WAIT_S:.0f} s for the server to announce it."
        )

    def _live_call(self) -> ActiveCall | None:
        call = self._call
        return call if call is not None and call.live else None

    async def hold(self) -> None:
        await self._act(CallAction.HOLD)

    async def resume(self) -> None:
        await self._act(CallAction.RESUME)

    async def _act(self, action: CallAction) -> None:
        call = self._live_call()
        if call is None:
            raise LocalProtocolError("There is no call in progress.")
        await call.act(action)

    async def hang_up(self) -> None:
        """Stop the call, or cancel it while it is being set up; does nothing when there is none."""
        call = self._live_call()
        if call is not None:
            await call.hang_up()

    async def _reconcile_call(self) -> None:
        if (call := self._live_call()) is not None:
            await call.reconcile()

    # -- events -----------------------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        rel = event.link.rel.casefold()
        if rel in _SESSION_RESOURCES:
            await self._learn(rel, event)
        if (call := self._live_call()) is not None:
            await call.on_event(event, self._with_body)

    async def _learn(self, rel: str, event: Event) -> None:
        """Keep ``me`` / ``communication`` current: an event without a body means "GET me"."""
        body = event.resource
        if body is not None:
            if rel == "communication":
                self._application.communication = body
            else:
                self._application.me = body
        elif event.type is EventType.UPDATED:
            try:
                await self._reread(rel, event.link.href)
            except UcwaError as exc:
                log.info("could not read %s again: %s", rel, exc)
                return
        else:
            return
        self._links_changed.set()

    async def _reread(self, rel: str, href: str) -> None:
        doc = await self._get_once(href)
        resource = parse_resource(doc, self._application.base, rel=rel, href=href)
        if rel.casefold() == "communication":
            self._application.communication = resource
        elif rel.casefold() == "me":
            self._application.me = resource
        self._links_changed.set()

    async def _get_once(self, href: str) -> Any:
        """GET ``href``, sharing the answer with anyone who asks for it while it is in flight."""
        pending = self._reads.get(href)
        if pending is None:
            pending = asyncio.get_running_loop().create_task(self._transport.get_json(href))
            self._reads[href] = pending
            pending.add_done_callback(lambda done: self._read_done(href, done))
        return await asyncio.shield(pending)

    def _read_done(self, href: str, done: asyncio.Task[Any]) -> None:
        if self._reads.get(href) is done:
            del self._reads[href]
        if not done.cancelled():
            done.exception()  # retrieved: whoever still waits gets it; nobody waiting is fine too

    async def _read_resource(self, href: str, rel: str) -> Resource:
        doc = await self._get_once(href)
        return parse_resource(doc, self._application.base, rel=rel, href=href)

    async def _with_body(self, event: Event) -> Event:
        try:
            doc = await self._get_once(event.link.href)
            resource = parse_resource(
                doc, self._application.base, rel=event.link.rel, href=event.link.href
            )
        except ServerError as exc:
            log.info("event target %s is gone (%s)", event.link.rel, exc.status)
            return event
        except UcwaError as exc:
            log.info("could not fetch %s: %s", event.link.rel, exc)
            return event
        return event.with_resource(resource)

    async def _on_resume(self) -> None:
        # The server dropped its transient state (docs/protocol.md §7.6): calls are gone without
        # events.
        if (call := self._live_call()) is not None:
            call.server_reset()

    def _on_channel_reconnecting(self, detail: str) -> None:
        if self.status.state == ConnectionState.SIGNED_IN:
            self._set_status(ConnectionState.RECONNECTING, detail)

    def _on_channel_recovered(self) -> None:
        if self.status.state == ConnectionState.RECONNECTING and not self._recovery.running:
            self._set_status(ConnectionState.SIGNED_IN)

    def _on_channel_failure(self, exc: UcwaError) -> None:
        if self._closed:
            return
        if isinstance(exc, SessionTakenOver):
            self._set_status(ConnectionState.TAKEN_OVER, exc.user_message)
        elif isinstance(exc, AuthenticationError):
            self._set_status(ConnectionState.FAILED, exc.user_message)
        elif isinstance(exc, ApplicationGone | RemoteProtocolError) or (
            isinstance(exc, ServerError) and exc.status == 404
        ):
            self._schedule_recovery(exc)
        else:
            self._set_status(ConnectionState.FAILED, exc.user_message)

    def _schedule_recovery(self, cause: UcwaError) -> None:
        if not self._closed:
            self._recovery.schedule(cause)

    # -- lifetime ---------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("session task failed", exc_info=exc)

    async def aclose(self) -> None:
        """Cancel everything and DELETE the application (bounded by 5 s); idempotent."""
        if self._closed:
            return
        self._closed = True
        await cancel_and_wait([*self._tasks, *self._reads.values()])
        await self._application.close_channel()
        app, self._application.resource = self._application.resource, None
        if app is not None:
            try:
                async with asyncio.timeout(DELETE_TIMEOUT_S):
                    await self._transport.request(
                        "DELETE", app.href, retry=False, timeout_s=DELETE_TIMEOUT_S
                    )
            except (UcwaError, TimeoutError) as exc:
                log.info("could not delete the application: %s", exc)
        self._auth.forget()
        self._set_status(ConnectionState.SIGNED_OUT)
