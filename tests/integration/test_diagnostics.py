"""Test connection against the simulator: every step's result, time, server text and advice."""

from __future__ import annotations

import socket

import pytest

from app.diagnostics.account import check_account
from app.diagnostics.advice import ADVICE, Failure
from app.diagnostics.steps import STEPS, Outcome, Step, StepResult
from app.settings import Settings
from app.simulator import Simulator
from app.simulator.serve import SimServer

pytestmark = pytest.mark.anyio


def _account(server: SimServer, user: str) -> Settings:
    return Settings(discovery_url=server.discovery_url, user=user)


def _by_step(results: list[StepResult]) -> dict[Step, StepResult]:
    assert [r.step for r in results] == list(STEPS)  # every step, in order, once
    return {r.step: r for r in results}


async def test_a_healthy_server_passes_every_step_and_the_check_deletes_its_application(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    heard: list[StepResult] = []
    results = await check_account(
        _account(sim_server, user), password=password, keep=False, on_step=heard.append
    )
    assert heard == results  # shown as they complete
    assert all(r.outcome is Outcome.OK for r in results), [r.line() for r in results]
    assert all(r.ms >= 0 and r.advice is None for r in results)
    assert sim.apps == {}  # cleaned up


async def test_a_wrong_password_fails_sign_in_with_the_server_text_and_advice(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, _ = sim_credentials
    steps = _by_step(
        await check_account(_account(sim_server, user), password="not-the-password", keep=False)
    )
    assert steps[Step.DISCOVERY].outcome is Outcome.OK
    sign_in = steps[Step.SIGN_IN]
    assert sign_in.outcome is Outcome.FAILED
    assert "password" in sign_in.detail.lower()
    assert sign_in.diagnostics is not None and "28020" in sign_in.diagnostics
    assert sign_in.advice == ADVICE[Failure.CREDENTIALS]
    assert "not-the-password" not in "".join(r.line() for r in steps.values())
    later = (Step.APPLICATION, Step.MAKE_ME_AVAILABLE, Step.EVENT_POLL)
    assert all(steps[s].outcome is Outcome.SKIPPED for s in later)


async def test_a_503_on_application_creation_fails_that_step_with_x_ms_diagnostics(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    sim.faults.force_status("/applications", 503, method="POST")
    steps = _by_step(await check_account(_account(sim_server, user), password=password, keep=False))
    assert steps[Step.SIGN_IN].outcome is Outcome.OK
    created = steps[Step.APPLICATION]
    assert created.outcome is Outcome.FAILED
    assert created.diagnostics is not None and created.diagnostics.startswith("50300")
    assert created.advice == ADVICE[Failure.BUSY]
    assert steps[Step.EVENT_POLL].outcome is Outcome.SKIPPED


async def test_a_refused_make_me_available_is_shown_not_swallowed(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    sim.faults.force_status("makeMeAvailable", 403, method="POST", count=2)
    steps = _by_step(await check_account(_account(sim_server, user), password=password, keep=False))
    assert steps[Step.APPLICATION].outcome is Outcome.OK
    assert steps[Step.MAKE_ME_AVAILABLE].outcome is Outcome.FAILED
    assert steps[Step.MAKE_ME_AVAILABLE].advice == ADVICE[Failure.FORBIDDEN]
    assert sim.apps == {}  # the application it did create is gone again


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_server_fails_discovery_fast_with_advice() -> None:
    url = f"http://127.0.0.1:{_free_port()}/autodiscover/autodiscoverservice.svc/root"
    steps = _by_step(
        await check_account(
            Settings(discovery_url=url, user="a@contoso.com"), password="x1234", keep=False
        )
    )
    found = steps[Step.DISCOVERY]
    assert found.outcome is Outcome.FAILED
    assert found.ms < 5000
    assert found.advice == ADVICE[Failure.CONNECT]
    assert all(steps[s].outcome is Outcome.SKIPPED for s in STEPS[1:])


async def test_a_server_that_never_answers_fails_within_the_overall_deadline() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        url = f"http://127.0.0.1:{port}/autodiscover/autodiscoverservice.svc/root"
        steps = _by_step(
            await check_account(
                Settings(discovery_url=url, user="a@contoso.com"),
                password="x1234",
                keep=False,
                deadline_s=1.0,
            )
        )
    found = steps[Step.DISCOVERY]
    assert found.outcome is Outcome.FAILED
    assert found.ms < 3000
    assert found.advice == ADVICE[Failure.TIMEOUT]


async def test_a_wrong_discovery_url_says_so(
    sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    wrong = sim_server.discovery_url.replace("autodiscoverservice.svc", "nothing-here")
    steps = _by_step(
        await check_account(Settings(discovery_url=wrong, user=user), password=password, keep=False)
    )
    assert steps[Step.DISCOVERY].outcome is Outcome.FAILED
    assert steps[Step.DISCOVERY].advice == ADVICE[Failure.DISCOVERY_NOT_FOUND]
