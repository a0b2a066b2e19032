"""`ucwa-phone call "Carol"`: a name is looked up, and the right person's number is called."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer
from tests.integration.test_cli_call import ROOT, lines


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(speed=50, max_poll_s=0.5, dial_plan=True)


class Run:
    """`ucwa-phone call` as a subprocess, noting every number the simulator was asked to call
    while it ran (the command deletes its application, and with it the invitations, on exit)."""

    def __init__(self, sim: Simulator, server: SimServer, *args: str, answer: bytes = b"") -> None:
        env = dict(os.environ, UCWA_PHONE_PASSWORD="demo-password")
        argv = [sys.executable, "-m", "app", "call", *args]
        argv += ["--server", server.discovery_url, "--user", "alice@contoso.com"]
        self.called: set[str] = set()
        controller, terminal = pty.openpty() if answer else (-1, -1)
        try:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=terminal if answer else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 60
            asked = False
            while proc.poll() is None and time.monotonic() < deadline:
                self.called |= {
                    inv.to
                    for app in list(sim.apps.values())
                    for inv in list(app.invitations.values())
                }
                if answer and not asked and _searched(sim):
                    time.sleep(0.3)  # the list and the question follow the search's answer
                    os.write(controller, answer)
                    asked = True
                time.sleep(0.01)
            if proc.poll() is None:
                proc.kill()
            self.out, self.err = proc.communicate(timeout=10)
            self.code = proc.returncode
        finally:
            if answer:
                os.close(controller)
                os.close(terminal)


def _searched(sim: Simulator) -> bool:
    return any(r.path.endswith("/people/search") for r in sim.request_log)


def test_one_match_with_one_number_is_called_and_named(sim: Simulator, sim_server: SimServer):
    run = Run(sim, sim_server, "richard carter", "--hangup-after", "0.2", "--json")
    assert run.code == 0, run.err
    assert "calling Richard Carter (Controller, Finance): work +1 425-555-0180" in run.err
    assert lines(run.out)[-1]["state"] == "ended"
    assert run.called == {"tel:+14255550180"}


def test_nobody_found_exits_2_and_calls_no_one(sim: Simulator, sim_server: SimServer) -> None:
    run = Run(sim, sim_server, "Zzyzx", "--json")
    assert run.code == 2
    assert run.err.strip().splitlines()[-1] == "ucwa-phone call: No one found for 'Zzyzx'."
    assert run.called == set()


def test_several_matches_in_a_script_are_listed_not_guessed(
    sim: Simulator, sim_server: SimServer
) -> None:
    run = Run(sim, sim_server, "Carol")
    assert run.code == 2
    assert "  1. Carol Diaz (Engineer 2, Engineering): work +1425554321 ext. 54321" in run.err
    assert run.err.strip().splitlines()[-1] == "ucwa-phone call: ambiguous: 4 matches"
    assert run.called == set()


def test_several_matches_on_a_terminal_ask_which_and_call_that_one(
    sim: Simulator, sim_server: SimServer
) -> None:
    # Carol Diaz comes first (the name starts with the query; then by name); her mobile number
    # is the second choice.
    run = Run(sim, sim_server, "Carol", "--hangup-after", "0.2", answer=b"2\n")
    assert run.code == 0, run.err
    assert "Which one? [1-4]" in run.err
    assert "calling Carol Diaz (Engineer 2, Engineering): mobile" in run.err
    assert run.called == {"tel:+14255551212"}


def test_json_mode_never_asks_even_on_a_terminal(sim: Simulator, sim_server: SimServer) -> None:
    run = Run(sim, sim_server, "Carol", "--json", answer=b"1\n")
    assert run.code == 2
    assert "Which one?" not in run.err and run.called == set()


def test_a_name_with_a_bad_callback_is_refused_before_signing_in(
    sim: Simulator, sim_server: SimServer
) -> None:
    run = Run(sim, sim_server, "Carol", "--callback", "12", "--json")
    assert run.code == 2
    assert "callback" not in run.out and sim.request_log == []
