"""Recovery on its own: re-create, rediscover after a move, give up in words, one at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest

from app.ucwa.errors import (
    AuthenticationError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.recovery import RECOVERY_ATTEMPTS, SETTLE_RETRYING_S, Recovery
from app.ucwa.status import ConnectionState
from app.ucwa.transport import Transport

BASE = "https://pool.contoso.com"
APPS = f"{BASE}/ucwa/oauth/v1/applications"


class Resource:
    href = f"{APPS}/7"


class Channel:
    """A channel whose first poll answers at once."""

    def __init__(self, running: bool) -> None:
        self.running = running
        self.failure: UcwaError | None = None
        self.reconnecting = False
        self.answers = 1

    async def first_outcome(self) -> bool:
        return True


class FakeApplication:
    """Records what recovery asks of the application; ``failures`` are raised by create()."""

    def __init__(self, *failures: UcwaError) -> None:
        self.failures = list(failures)
        self.applications_url: str | None = APPS
        self.resource: Resource | None = Resource()
        self.channel: Channel | None = Channel(running=True)
        self.log: list[str] = []

    async def close_channel(self) -> None:
        self.log.append("close")

    async def rediscover(self) -> str:
        self.log.append("discover")
        self.applications_url = f"{BASE}/moved/applications"
        return self.applications_url

    async def create(self, url: str) -> None:
        self.log.append(f"create {url}")
        if self.failures:
            raise self.failures.pop(0)

    async def start_channel(self) -> None:
        self.log.append("channel")

    async def restart_channel_same_url(self) -> None:
        self.log.append("same channel")

    async def make_me_available(self) -> None:
        self.log.append("available")


class Rig:
    def __init__(self, app: FakeApplication, get_status: int = 404) -> None:
        self.app = app
        self.http = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda _: httpx.Response(get_status, json={}))
        )
        self.statuses: list[tuple[ConnectionState, str | None]] = []
        self.reconciled = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.sleeps: list[float] = []

        async def sleep(delay: float) -> None:
            self.sleeps.append(delay)

        async def reconcile() -> None:
            self.reconciled += 1

        def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            task = asyncio.get_running_loop().create_task(coro)
            self.tasks.append(task)
            return task

        self.recovery = Recovery(
            app,  # type: ignore[arg-type]
            Transport(self.http, None, sleep=sleep, max_attempts=1),
            set_status=lambda state, detail: self.statuses.append((state, detail)),
            reconcile_call=reconcile,
            spawn=spawn,
            sleep=sleep,
        )

    async def recover(self, cause: UcwaError) -> None:
        async with self.http:
            self.recovery.schedule(cause)
            assert self.recovery.running
            await asyncio.gather(*self.tasks)
        assert not self.recovery.running

    @property
    def states(self) -> list[ConnectionState]:
        return [state for state, _ in self.statuses]


GONE = ServerError(404, "NotFound", "ApplicationNotFound")


@pytest.mark.anyio
async def test_a_lost_application_is_recreated_and_the_call_reconciled() -> None:
    rig = Rig(FakeApplication())
    await rig.recover(GONE)
    assert rig.app.log == ["close", f"create {APPS}", "channel", "available"]
    assert rig.states == [ConnectionState.RECONNECTING, ConnectionState.SIGNED_IN]
    assert rig.reconciled == 1


@pytest.mark.anyio
async def test_a_moved_pool_is_discovered_again() -> None:
    rig = Rig(FakeApplication(ServerError(403, "Forbidden")))
    await rig.recover(GONE)
    steps = [entry for entry in rig.app.log if entry != "close"]
    assert steps[:3] == [f"create {APPS}", "discover", f"create {BASE}/moved/applications"]
    assert rig.states[-1] is ConnectionState.SIGNED_IN


@pytest.mark.anyio
async def test_a_404_about_something_else_keeps_the_application() -> None:
    rig = Rig(FakeApplication(), get_status=200)
    await rig.recover(GONE)
    assert rig.app.log == ["same channel"]
    assert rig.reconciled == 1  # the call is re-read after every recovery
    assert rig.states[-1] is ConnectionState.SIGNED_IN


@pytest.mark.anyio
async def test_a_refused_sign_in_during_recovery_fails_in_words() -> None:
    rig = Rig(FakeApplication(AuthenticationError("Please sign in again.")))
    await rig.recover(GONE)
    assert rig.statuses[-1] == (ConnectionState.FAILED, "Please sign in again.")
    assert rig.reconciled == 0


@pytest.mark.anyio
async def test_recovery_gives_up_after_its_attempts_with_backoff() -> None:
    failures = [TransportError("no route")] * RECOVERY_ATTEMPTS
    rig = Rig(FakeApplication(*failures))
    await rig.recover(GONE)
    assert sum(entry.startswith("create") for entry in rig.app.log) == RECOVERY_ATTEMPTS
    # The first attempt goes at once; every later one waits on the backoff.
    assert len(rig.sleeps) == RECOVERY_ATTEMPTS - 1 and all(s > 0 for s in rig.sleeps)
    state, detail = rig.statuses[-1]
    assert state is ConnectionState.FAILED and detail == "Could not reconnect: no route"


@pytest.mark.anyio
async def test_only_one_recovery_runs_at_a_time() -> None:
    rig = Rig(FakeApplication())
    async with rig.http:
        rig.recovery.schedule(GONE)
        rig.recovery.schedule(GONE)
        await asyncio.gather(*rig.tasks)
    assert len(rig.tasks) == 1
    assert rig.app.log.count("close") == 1


class FailedChannel(Channel):
    """A channel that stopped with ``failure`` before answering."""

    def __init__(self, failure: UcwaError) -> None:
        super().__init__(running=False)
        self.failure = failure
        self.answers = 0

    async def first_outcome(self) -> bool:
        return False


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [
        SessionTakenOver("Another copy of the app took over the connection."),
        AuthenticationError("Please sign in again."),
    ],
)
async def test_a_taken_over_or_refused_channel_ends_recovery_without_fighting_back(
    failure: UcwaError,
) -> None:
    app = FakeApplication()
    app.channel = FailedChannel(failure)
    rig = Rig(app)
    await rig.recover(GONE)
    # One re-creation (for the lost application), none to take the application back.
    assert sum(entry.startswith("create") for entry in app.log) == 1
    # The session's own channel-failure handler shows "taken over" / "failed": recovery stays quiet.
    assert rig.states == [ConnectionState.RECONNECTING]
    assert rig.reconciled == 0


class RetryingChannel(Channel):
    """A channel that keeps retrying (5xx, network) and never gets through."""

    def __init__(self) -> None:
        super().__init__(running=True)
        self.reconnecting = True
        self.answers = 0

    async def first_outcome(self) -> bool:
        await asyncio.Event().wait()  # never
        return False


@pytest.mark.anyio
async def test_a_recovery_whose_channels_keep_retrying_still_gives_up() -> None:
    app = FakeApplication()
    app.channel = RetryingChannel()
    rig = Rig(app)
    async with asyncio.timeout(5):  # "reconnecting" must not last forever
        await rig.recover(GONE)
    state, detail = rig.statuses[-1]
    assert state is ConnectionState.FAILED and detail is not None
    assert detail.startswith("Could not reconnect")
    # Each attempt waited for the retrying channel, bounded: the give-up is counted in attempts.
    assert rig.sleeps.count(SETTLE_RETRYING_S) == RECOVERY_ATTEMPTS
