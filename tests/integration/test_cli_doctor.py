"""`ucwa-phone doctor` as a subprocess against the simulator: every step printed, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.simulator import Simulator
from app.simulator.serve import SimServer

ROOT = Path(__file__).resolve().parents[2]
TITLES = [
    "Find the server (discovery)",
    "Sign in",
    "Create the application",
    "Make me available",
    "First event poll",
]


def doctor(*args: str, password: str | None = None) -> tuple[int, str, str]:
    env = dict(os.environ)
    env.pop("UCWA_PHONE_PASSWORD", None)
    if password is not None:
        env["UCWA_PHONE_PASSWORD"] = password
    done = subprocess.run(
        [sys.executable, "-m", "app", "doctor", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_doctor_against_the_simulator_prints_every_step_ok(
    sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, password = sim_credentials
    code, out, err = doctor("--server", sim_server.discovery_url, "--user", user, password=password)
    assert code == 0, out + err
    step_lines = [line for line in out.splitlines() if line[:1] in "✔✘–"]
    assert [line[2:].split("  ")[0].strip() for line in step_lines] == TITLES
    assert all(line.startswith("✔") and " ms" in line for line in step_lines)
    assert password not in out + err


def test_doctor_with_a_wrong_password_exits_1_and_says_what_to_try(
    sim: Simulator, sim_server: SimServer, sim_credentials: tuple[str, str]
) -> None:
    user, _ = sim_credentials
    code, out, err = doctor(
        "--server", sim_server.discovery_url, "--user", user, "--json", password="wrong-pass-123"
    )
    assert code == 1
    doc = json.loads(out)
    results = {s["step"]: s for s in doc["steps"]}
    assert results["sign_in"]["result"] == "failed"
    assert "password" in results["sign_in"]["advice"]
    assert results["event_poll"]["result"] == "skipped"
    assert "wrong-pass-123" not in out + err
    assert sim.apps == {}


def test_doctor_without_an_account_checks_the_built_in_simulator() -> None:
    code, out, err = doctor()
    assert code == 0, out + err
    assert "built-in simulator" in err
    assert out.count("✔") == len(TITLES)


def test_doctor_usage_errors_exit_2() -> None:
    code, _, err = doctor("--server", "https://lyncdiscover.contoso.com/")
    assert code == 2
    assert "--user" in err
