"""The call in progress: tracker, invitation, lost-201 watchdog, the cancel-versus-connect race."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

import httpx

from app.ucwa.calls import CallAction, CallSnapshot, CallState, CallTracker
from app.ucwa.dialing import DialTarget
from app.ucwa.errors import (
    ApplicationGone,
    AuthenticationError,
    CallFailed,
    LocalError,
    LocalProtocolError,
    RemoteProtocolError,
    ServerError,
    TransportError,
    UcwaError,
)
from app.ucwa.eventchannel import EventChannel
from app.ucwa.events import Event, EventType
from app.ucwa.models import Link, Resource
from app.ucwa.reasons import CallReason, is_normalization_failure, normalization_failed_message
from app.ucwa.retry import Backoff, recovery_backoff
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = [
    "CANCEL_SETTLE_S",
    "HANG_UP_WAIT_S",
    "UNCONFIRMED_CALL_S",
    "ActiveCall",
]

# After a startPhoneAudio POST whose answer was lost: how long to wait for its events.
UNCONFIRMED_CALL_S: Final = 20.0
HANG_UP_WAIT_S: Final = 10.0
# Hang-up / cancel POSTs tried through an outage (the transport repeats none of them itself).
HANG_UP_ATTEMPTS: Final = 5
# All of them together, waits included: after this long "ending" gives way to what the server
# says (the call is re-read; still up means the hang-up is offered again).
HANG_UP_BOUND_S: Final = 60.0
# After the server refused a cancel: how long to wait for the events saying why (connected/ended).
CANCEL_SETTLE_S: Final = 2.0
# Answers to a stop / cancel that prove nothing was done (404/409/410 mean "already ended"
# instead): bad request, forbidden, not allowed, throttled. A 5xx may be half-done: checked instead.
_REFUSALS: Final = frozenset({400, 403, 405, 429})
# phoneAudio states of a call that is still up (docs/protocol.md §6.3).
_STILL_UP: Final = frozenset({"connected", "connecting"})

ReadResource = Callable[[str, str], Awaitable[Resource]]


class ActiveCall:
    """One call via work from the dial to its end; the session holds at most one that is live.

    ``live`` replaces the question "is this still the session's call, and not over yet?": a
    call stops being ``current`` when the session starts the next one, and is ``done`` once a
    final snapshot was published (or the server reset its state).
    """

    def __init__(
        self,
        target: DialTarget,
        *,
        transport: Transport,
        emit: Callable[[CallSnapshot], None],
        channel: Callable[[], EventChannel | None],
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
        on_application_gone: Callable[[UcwaError], None],
        read: ReadResource | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.number = target.number
        self.operation_id = uuid.uuid4().hex
        self.tracker = CallTracker(target.number, self.operation_id, now=now)
        self.invitation_href: str | None = None  # the 201's Location, once known
        self.events_seen = 0  # events applied to the tracker (lost-201 watchdog)
        self.current = True
        self.done = False
        self.shown = self.tracker.snapshot  # the last snapshot published
        self._transport = transport
        self._emit = emit
        self._channel = channel
        self._spawn = spawn
        self._on_application_gone = on_application_gone
        self._read = read  # GET + parse (href, rel); None: the phoneAudio is never re-read
        self._sleep = sleep
        self._ending = False  # a stop / cancel POST is under way
        # Set on every change, also ones the snapshot does not show (cancelling → connected).
        self._changed = asyncio.Event()

    @property
    def live(self) -> bool:
        return self.current and not self.done

    def publish(self, snapshot: CallSnapshot) -> None:
        if snapshot.state.is_final:
            self.done = True
        self.shown = snapshot
        self._changed.set()
        self._emit(snapshot)

    # -- placing the call ---------------------------------------------------------------------

    async def place(
        self,
        start_href: str,
        phone: str | None,
        *,
        pick_callback: Callable[[], Awaitable[str]],
        resolve_href: Callable[[str], str],
    ) -> None:
        """POST startPhoneAudio; returns after the 201 (states follow as events arrive).

        Raises CallFailed when the server refused the call; an unanswered POST is never repeated
        (it could ring twice): the call waits for its events instead (UNCONFIRMED_CALL_S).
        """
        self.publish(self.tracker.snapshot)
        try:
            if phone is None:
                phone = await pick_callback()
            channel = self._channel()
            if channel is not None and not await channel.wait_parked():
                log.warning("no event channel parked; calling anyway")
            response = await self._post_start(start_href, phone)
        except ServerError as exc:
            if isinstance(exc, ApplicationGone):
                self._on_application_gone(exc)
            message = exc.user_message
            if is_normalization_failure(exc.subcode):
                message = normalization_failed_message(self.target.display)
            reason = CallReason(exc.code, exc.subcode, message, exc.diagnostics)
            self.fail(reason)
            raise CallFailed(reason) from exc
        except TransportError as exc:
            # The call may or may not exist: never repeat the POST (it could ring twice); its
            # events carry our operationId, so wait for them for a while.
            log.warning("startPhoneAudio unanswered (%s); waiting for its events", exc)
            self._spawn(self._await_unconfirmed())
            return
        except UcwaError as exc:
            self.fail(CallReason(None, None, exc.user_message))
            raise
        except BaseException:
            self.fail(CallReason(None, None, "The call was not placed."))
            raise
        location = response.headers.get("location")
        if location:
            self.invitation_href = resolve_href(location)
            self.tracker.bind_invitation(self.invitation_href)

    async def _post_start(self, href: str, phone: str) -> httpx.Response:
        body = {"to": self.target.uri, "phoneNumber": phone, "operationId": self.operation_id}
        for attempt in range(3):
            try:
                return await self._transport.post_json(href, body, retry=False)
            except ServerError as exc:
                # The server refused because no P-GET was parked: nothing was placed, so park
                # and repeat (docs/protocol.md §8.4); any other refusal is final.
                callback_channel = (exc.subcode or "").casefold() == "callbackchannelerror"
                if exc.status != 500 or not callback_channel or attempt == 2:
                    raise
                if (channel := self._channel()) is not None:
                    await channel.wait_parked()
                await self._sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _await_unconfirmed(self) -> None:
        await self._sleep(UNCONFIRMED_CALL_S)
        if self.live and self.events_seen == 0:
            self.fail(CallReason(None, None, "The server did not confirm the call."))

    # -- what happens to it -------------------------------------------------------------------

    async def on_event(self, event: Event, fetch_body: Callable[[Event], Awaitable[Event]]) -> None:
        """Apply one event of the channel if it is about this call."""
        if not self.live or not self.tracker.wants(event):
            return
        self.events_seen += 1
        if self.tracker.needs_body(event):
            event = await fetch_body(event)
        snapshot = self.tracker.apply(event)
        if snapshot is not None and self.current:
            # Also after a local ending: the server's own ending (and its reason) wins.
            self.publish(snapshot)
        self._changed.set()

    def fail(self, reason: CallReason) -> None:
        if self.live:
            self.publish(self.tracker.fail(reason))

    def server_reset(self) -> None:
        """The server dropped its transient state: the call is gone, without events.

        See docs/protocol.md §7.6.
        """
        if self.live:
            reason = CallReason(
                "Informational", "Resume", "The server reset the connection; the call ended."
            )
            self.publish(self.tracker.reset(reason))
            self.done = True

    async def reconcile(self) -> None:
        """After a new application: does this call still exist on the server?"""
        if not self.live:
            return
        href = self.invitation_href
        alive = False
        if href is not None:
            try:
                await self._transport.get_json(href)
                alive = True
            except ServerError as exc:
                if exc.status >= 500 or exc.status in (408, 429):
                    raise  # cannot tell yet: the recovery asks again after a wait
                alive = False
            except RemoteProtocolError:
                alive = False
            # A TransportError propagates too: cannot tell yet.
        if alive:
            alive = await self._reread_phone_audio()
        if not alive:
            self.fail(
                CallReason(
                    "Gone",
                    "ApplicationNotFound",
                    "The connection to the server was lost and the call ended.",
                )
            )

    async def _reread_phone_audio(self) -> bool:
        """Show what the server's phoneAudio says now; False when it is gone.

        An invitation outlives its call on some servers, so the phoneAudio decides: its state and
        links are applied like an event (held, resumed, disconnected meanwhile), and a local
        ending it contradicts (the call is still up, no stop under way) steps back.
        """
        href = self.tracker.phone_audio_href
        if self._read is None or href is None:
            return True
        try:
            resource = await self._read(href, "phoneAudio")
        except ServerError as exc:
            if exc.status >= 500 or exc.status in (408, 429):
                raise  # cannot tell yet
            return exc.status not in (404, 410)
        except RemoteProtocolError:
            return True  # unreadable: the events will tell
        if not self.live:
            return True
        event = Event(
            sender_rel="conversation",
            sender_href=self.tracker.conversation_href or "",
            type=EventType.UPDATED,
            link=Link(rel="phoneAudio", href=href),
            resource=resource,
        )
        if (snapshot := self.tracker.apply(event)) is not None:
            self.publish(snapshot)
        still_up = (resource.text("state") or "").casefold() in _STILL_UP
        if still_up and self.tracker.ending_locally and not self._ending:
            self._step_back("The call is still up: hanging up did not reach the server.")
        return True

    def _step_back(self, message: str, error: UcwaError | None = None) -> None:
        """The stop / cancel did nothing: show the call as it is, hang-up offered again."""
        if not self.live or not self.tracker.ending_locally:
            return
        code = getattr(error, "code", None)
        subcode = getattr(error, "subcode", None)
        log.warning("hang-up refused; the call goes on: %s", message)
        self.publish(self.tracker.end_refused(CallReason(code, subcode, message)))

    # -- what the user does ---------------------------------------------------------------------

    async def act(self, action: CallAction) -> None:
        """Hold or resume; LocalProtocolError when the server does not offer it now."""
        if not self.live:
            raise LocalProtocolError("There is no call in progress.")
        href = self.tracker.action_href(action)
        if href is None:
            raise LocalProtocolError(f"The server does not offer {action.value} right now.")
        try:
            # The transport repeats only a 429 (nothing was done); 5xx may be half-done.
            await self._transport.post_json(href, None)
        except ApplicationGone as exc:
            self._on_application_gone(exc)
            raise

    async def hang_up(self) -> None:
        """Stop the call, or cancel it while it is being set up."""
        if not self.live:
            return
        href = await self._wait_for_end_action()
        if href is None:
            return  # already ending, or the server never offered a way to end it
        cancelling = href != self.tracker.action_href(CallAction.HANG_UP)
        self.publish(self.tracker.local_ending())
        self._ending = True
        try:
            await self._post_ending(href)
        except (AuthenticationError, LocalError) as exc:
            # Refused before anything was done (a 401 even with a fresh token, or never sent).
            self._ending = False
            self._step_back(_refusal_message(cancelling, exc), exc)
            raise
        except ServerError as exc:
            self._ending = False
            if exc.status in _REFUSALS:
                self._step_back(_refusal_message(cancelling, exc), exc)
                raise
            if exc.status not in (404, 409, 410):
                await self._check_still_up(cancelling, exc)
                raise
            stop = await self._connected_meanwhile() if cancelling else None
            if stop is not None:
                # A 404/409 is documented as "ended" only for stopPhoneAudio. On a cancel it may
                # mean the invitation completed because the call connected just as the user
                # cancelled: the call is live, so stop it instead of only forgetting it.
                log.info("cancel answered %d, but the call connected; stopping it", exc.status)
                await self._stop_after_cancel(stop)
                return
            # docs/protocol.md §6.5 and §11 check 31: the far end hung up first; the call is over
            # either way.
            log.info("stop answered %d: the call had already ended", exc.status)
            if not cancelling and (channel := self._channel()) is not None:
                await channel.drain(1.0)  # let the server's own ending (and reason) win
            self._end_locally()
        except TransportError as exc:
            self._ending = False
            await self._check_still_up(cancelling, exc)
            raise
        finally:
            self._ending = False

    async def _check_still_up(self, cancelling: bool, exc: UcwaError) -> None:
        """After a stop / cancel with an unknown outcome: ask the phoneAudio once.

        Still connected means it did nothing; gone or unreadable leaves "ending" to the events
        or to the next recovery's reconcile.
        """
        href = self.tracker.phone_audio_href
        if self._read is None or href is None or not self.live:
            return
        try:
            resource = await self._read(href, "phoneAudio")
        except UcwaError as error:
            log.info("could not check the call after a failed hang-up: %s", error)
            return
        if (resource.text("state") or "").casefold() in _STILL_UP:
            self._step_back(_refusal_message(cancelling, exc), exc)

    async def _post_ending(self, href: str) -> None:
        # Ending twice is harmless (the second answers 404/409 "already ended", handled by the
        # caller), so the POST is repeated through an outage: a call shown as "ending" must not
        # stay up at the server because one answer was lost. This loop is the only repeat policy
        # (retry=False below), and all of it is bounded by HANG_UP_BOUND_S: past that the outcome
        # is unknown (a TransportError), which the caller handles by asking the server.
        backoff = recovery_backoff()
        try:
            async with asyncio.timeout(HANG_UP_BOUND_S):
                await self._post_ending_repeated(href, backoff)
        except TimeoutError:
            raise TransportError(
                f"The server did not confirm the hang-up within {HANG_UP_BOUND_S:.0f} s."
            ) from None

    async def _post_ending_repeated(self, href: str, backoff: Backoff) -> None:
        for attempt in range(1, HANG_UP_ATTEMPTS + 1):
            try:
                await self._transport.post_json(href, None, retry=False)
                return
            except ServerError as exc:
                if attempt == HANG_UP_ATTEMPTS or not (exc.status >= 500 or exc.status == 429):
                    raise
                await self._sleep(backoff.next(exc.retry_after))
            except TransportError:
                if attempt == HANG_UP_ATTEMPTS:
                    raise
                await self._sleep(backoff.next())

    async def _wait_for_end_action(self) -> str | None:
        # Right after dialling the server has not yet offered cancel/stop; the user's "hang up"
        # must still win, so wait (bounded) for the first link that ends the call.
        try:
            async with asyncio.timeout(HANG_UP_WAIT_S):
                while self.live:
                    href = self.tracker.action_href(CallAction.HANG_UP) or self.tracker.action_href(
                        CallAction.CANCEL
                    )
                    if href is not None or self.shown.state is CallState.ENDING:
                        return href
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            log.warning("the server offered no way to end the call")
        return None

    async def _connected_meanwhile(self) -> str | None:
        """After a refused cancel: apply the events in flight; the stop href if it connected."""
        if (channel := self._channel()) is not None:
            await channel.drain(1.0)
        with contextlib.suppress(TimeoutError):  # settled or not, the tracker says what is known
            async with asyncio.timeout(CANCEL_SETTLE_S):
                while self.live:
                    if (stop := self.tracker.stop_after_cancel()) is not None:
                        return stop
                    self._changed.clear()
                    await self._changed.wait()
        return self.tracker.stop_after_cancel() if self.current else None

    async def _stop_after_cancel(self, stop: str) -> None:
        try:
            await self._transport.post_json(stop, None)
        except ServerError as exc:
            if exc.status not in (404, 409, 410):
                raise
            # For stopPhoneAudio a 404/409 does mean the call already ended (docs/protocol.md §6.5).
            log.info("stop answered %d: the call had already ended", exc.status)
            self._end_locally()

    def _end_locally(self) -> None:
        if self.live:
            # The tracker only knows server-confirmed endings; this one we inferred
            # (docs/protocol.md §6.5).
            self.publish(
                dataclasses.replace(
                    self.tracker.snapshot,
                    state=CallState.ENDED,
                    actions=frozenset(),
                    reason=CallReason(None, None, "The call had already ended."),
                )
            )


def _refusal_message(cancelling: bool, exc: UcwaError) -> str:
    what = "Cancelling" if cancelling else "Hanging up"
    return f"{what} did not work, the call goes on: {exc.user_message}"
