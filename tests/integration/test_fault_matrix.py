"""Every fault × every call phase: the final state is the server's, no second call is placed, the
request rate stays bounded and nothing crashes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from app.ucwa import CallState, ConnectionState
from app.ucwa.errors import UcwaError
from tests.helpers.faultrig import (
    FastClient,
    fast_client,
    now,
    run_for_sim_seconds,
    watch_loop_errors,
)

PHASES = ["signing_in", "calling_you", "connecting", "connected", "on_hold", "ending"]
FAULTS = [
    "401-storm",
    "404-application",
    "410-application",
    "409-pget-replaced",
    "500",
    "503-retry-after",
    "connection-reset",
    "timeout",
    "dns",
    "tls",
    "hostile-body",
    "slow-drip",
    "server-restart",
]
OUTAGE_SIM_S = 60.0
HTTP_TIMEOUT_S = 0.3
POLL_TIMEOUT_S = 1.0
# One minute of outage: the first quick retries of the backoff (~1+2+4+8+16 s), each attempt a few
# requests, plus the transport's bounded repeats; a hot loop would make hundreds.
OUTAGE_CEILING = 60
UCWA = "/ucwa/"
# The calls run at twice the usual test speed: the matrix has 78 cells.
SPEEDY = SimConfig(speed=100, max_poll_s=0.5)
LIVE = (CallState.CALLING_YOU, CallState.CONNECTING, CallState.CONNECTED, CallState.ON_HOLD)


@pytest.fixture(scope="module")
def shared_sim_config() -> SimConfig:
    return SPEEDY


def sim_view(sim: Simulator) -> tuple[bool, bool]:
    """(a call is live, it is on hold) as the simulator itself sees it."""
    for _ in range(5):
        try:
            convs = [c for app in list(sim.apps.values()) for c in app.live_conversations()]
        except RuntimeError:  # changed under us by the server thread: look again
            continue
        return bool(convs), any(c.held for c in convs)
    raise AssertionError("could not read the simulator's state")


def client_view(c: FastClient) -> tuple[bool, bool]:
    state = c.session.call.state
    return state in LIVE, state is CallState.ON_HOLD


class Cell:
    """One server (restartable on the same port) and the fault switches of one matrix cell."""

    def __init__(self, server: SimServer, sim: Simulator, own: bool) -> None:
        self.server, self.sim, self.own = server, sim, own
        self.first = sim  # the simulator before a restart
        self.spare: Simulator | None = None

    async def inject(self, fault: str, c: FastClient) -> None:
        if fault == "server-restart":
            await asyncio.to_thread(self.server.stop)
            return
        faults = self.sim.faults
        if fault == "401-storm":
            faults.expire_tokens()
            faults.force_status(UCWA, 401, count=3)
        elif fault in ("404-application", "410-application"):
            faults.expire_applications(inactive=fault.startswith("410"))
        elif fault == "409-pget-replaced":
            faults.force_status("/events", 409, count=1, code="Conflict", subcode="PGetReplaced")
        elif fault == "500":
            faults.force_status(UCWA, 500, count=4)
        elif fault == "503-retry-after":
            faults.force_status(UCWA, 503, count=4, retry_after=5)
        elif fault == "connection-reset":
            faults.reset_connection(UCWA, count=4)
        elif fault == "timeout":
            faults.stall_requests(UCWA, POLL_TIMEOUT_S * 1.2, count=3)
        elif fault in ("dns", "tls"):
            c.faults.set(fault, count=6)
        elif fault == "hostile-body":
            c.faults.set("hostile", "/events", count=2)
        elif fault == "slow-drip":
            c.faults.set("drip")
        if fault not in ("404-application", "410-application", "server-restart"):
            faults.drop_event_channel()  # the parked poll meets the fault too

    def heal(self, c: FastClient) -> None:
        c.faults.clear()
        self.sim.faults.clear()
        if self.spare is not None:
            # A restarted server knows nothing of us: a new simulator on the same port.
            port = self.server.port
            self.sim, self.spare = self.spare, None
            self.server = SimServer(self.sim, port=port).start()

    def placed_since(self, t0: float) -> int:
        sims = {id(s): s for s in (self.sim, self.first)}.values()
        return len(
            [
                r
                for sim in sims
                for r in sim.request_log
                if r.t >= t0
                and r.method == "POST"
                and r.path.endswith("phoneAudioInvitations")
                and r.status != 500
            ]
        )


@asynccontextmanager
async def cell(shared_server: SimServer, fault: str) -> AsyncIterator[Cell]:
    if fault != "server-restart":
        shared_server.sim.faults.clear()
        yield Cell(shared_server, shared_server.sim, own=False)
        return
    first = Simulator(SPEEDY)
    server = SimServer(first).start()
    it = Cell(server, first, own=True)
    it.spare = Simulator(SPEEDY)
    try:
        yield it
    finally:
        await asyncio.to_thread(it.server.stop)
        first.close()
        if it.spare is not None:
            it.spare.close()
        if it.sim is not first:
            it.sim.close()


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the simulator's state lives on another thread
            await asyncio.sleep(0.01)


async def reach(c: FastClient, phase: str) -> asyncio.Task[None] | None:
    """Start a call and stop when it is in ``phase``; returns the hang-up under way, if any."""
    await c.session.start_call("+14255550100", callback="+14255550123")
    wanted = {
        "calling_you": CallState.CALLING_YOU,
        "connecting": CallState.CONNECTING,
    }.get(phase, CallState.CONNECTED)
    await c.until_state(wanted, CallState.CONNECTED, CallState.ENDED, CallState.FAILED)
    if phase == "on_hold":
        await c.session.hold()
        await c.until_state(CallState.ON_HOLD)
    if phase == "ending":
        hang_up = asyncio.ensure_future(c.session.hang_up())
        await c.until_state(CallState.ENDING, CallState.ENDED)
        return hang_up
    return None


def _cells() -> list[object]:
    return [
        pytest.param(phase, fault, id=f"{phase}-{fault}") for phase in PHASES for fault in FAULTS
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("phase", "fault"), _cells())
async def test_fault_during_phase_ends_in_the_true_state(
    shared_server: SimServer,
    sim_credentials: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    phase: str,
    fault: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="app")
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop_errors = watch_loop_errors(loop)
    try:
        async with cell(shared_server, fault) as it:
            t0 = now()
            async with fast_client(
                it.server.discovery_url,
                *sim_credentials,
                http_timeout_s=HTTP_TIMEOUT_S,
                event_read_timeout_s=POLL_TIMEOUT_S,
            ) as c:
                hang_up: asyncio.Task[None] | None = None
                if phase == "signing_in":
                    await it.inject(fault, c)
                    if fault == "server-restart":
                        it.heal(c)  # nothing to lose yet: the server is simply back
                    async with _maybe():
                        await c.session.sign_in()
                else:
                    await c.session.sign_in()
                    hang_up = await reach(c, phase)
                    t_fault = now()
                    await it.inject(fault, c)
                    await run_for_sim_seconds(OUTAGE_SIM_S)
                    during = len([r for r in it.sim.request_log if r.t >= t_fault])
                    it.heal(c)
                    assert during <= OUTAGE_CEILING, f"{during} requests in the outage minute"
                if c.session.status.state is ConnectionState.FAILED:
                    # Only a server that keeps refusing fresh tokens may end in "sign in again";
                    # the user does, once the server is well.
                    assert fault == "401-storm" or phase == "signing_in", c.rec.connection
                    it.heal(c)
                    await c.session.sign_in()
                await until(lambda: c.session.status.state is ConnectionState.SIGNED_IN)
                if hang_up is not None:
                    async with _maybe():
                        await hang_up
                # The truth: the client shows what the server has.
                await until(lambda: client_view(c) == sim_view(it.sim), within=4.0)
                if client_view(c)[0]:
                    await c.session.hang_up()
                if phase == "signing_in":
                    await c.connected_call()
                    await c.session.hang_up()
                await c.until_state(CallState.ENDED, CallState.FAILED)
                await until(lambda: not sim_view(it.sim)[0])
                assert it.placed_since(t0) == 1  # never a second call
        assert loop_errors() == []
        crashes = [
            r.getMessage()
            for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.startswith("app.ucwa")
        ]
        assert crashes == []
    finally:
        loop.set_exception_handler(previous)


@asynccontextmanager
async def _maybe() -> AsyncIterator[None]:
    """A refusal the user sees in words is fine here; anything else propagates."""
    with suppress(UcwaError):
        yield
