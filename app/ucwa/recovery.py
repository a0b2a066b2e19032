"""Recovery: restart the event channel, or re-create the application, until a poll succeeds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from app.ucwa.application import Application
from app.ucwa.discovery import DiscoveryError
from app.ucwa.errors import (
    AuthenticationError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.eventchannel import EventChannel
from app.ucwa.retry import RECOVERY_CAP_S, Backoff, recovery_backoff
from app.ucwa.status import ConnectionState
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = [
    "RECOVERY_ATTEMPTS",
    "RESTARTS_BEFORE_RECREATE",
    "SETTLE_RETRYING_S",
    "SETTLE_S",
    "Recovery",
]

# Attempts of one recovery before it gives up and reports the failure: with waits at the 30 s cap
# that is about 20 minutes, long enough for a network outage or a server restart to pass. When
# every new channel keeps retrying instead of failing, each attempt also waits up to
# SETTLE_RETRYING_S for it, so the give-up comes within about an hour at most.
RECOVERY_ATTEMPTS: Final = 40
# Channel restarts on a still-answering application that failed again before the application is
# created anew (a persistent 404 on the events link while GET application says 200).
RESTARTS_BEFORE_RECREATE: Final = 3
# A restarted channel whose poll stayed parked this long without an error counts as working.
SETTLE_S: Final = 2.0
# A restarted channel that is itself retrying (5xx, network) is waited for this long, two of its
# retries at the backoff's cap; still not through, it counts as a failed attempt.
SETTLE_RETRYING_S: Final = 2 * RECOVERY_CAP_S


class Recovery:
    """At most one recovery at a time (docs/protocol.md §4.4); the call's state is kept across it.

    Every attempt but the first after a successful poll waits on the session's shared backoff
    (reset only by a successful poll), so a server that keeps failing sees a bounded request
    rate. The status goes to "reconnecting" once and back once: only when the new channel has
    answered (or stayed parked), never between attempts. ``reconcile_call`` then asks the server
    what became of the call in progress.
    """

    def __init__(
        self,
        application: Application,
        transport: Transport,
        *,
        set_status: Callable[[ConnectionState, str | None], None],
        reconcile_call: Callable[[], Awaitable[None]],
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        self._application = application
        self._transport = transport
        self._set_status = set_status
        self._reconcile_call = reconcile_call
        self._spawn = spawn
        self._sleep = sleep
        self._backoff = backoff or recovery_backoff()
        self._task: asyncio.Task[None] | None = None
        self._attempts = 0  # attempts since the last successful poll
        self._failed_restarts = 0  # same-application channel restarts since then
        self._last: EventChannel | None = None  # the channel the last attempt started
        self._recreated_last = False  # whether the last attempt created the application anew
        self.attempts_total = 0  # every attempt ever made (diagnostics, bench)

    @property
    def running(self) -> bool:
        return self._task is not None

    def schedule(self, cause: UcwaError) -> None:
        """Start recovering from ``cause`` unless a recovery is already under way."""
        if self._task is None:
            self._task = self._spawn(self._recover(cause))

    async def _recover(self, cause: UcwaError) -> None:
        try:
            self._forget_streak_if_polled()
            self._set_status(ConnectionState.RECONNECTING, "Reconnecting to the server…")
            # Re-reading the call happens after polls succeeded (which reset the shared backoff),
            # so its own repeats are paced by a fresh backoff of the same policy.
            reread: Backoff | None = None
            for _ in range(RECOVERY_ATTEMPTS):
                if reread is not None:
                    await self._sleep(reread.next(_retry_after(cause)))
                elif self._attempts > 0:
                    await self._sleep(self._backoff.next(_retry_after(cause)))
                self._attempts += 1
                self.attempts_total += 1
                if reread is None:
                    try:
                        if not await self._connect(cause):
                            cause = self._channel_failure() or cause
                            if _final(cause):
                                log.info("recovery stopped: %s", cause)
                                return
                            continue
                    except _RETRYABLE as exc:
                        cause = _retryable(exc)
                        continue
                    reread = recovery_backoff()
                try:
                    # Final state is the truth: ask the server what became of the call meanwhile.
                    await self._reconcile_call()
                except _RETRYABLE as exc:
                    cause = _retryable(exc)
                    continue
                if (failure := self._channel_failure()) is not None:
                    # It failed after all while we were re-reading the call; its report was not
                    # taken (this recovery was still running), so go on here.
                    if _final(failure):
                        log.info("recovery stopped: %s", failure)
                        return
                    cause, reread = failure, None
                    if not self._recreated_last:
                        self._failed_restarts += 1
                    continue
                self._set_status(ConnectionState.SIGNED_IN, None)
                return
            raise cause
        except AuthenticationError as exc:
            self._set_status(ConnectionState.FAILED, exc.user_message)
        except UcwaError as exc:
            self._set_status(ConnectionState.FAILED, f"Could not reconnect: {exc.user_message}")
        finally:
            self._task = None

    async def _connect(self, cause: UcwaError) -> bool:
        """One restart or re-creation; True when its channel then worked."""
        recreated = self._recreated_last = await self._attempt(cause)
        channel = self._application.channel
        if channel is not None and await self._settled(channel):
            return True
        if not recreated:
            self._failed_restarts += 1
        return False

    def _channel_failure(self) -> UcwaError | None:
        channel = self._application.channel
        if channel is None:
            return None
        if channel.failure is None and not channel.running:
            return RemoteProtocolError("The event channel stopped.")
        return channel.failure

    def _forget_streak_if_polled(self) -> None:
        # Only a successful poll ends a streak of failures (the backoff is reset the same way).
        if self._last is None or self._last.answers > 0:
            self._attempts = 0
            self._failed_restarts = 0

    async def _attempt(self, cause: UcwaError) -> bool:
        """One restart or re-creation; True when the application was created anew."""
        if self._failed_restarts < RESTARTS_BEFORE_RECREATE and await self._application_alive(
            cause
        ):
            # The 404 was about something else (docs/protocol.md §12 #22); keep the application.
            log.info("application still exists; restarting the event channel only")
            await self._application.restart_channel_same_url()
            self._last = self._application.channel
            return False
        await self._recreate()
        self._failed_restarts = 0
        return True

    async def _settled(self, channel: EventChannel) -> bool:
        """True once the channel answered, or its poll stayed parked SETTLE_S without failing.

        A channel that is itself retrying (5xx, network) is waited for, up to SETTLE_RETRYING_S:
        it backs off on the shared backoff, and the status stays "reconnecting" until it gets
        through or stops. Still retrying after that, it counts as not working, so that the
        recovery's attempts, and with them its give-up, keep counting.
        """
        outcome = asyncio.ensure_future(channel.first_outcome())
        timer = asyncio.ensure_future(self._sleep(SETTLE_S))
        limit: asyncio.Future[None] | None = None
        try:
            await asyncio.wait({outcome, timer}, return_when=asyncio.FIRST_COMPLETED)
            if not outcome.done() and channel.running and channel.reconnecting:
                limit = asyncio.ensure_future(self._sleep(SETTLE_RETRYING_S))
                await asyncio.wait({outcome, limit}, return_when=asyncio.FIRST_COMPLETED)
                if not outcome.done():
                    log.info("the restarted event channel is still retrying; next attempt")
                    return False
        finally:
            outcome.cancel()
            timer.cancel()
            if limit is not None:
                limit.cancel()
        if outcome.done() and not outcome.cancelled():
            return outcome.result()
        return channel.running and channel.failure is None

    async def _application_alive(self, cause: UcwaError) -> bool:
        # docs/protocol.md §12 #22: a 404 ApplicationNotFound may be about an expired sub-resource.
        # Confirm.
        app = self._application.resource
        if not (isinstance(cause, ServerError) and cause.status == 404) or app is None:
            return False
        try:
            await self._transport.get_json(app.href)
        except (ServerError, TransportError, RemoteProtocolError):
            return False
        return True

    async def _recreate(self) -> None:
        application = self._application
        await application.close_channel()
        try:
            url = application.applications_url or await application.rediscover()
            await application.create(url)
        except ServerError as exc:
            if exc.status in (403, 404, 502):
                application.applications_url = None  # the pool moved: discover again next time
            raise
        await application.start_channel()
        self._last = application.channel
        await application.make_me_available()


# Answers that may change on another try: a moved pool (403/404), a lost application (410),
# timeouts and throttling (408/429); other 4xx are refusals.
_RETRY_4XX: Final = frozenset({403, 404, 408, 410, 429})
_RETRYABLE = (ServerError, DiscoveryError, TransportError, RemoteProtocolError)


def _retryable(exc: UcwaError) -> UcwaError:
    """``exc`` when another attempt may help; re-raised when it is a refusal that will not."""
    if isinstance(exc, ServerError) and 400 <= exc.status < 500 and exc.status not in _RETRY_4XX:
        raise exc
    return exc


def _final(failure: UcwaError) -> bool:
    """True for a channel failure that ends the recovery where it stands.

    Another copy of the app took the application over (two 409 PGetReplaced), or the server
    refused our credentials: the session already shows that (its channel-failure handler set
    TAKEN_OVER or FAILED), and re-creating the application would only take it back from the
    other copy or ask for credentials again. So stop, and leave the status as the session set it.
    """
    return isinstance(failure, SessionTakenOver | AuthenticationError)


def _retry_after(cause: UcwaError) -> float | None:
    return cause.retry_after if isinstance(cause, ServerError) else None
