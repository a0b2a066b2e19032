"""DiagnosticsViewModel: steps shown as they complete, and a redacted "Copy diagnostics" text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from pytestqt.qtbot import QtBot

from app.diagnostics.checker import AccountChecker, CheckTarget
from app.diagnostics.steps import STEPS, Outcome, Step, StepResult
from app.logs import register_secret
from app.settings import Settings
from app.simulator.serve import SimServer
from app.viewmodel.diagnostics import DiagnosticsViewModel

SECRET = "Hunter2-very-secret-pass"


class SlowService:
    """Reports each step only when the test releases it."""

    def __init__(self, results: list[StepResult]) -> None:
        self.results = results
        self.release = asyncio.Event()
        self.runs = 0

    async def check(self, on_step: Callable[[StepResult], None]) -> list[StepResult]:
        self.runs += 1
        on_step(self.results[0])
        await self.release.wait()
        for result in self.results[1:]:
            on_step(result)
        return self.results

    def facts(self, extra: Mapping[str, str]) -> dict[str, str]:
        # A careless source: the secret sits in a setting and in a server's text below.
        return {"server": f"https://lync.contoso.com/?password={SECRET}", "user": "alice", **extra}


def _failing_sign_in() -> list[StepResult]:
    return [
        StepResult(Step.DISCOVERY, Outcome.OK, 12, "UCWA at lync.contoso.com"),
        StepResult(
            Step.SIGN_IN,
            Outcome.FAILED,
            30,
            "The user name or password is not correct.",
            diagnostics=f'28020;reason="bad {SECRET}"',
            advice="Check your user name and password.",
        ),
        *(StepResult(s, Outcome.SKIPPED) for s in STEPS[2:]),
    ]


def test_steps_appear_as_they_complete_and_the_summary_names_the_failed_one(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop
) -> None:
    service = SlowService(_failing_sign_in())
    vm = DiagnosticsViewModel(service)
    vm.run()
    qtbot.waitUntil(lambda: vm.running and vm.steps[0]["result"] == "ok")
    assert [row["result"] for row in vm.steps] == ["ok"] + ["pending"] * 4
    assert vm.summary == "Testing the connection…"
    vm.run()  # a second click while running starts nothing
    service.release.set()
    qtbot.waitUntil(lambda: not vm.running)
    assert service.runs == 1
    assert [row["result"] for row in vm.steps] == ["ok", "failed", *["skipped"] * 3]
    assert vm.steps[1]["advice"] == "Check your user name and password."
    assert vm.summary == "Sign in failed."


def test_copied_diagnostics_hold_versions_settings_and_steps_but_no_registered_secret(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop
) -> None:
    register_secret(SECRET)
    service = SlowService(_failing_sign_in())
    service.release.set()
    vm = DiagnosticsViewModel(service)
    vm.run()
    qtbot.waitUntil(lambda: not vm.running and bool(vm.steps))
    text = vm.reportText("offscreen")
    for expected in ("Qt:", "PySide6:", "Qt platform plugin: offscreen", "user:", "alice"):
        assert expected in text
    assert "✘ Sign in" in text and "X-Ms-Diagnostics: 28020" in text
    assert SECRET not in text


def test_a_real_check_of_the_simulator_passes_every_step(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    sim_server: SimServer,
    sim_credentials: tuple[str, str],
) -> None:
    user, password = sim_credentials
    target = CheckTarget(
        Settings(discovery_url=sim_server.discovery_url, user=user), password, False
    )
    vm = DiagnosticsViewModel(AccountChecker(lambda: target))
    vm.run()
    qtbot.waitUntil(
        lambda: not vm.running and vm.summary != "Testing the connection…", timeout=20000
    )
    assert [row["result"] for row in vm.steps] == ["ok"] * 5, vm.steps
    assert vm.summary == "Every step passed."
    text = vm.reportText("offscreen")
    assert "keyring backend:" in text and password not in text
