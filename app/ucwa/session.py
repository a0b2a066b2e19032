"""UcwaSession: sign-in, the application, its event channel and one call-via-work call at a time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

import httpx

from app.ucwa.auth import TokenProvider, UcwaAuth
from app.ucwa.calls import CallAction, CallSnapshot, CallState, CallTracker
from app.ucwa.discovery import (
    DiscoveryCache,
    DiscoveryError,
    FileDiscoveryCache,
    TrustRules,
    discover,
    trust_rules,
)
from app.ucwa.errors import (
    ApplicationGone,
    AuthenticationError,
    CallFailed,
    LocalProtocolError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.eventchannel import EventChannel, cancel_and_wait
from app.ucwa.events import Event
from app.ucwa.links import origin, resolve
from app.ucwa.listener import SessionListener
from app.ucwa.models import Resource, parse_resource
from app.ucwa.numbers import normalize
from app.ucwa.reasons import CallReason
from app.ucwa.retry import Backoff
from app.ucwa.status import ConnectionState, SessionStatus
from app.ucwa.transport import Sleep, Transport, decode_json

log = logging.getLogger(__name__)

__all__ = ["SessionListener", "UcwaSession"]

# Spec §4.3 asks for ≤ 4 minutes after makeMeAvailable; the brief for ≤ 3. Stay well inside both.
ACTIVITY_INTERVAL_S: Final = 150.0
DELETE_TIMEOUT_S: Final = 5.0
# After a startPhoneAudio POST whose answer was lost: how long to wait for its events.
UNCONFIRMED_CALL_S: Final = 20.0
HANG_UP_WAIT_S: Final = 10.0
# After the server refused a cancel: how long to wait for the events saying why (connected/ended).
CANCEL_SETTLE_S: Final = 2.0
_RECOVERY_ATTEMPTS: Final = 8


class UcwaSession:
    """The protocol client as the GUI and the CLI see it (contract C).

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
    ) -> None:
        if not (discovery_url or address):
            raise ValueError("UcwaSession needs a discovery_url or an address")
        self._allowed = tuple(allowed_redirect_domains)
        # One set of trust rules for discovery's links and for answering sign-in challenges: a
        # server outside the organisation never gets a link followed nor a password sent.
        try:
            self._rules = trust_rules(
                address=address, discovery_url=discovery_url, allowed_domains=self._allowed
            )
        except DiscoveryError:
            # A malformed address: sign_in reports it (discovery raises the same error there);
            # until then trust nothing beyond this machine.
            self._rules = TrustRules([])
        self._auth = UcwaAuth(tokens, allowed=self._rules.allows)
        self._transport = Transport(http, self._auth, sleep=sleep)
        self._discovery_url = discovery_url
        self._address = address
        self._endpoint_id = endpoint_id
        self._user_agent = user_agent
        self._culture = culture
        self._default_region = default_region
        self._sleep = sleep
        # Default: remembered across starts in the platform's state dir (spec §2.4).
        self._cache: DiscoveryCache = (
            discovery_cache if discovery_cache is not None else FileDiscoveryCache()
        )
        self._activity_interval_s = activity_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._event_read_timeout_s = event_read_timeout_s
        self._now = now
        self._listeners: list[SessionListener] = []
        self.status = SessionStatus(ConnectionState.SIGNED_OUT)
        self.call = CallSnapshot(CallState.IDLE)
        self._applications_url: str | None = None
        self._base = ""
        self._app: Resource | None = None
        self._me: Resource | None = None
        self._communication: Resource | None = None
        self._channel: EventChannel | None = None
        self._tracker: CallTracker | None = None
        self._tracker_events = 0  # events applied to the current tracker (lost-201 watchdog)
        self._invitation_href: str | None = None  # the current call's invitation (201 Location)
        self._call_done = True
        self._phones: list[tuple[str, str]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._recovery: asyncio.Task[None] | None = None
        self._activity: asyncio.Task[None] | None = None
        self._closed = False
        self._call_changed = asyncio.Event()

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

    def _emit_call(self, snapshot: CallSnapshot) -> None:
        if snapshot == self.call:
            return
        self.call = snapshot
        self._call_changed.set()
        if snapshot.state.is_final:
            self._call_done = True
        for listener in list(self._listeners):
            try:
                listener.on_call(snapshot)
            except Exception:
                log.exception("session listener failed")

    def _display_user(self) -> str | None:
        uri = self._me.text("uri") if self._me is not None else None
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
            await self._establish()
        except UcwaError as exc:
            self._set_status(ConnectionState.FAILED, exc.user_message)
            raise
        self._set_status(ConnectionState.SIGNED_IN)
        if self._activity is None:
            self._activity = self._spawn(self._report_activity())

    @property
    def _cache_key(self) -> str:
        return self._discovery_url or (self._address or "").lower()

    async def _establish(self) -> None:
        cached = self._applications_url or self._cache.load(self._cache_key)
        if cached and not self._rules.allows(cached):
            # Written before the trust rules applied (or by hand): discover again instead.
            log.warning("ignoring a cached UCWA URL outside the trusted domains")
            self._cache.forget(self._cache_key)
            cached = None
        if cached:
            try:
                await self._create_application(cached)
            except (TransportError, ServerError, RemoteProtocolError) as exc:
                # Spec §2.4: a stale cache costs one discovery, nothing more.
                log.info("cached UCWA URL failed (%s); running discovery", exc)
                self._cache.forget(self._cache_key)
                self._applications_url = None
            else:
                await self._start_channel()
                await self._make_me_available()
                return
        found = await discover(
            self._transport,
            address=self._address,
            discovery_url=self._discovery_url,
            rules=self._rules,
        )
        await self._create_application(found.applications_url)
        self._cache.store(self._cache_key, found.applications_url)
        await self._start_channel()
        await self._make_me_available()

    async def _create_application(self, applications_url: str) -> None:
        body = {
            "userAgent": self._user_agent,
            "endpointId": self._endpoint_id,
            "culture": self._culture,
        }
        response = await self._transport.post_json(applications_url, body)
        base = origin(applications_url)
        doc = await decode_json(response)
        if doc is None:
            location = response.headers.get("location")
            if not location:
                raise RemoteProtocolError("The server created no application.")
            doc = await self._transport.get_json(resolve(base, location))
        app = parse_resource(doc, base, rel="application")
        if app.link("events") is None:
            raise RemoteProtocolError("The application has no event channel link.")
        self._applications_url = applications_url
        self._base = base
        self._app = app
        self._me = app.first("me")
        self._communication = app.first("communication")
        if self._communication is None and (href := app.link("communication")):
            self._communication = parse_resource(
                await self._transport.get_json(href), base, rel="communication"
            )
        log.info("application created at %s", httpx.URL(app.href).path)

    async def _start_channel(self) -> None:
        assert self._app is not None
        events = self._app.link("events")
        assert events is not None
        if self._channel is not None:
            await self._channel.aclose()
        self._open_channel(events, self._poll_timeout_s, self._event_read_timeout_s)

    def _open_channel(
        self, url: str, poll_timeout_s: int | None, read_timeout_s: float | None
    ) -> None:
        channel = EventChannel(
            self._transport,
            url,
            handle_event=self._on_event,
            on_resume=self._on_resume,
            on_reconnecting=self._on_channel_reconnecting,
            on_recovered=self._on_channel_recovered,
            on_failure=self._on_channel_failure,
            sleep=self._sleep,
            poll_timeout_s=poll_timeout_s,
            read_timeout_s=read_timeout_s,
        )
        self._channel = channel
        channel.start()

    async def _make_me_available(self) -> None:
        # Needed for reportMyActivity (spec §4.3, §5.2); outgoing calls work without it, so a
        # refusal is logged, not fatal.
        href = self._me.link("makeMeAvailable") if self._me is not None else None
        if href is None:
            return
        try:
            await self._transport.post_json(href, {"supportedModalities": ["PhoneAudio"]})
        except ServerError as exc:
            if (exc.subcode or "").casefold() != "alreadyexists":
                log.info("makeMeAvailable refused: %s", exc)
        except TransportError as exc:
            log.info("makeMeAvailable failed: %s", exc)

    async def _report_activity(self) -> None:
        while True:
            await self._sleep(self._activity_interval_s)
            href = None
            if self._me is not None:
                href = self._me.link("reportMyActivity")
            if href is None and self._app is not None:
                href = self._app.link("reportMyActivity")
            if href is None or self._recovery is not None:
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
        href = self._me.link("phones") if self._me is not None else None
        if href is None:
            return []
        doc = await self._transport.get_json(href)
        phones = parse_resource(doc, self._base, rel="phones", href=href)
        found: list[tuple[str, str]] = []
        for phone in phones.embedded.get("phone", ()):
            number = phone.text("number")
            if not number:
                continue
            try:
                e164 = normalize(number, default_region=self._default_region)
            except UcwaError:
                continue
            kind = (phone.text("type") or "other").strip().capitalize()
            found.append((e164, kind))
        self._phones = found
        return found

    async def _default_callback(self) -> str:
        if self._communication is not None:
            registered = self._communication.text("phoneNumber")
            if registered:
                with contextlib.suppress(UcwaError):
                    return normalize(registered, default_region=self._default_region)
        phones = self._phones if self._phones is not None else await self.my_phones()
        for wanted in ("Work", "Mobile"):
            for number, kind in phones:
                if kind == wanted:
                    return number
        if phones:
            return phones[0][0]
        raise LocalProtocolError("No callback number: give the number of the phone to ring first.")

    # -- calls ------------------------------------------------------------------------------

    async def start_call(self, number: str, callback: str | None = None) -> None:
        """Place a call via work; returns after the server's 201 (states follow via on_call).

        Raises InvalidNumber before sending anything, LocalProtocolError when a call is already
        in progress or the account cannot call, and CallFailed when the server refused the call.
        """
        to = normalize(number, default_region=self._default_region)
        phone = normalize(callback, default_region=self._default_region) if callback else None
        if not self._call_done:
            raise LocalProtocolError("A call is already in progress.")
        if self.status.state not in (ConnectionState.SIGNED_IN, ConnectionState.RECONNECTING):
            raise LocalProtocolError("Sign in before calling.")
        href = self._communication.link("startPhoneAudio") if self._communication else None
        if href is None:
            raise LocalProtocolError("Your account is not enabled for call via work.")
        operation_id = uuid.uuid4().hex
        # Claimed before the first await: a second dial request now sees a call in progress.
        tracker = CallTracker(to, operation_id, now=self._now)
        self._tracker = tracker
        self._tracker_events = 0
        self._invitation_href = None
        self._call_done = False
        self._emit_call(tracker.snapshot)
        try:
            if phone is None:
                phone = await self._default_callback()
            if self._channel is not None and not await self._channel.wait_parked():
                log.warning("no event channel parked; calling anyway")
            response = await self._post_start(href, to, phone, operation_id)
        except ServerError as exc:
            if isinstance(exc, ApplicationGone):
                self._schedule_recovery(exc)
            reason = CallReason(exc.code, exc.subcode, exc.user_message, exc.diagnostics)
            self._fail_call(tracker, reason)
            raise CallFailed(reason) from exc
        except TransportError as exc:
            # The call may or may not exist: never repeat the POST (it could ring twice); its
            # events carry our operationId, so wait for them for a while.
            log.warning("startPhoneAudio unanswered (%s); waiting for its events", exc)
            self._spawn(self._await_unconfirmed(tracker))
            return
        except UcwaError as exc:
            self._fail_call(tracker, CallReason(None, None, exc.user_message))
            raise
        except BaseException:
            self._fail_call(tracker, CallReason(None, None, "The call was not placed."))
            raise
        location = response.headers.get("location")
        if location:
            self._invitation_href = resolve(self._base, location)
            tracker.bind_invitation(self._invitation_href)

    async def _post_start(
        self, href: str, to: str, phone: str, operation_id: str
    ) -> httpx.Response:
        body = {"to": f"tel:{to}", "phoneNumber": phone, "operationId": operation_id}
        for attempt in range(3):
            try:
                return await self._transport.post_json(href, body, retry=False)
            except ServerError as exc:
                # The server refused because no P-GET was parked: nothing was placed, so park
                # and repeat (spec §8.4); any other refusal is final.
                callback_channel = (exc.subcode or "").casefold() == "callbackchannelerror"
                if exc.status != 500 or not callback_channel or attempt == 2:
                    raise
                if self._channel is not None:
                    await self._channel.wait_parked()
                await self._sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _await_unconfirmed(self, tracker: CallTracker) -> None:
        await self._sleep(UNCONFIRMED_CALL_S)
        if tracker is self._tracker and not self._call_done and self._tracker_events == 0:
            self._fail_call(tracker, CallReason(None, None, "The server did not confirm the call."))

    def _fail_call(self, tracker: CallTracker, reason: CallReason) -> None:
        if tracker is self._tracker and not self._call_done:
            self._emit_call(tracker.fail(reason))

    async def hold(self) -> None:
        await self._act(CallAction.HOLD)

    async def resume(self) -> None:
        await self._act(CallAction.RESUME)

    async def _act(self, action: CallAction) -> None:
        tracker = self._tracker
        if tracker is None or self._call_done:
            raise LocalProtocolError("There is no call in progress.")
        href = tracker.action_href(action)
        if href is None:
            raise LocalProtocolError(f"The server does not offer {action.value} right now.")
        try:
            # The transport repeats only a 429 (nothing was done); 5xx may be half-done.
            await self._transport.post_json(href, None)
        except ApplicationGone as exc:
            self._schedule_recovery(exc)
            raise

    async def hang_up(self) -> None:
        """Stop the call, or cancel it while it is being set up; does nothing when there is none."""
        tracker = self._tracker
        if tracker is None or self._call_done:
            return
        href = await self._wait_for_end_action(tracker)
        if href is None:
            return  # already ending, or the server never offered a way to end it
        cancelling = href != tracker.action_href(CallAction.HANG_UP)
        self._emit_call(tracker.local_ending())
        try:
            await self._transport.post_json(href, None)
        except ServerError as exc:
            if exc.status not in (404, 409, 410):
                raise
            stop = await self._connected_meanwhile(tracker) if cancelling else None
            if stop is not None:
                # Spec: 404/409 means "ended" only for stopPhoneAudio. On a cancel it may mean
                # the invitation completed because the call connected just as the user
                # cancelled: the call is live, so stop it instead of only forgetting it.
                log.info("cancel answered %d, but the call connected; stopping it", exc.status)
                await self._stop_after_cancel(tracker, stop)
                return
            # Spec §6.5 / check 31: the far end hung up first; the call is over either way.
            log.info("stop answered %d: the call had already ended", exc.status)
            if not cancelling and self._channel is not None:
                await self._channel.drain(1.0)  # let the server's own ending (and reason) win
            self._end_locally(tracker)

    async def _connected_meanwhile(self, tracker: CallTracker) -> str | None:
        """After a refused cancel: apply the events in flight; the stop href if it connected."""
        if self._channel is not None:
            await self._channel.drain(1.0)
        try:
            async with asyncio.timeout(CANCEL_SETTLE_S):
                while tracker is self._tracker and not self._call_done:
                    if (stop := tracker.stop_after_cancel()) is not None:
                        return stop
                    self._call_changed.clear()
                    await self._call_changed.wait()
        except TimeoutError:
            pass
        return tracker.stop_after_cancel() if tracker is self._tracker else None

    async def _stop_after_cancel(self, tracker: CallTracker, stop: str) -> None:
        try:
            await self._transport.post_json(stop, None)
        except ServerError as exc:
            if exc.status not in (404, 409, 410):
                raise
            # For stopPhoneAudio a 404/409 does mean the call already ended (spec §6.5).
            log.info("stop answered %d: the call had already ended", exc.status)
            self._end_locally(tracker)

    async def _wait_for_end_action(self, tracker: CallTracker) -> str | None:
        # Right after dialling the server has not yet offered cancel/stop; the user's "hang up"
        # must still win, so wait (bounded) for the first link that ends the call.
        try:
            async with asyncio.timeout(HANG_UP_WAIT_S):
                while tracker is self._tracker and not self._call_done:
                    href = tracker.action_href(CallAction.HANG_UP) or tracker.action_href(
                        CallAction.CANCEL
                    )
                    if href is not None or self.call.state is CallState.ENDING:
                        return href
                    self._call_changed.clear()
                    await self._call_changed.wait()
        except TimeoutError:
            log.warning("the server offered no way to end the call")
        return None

    def _end_locally(self, tracker: CallTracker) -> None:
        if tracker is self._tracker and not self._call_done:
            # The tracker only knows server-confirmed endings; this one we inferred (spec §6.5).
            ended = dataclasses.replace(
                tracker.snapshot,
                state=CallState.ENDED,
                actions=frozenset(),
                reason=CallReason(None, None, "The call had already ended."),
            )
            self._emit_call(ended)

    # -- events -----------------------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        body = event.resource
        if body is not None:
            rel = event.link.rel.casefold()
            if rel == "communication":
                self._communication = body
            elif rel == "me":
                self._me = body
        tracker = self._tracker
        if tracker is None or self._call_done or not tracker.wants(event):
            return
        self._tracker_events += 1
        if tracker.needs_body(event):
            event = await self._with_body(event)
        snapshot = tracker.apply(event)
        if snapshot is not None and tracker is self._tracker:
            self._emit_call(snapshot)
        # Waiters also need changes the snapshot does not show (cancelling → connected).
        self._call_changed.set()

    async def _with_body(self, event: Event) -> Event:
        try:
            doc = await self._transport.get_json(event.link.href)
            resource = parse_resource(doc, self._base, rel=event.link.rel, href=event.link.href)
        except ServerError as exc:
            log.info("event target %s is gone (%s)", event.link.rel, exc.status)
            return event
        except UcwaError as exc:
            log.info("could not fetch %s: %s", event.link.rel, exc)
            return event
        return event.with_resource(resource)

    async def _on_resume(self) -> None:
        # The server dropped its transient state (spec §7.6): calls are gone without events.
        tracker = self._tracker
        if tracker is not None and not self._call_done:
            reason = CallReason(
                "Informational", "Resume", "The server reset the connection; the call ended."
            )
            self._emit_call(tracker.reset(reason))
            self._call_done = True

    def _on_channel_reconnecting(self, detail: str) -> None:
        if self.status.state == ConnectionState.SIGNED_IN:
            self._set_status(ConnectionState.RECONNECTING, detail)

    def _on_channel_recovered(self) -> None:
        if self.status.state == ConnectionState.RECONNECTING and self._recovery is None:
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

    # -- recovery ---------------------------------------------------------------------------

    def _schedule_recovery(self, cause: UcwaError) -> None:
        if self._closed or self._recovery is not None:
            return
        self._recovery = self._spawn(self._recover(cause))

    async def _recover(self, cause: UcwaError) -> None:
        """Re-create the application and its event channel (spec §4.4), keeping the call's state."""
        try:
            self._set_status(ConnectionState.RECONNECTING, "Reconnecting to the server…")
            if await self._application_alive(cause):
                # The 404 was about something else (spec §12 #22); keep the application.
                if self._channel is None or not self._channel.running:
                    log.info("application still exists; restarting the event channel only")
                    await self._restart_channel_same_url()
            else:
                await self._recreate()
                await self._reconcile_call()
            self._set_status(ConnectionState.SIGNED_IN)
        except AuthenticationError as exc:
            self._set_status(ConnectionState.FAILED, exc.user_message)
        except UcwaError as exc:
            self._set_status(ConnectionState.FAILED, f"Could not reconnect: {exc.user_message}")
        finally:
            self._recovery = None

    async def _application_alive(self, cause: UcwaError) -> bool:
        # Spec §12 #22: a 404 ApplicationNotFound may be about an expired sub-resource. Confirm.
        if not (isinstance(cause, ServerError) and cause.status == 404) or self._app is None:
            return False
        try:
            await self._transport.get_json(self._app.href)
        except (ServerError, TransportError, RemoteProtocolError):
            return False
        return True

    async def _restart_channel_same_url(self) -> None:
        old = self._channel
        url = old.url if old is not None else None
        if old is not None:
            await old.aclose()
        if url is None:
            await self._start_channel()
            return
        # Same parameters as the first channel: with_params replaces the ones the URL already
        # carries (the ack stays verbatim), and a later `resume` must re-send them (spec §7.2).
        self._open_channel(url, self._poll_timeout_s, self._event_read_timeout_s)

    async def _recreate(self) -> None:
        backoff = Backoff(first=0.5, cap=30.0)
        if self._channel is not None:
            await self._channel.aclose()
        last: UcwaError | None = None
        for _ in range(_RECOVERY_ATTEMPTS):
            try:
                if self._applications_url is None:
                    found = await discover(
                        self._transport,
                        address=self._address,
                        discovery_url=self._discovery_url,
                        rules=self._rules,
                    )
                    self._applications_url = found.applications_url
                    self._cache.store(self._cache_key, found.applications_url)
                await self._create_application(self._applications_url)
                await self._start_channel()
                await self._make_me_available()
                return
            except AuthenticationError:
                raise
            except (ServerError, DiscoveryError) as exc:
                last = exc
                if isinstance(exc, ServerError) and exc.status in (403, 404, 502):
                    self._applications_url = None  # the pool moved: discover again (spec §2.4)
                elif isinstance(exc, ServerError) and exc.status < 500 and exc.status != 429:
                    raise
                await self._sleep(backoff.next(getattr(exc, "retry_after", None)))
            except (TransportError, RemoteProtocolError) as exc:
                last = exc
                await self._sleep(backoff.next())
        assert last is not None
        raise last

    async def _reconcile_call(self) -> None:
        """After a new application: does the call we knew about still exist on the server?"""
        tracker = self._tracker
        if tracker is None or self._call_done:
            return
        href = self._invitation_href
        alive = False
        if href is not None:
            try:
                await self._transport.get_json(href)
                alive = True
            except (ServerError, RemoteProtocolError):
                alive = False
            except TransportError:
                return  # cannot tell yet; keep what we know
        if not alive:
            self._fail_call(
                tracker,
                CallReason(
                    "Gone",
                    "ApplicationNotFound",
                    "The connection to the server was lost and the call ended.",
                ),
            )

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
        await cancel_and_wait(list(self._tasks))
        if self._channel is not None:
            await self._channel.aclose()
        app, self._app = self._app, None
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
