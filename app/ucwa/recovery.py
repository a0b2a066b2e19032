"""Recovery: re-create the application and its event channel after the server lost them."""

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
    TransportError,
    UcwaError,
)
from app.ucwa.retry import Backoff
from app.ucwa.status import ConnectionState
from app.ucwa.transport import Sleep, Transport

log = logging.getLogger(__name__)

__all__ = ["RECOVERY_ATTEMPTS", "Recovery"]

RECOVERY_ATTEMPTS: Final = 8


class Recovery:
    """At most one recovery at a time (docs/protocol.md §4.4); the call's state is kept across it.

    ``set_status`` reports progress, ``reconcile_call`` asks whether the call in progress
    survived on the server once a new application exists.
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
    ) -> None:
        self._application = application
        self._transport = transport
        self._set_status = set_status
        self._reconcile_call = reconcile_call
        self._spawn = spawn
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def schedule(self, cause: UcwaError) -> None:
        """Start recovering from ``cause`` unless a recovery is already under way."""
        if self._task is None:
            self._task = self._spawn(self._recover(cause))

    async def _recover(self, cause: UcwaError) -> None:
        try:
            self._set_status(ConnectionState.RECONNECTING, "Reconnecting to the server…")
            if await self._application_alive(cause):
                # The 404 was about something else (docs/protocol.md §12 #22); keep the application.
                channel = self._application.channel
                if channel is None or not channel.running:
                    log.info("application still exists; restarting the event channel only")
                    await self._application.restart_channel_same_url()
            else:
                await self._recreate()
                await self._reconcile_call()
            self._set_status(ConnectionState.SIGNED_IN, None)
        except AuthenticationError as exc:
            self._set_status(ConnectionState.FAILED, exc.user_message)
        except UcwaError as exc:
            self._set_status(ConnectionState.FAILED, f"Could not reconnect: {exc.user_message}")
        finally:
            self._task = None

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
        backoff = Backoff(first=0.5, cap=30.0)
        await application.close_channel()
        last: UcwaError | None = None
        for _ in range(RECOVERY_ATTEMPTS):
            try:
                url = application.applications_url or await application.rediscover()
                await application.create(url)
                await application.start_channel()
                await application.make_me_available()
                return
            except AuthenticationError:
                raise
            except (ServerError, DiscoveryError) as exc:
                last = exc
                if isinstance(exc, ServerError) and exc.status in (403, 404, 502):
                    application.applications_url = None  # the pool moved: discover again
                elif isinstance(exc, ServerError) and exc.status < 500 and exc.status != 429:
                    raise
                await self._sleep(backoff.next(getattr(exc, "retry_after", None)))
            except (TransportError, RemoteProtocolError) as exc:
                last = exc
                await self._sleep(backoff.next())
        assert last is not None
        raise last
