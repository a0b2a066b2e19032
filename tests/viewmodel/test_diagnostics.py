"""DiagnosticsViewModel: steps shown as they complete, and a redacted "Copy diagnostics" text."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping

import pytest
from pytestqt.qtbot import QtBot

import app.viewmodel.diagnostics as diagnostics_vm
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


def copied(qtbot: QtBot, vm: DiagnosticsViewModel) -> str:
    with qtbot.waitSignal(vm.reportReady, timeout=10000) as blocker:
        vm.copyReport("offscreen")
    return str(blocker.args[0])


class HangingFacts(SlowService):
    """The keyring probe hangs (a D-Bus that never answers) until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(_failing_sign_in())
        self.unblock = threading.Event()

    def facts(self, extra: Mapping[str, str]) -> dict[str, str]:
        self.unblock.wait(10)
        return super().facts(extra)


def test_copy_diagnostics_keeps_the_window_responsive_and_copies_by_a_deadline(
    qtbot: QtBot, aloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diagnostics_vm, "FACTS_DEADLINE_S", 0.5)
    service = HangingFacts()
    vm = DiagnosticsViewModel(service)
    reports: list[str] = []
    vm.reportReady.connect(reports.append)
    started = time.monotonic()
    vm.copyReport("offscreen")
    assert time.monotonic() - started < 0.2  # the click returned at once
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)
    service.unblock.set()
    assert "not gathered within 0.5 s" in reports[0]
    assert "Qt platform plugin: offscreen" in reports[0]


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
    text = copied(qtbot, vm)
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
    text = copied(qtbot, vm)
    assert "keyring backend:" in text and password not in text
