"""`ucwa-phone call` as a subprocess against the simulator: output, exit status, nothing leaked."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.commands import call as call_cmd
from app.simulator import Simulator
from app.simulator.serve import SimServer

ROOT = Path(__file__).resolve().parents[2]
STATES = {
    "signing_in",
    "calling_you",
    "connecting",
    "ringing_them",
    "connected",
    "on_hold",
    "ending",
    "ended",
    "failed",
    "reconnecting",
}


def call(*args: str, password: str | None = "demo-password", timeout: float = 60) -> tuple:
    env = dict(os.environ)
    env.pop("UCWA_PHONE_PASSWORD", None)
    if password is not None:
        env["UCWA_PHONE_PASSWORD"] = password
    done = subprocess.run(
        [sys.executable, "-m", "app", "call", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def lines(stdout: str) -> list[dict]:
    parsed = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    for item in parsed:
        assert set(item) == {"t", "state", "reason", "actions"}
        assert item["state"] in STATES
    times = [item["t"] for item in parsed]
    assert times == sorted(times)
    return parsed


def test_whole_call_with_timed_actions(sim_server: SimServer) -> None:
    code, out, err = call(
        "+14255550100",
        "--server",
        sim_server.discovery_url,
        "--user",
        "alice@contoso.com",
        "--hold-after",
        "0.3",
        "--resume-after",
        "0.6",
        "--hangup-after",
        "0.9",
        "--json",
    )
    assert code == 0, err
    states = [item["state"] for item in lines(out)]
    compact = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
    assert compact == [
        "signing_in",
        "calling_you",
        "connecting",
        "ringing_them",  # the user's phone is up; the far end has not answered yet
        "connected",
        "on_hold",
        "connected",
        "ending",
        "ended",
    ]
    on_hold = next(item for item in lines(out) if item["state"] == "on_hold")
    assert on_hold["actions"] == ["hang_up", "resume"]
    assert "demo-password" not in out + err


def test_busy_exits_non_zero_with_the_reason(sim_server: SimServer) -> None:
    code, out, err = call(
        "+14255550101", "--server", sim_server.discovery_url, "--user", "alice@contoso.com"
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == "ucwa-phone call: failed: The line was busy."
    assert "failed" in out


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("+14255550102", "declined"),
        ("+14255550104", "your phone did not answer"),
        ("+14255550108", "does not exist"),
    ],
)
def test_other_failures_say_why(sim_server: SimServer, number: str, words: str) -> None:
    code, out, err = call(
        number, "--server", sim_server.discovery_url, "--user", "alice@contoso.com", "--json"
    )
    assert code == 1
    assert words in err.lower()
    assert lines(out)[-1]["state"] == "failed"


def test_bad_number_sends_nothing(sim: Simulator, sim_server: SimServer) -> None:
    # (Text with letters is a name to look up: see test_cli_find_colleague.py.)
    code, _out, err = call(
        "555*0100", "--server", sim_server.discovery_url, "--user", "alice@contoso.com"
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "cannot be part of a number" in err
    assert sim.request_log == []  # refused before signing in: not a single request


def test_wrong_password_is_a_sign_in_failure(sim_server: SimServer) -> None:
    code, out, err = call(
        "+14255550100",
        "--server",
        sim_server.discovery_url,
        "--user",
        "alice@contoso.com",
        "--json",
        password="not-the-password",
    )
    assert code == 3
    assert "sign-in failed" in err
    assert "not-the-password" not in out + err
    assert lines(out)[-1]["state"] == "failed"


def test_unreachable_server(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/autodiscover/autodiscoverservice.svc/root"
    code, _out, err = call("+14255550100", "--server", url, "--user", "alice@contoso.com")
    assert code == 3
    assert "unreachable" in err


def test_demo_mode_without_any_account() -> None:
    code, out, err = call(
        "+14255550100", "--hangup-after", "0.2", "--demo-speed", "50", "--json", password=None
    )
    assert code == 0, err
    assert "demo mode" in err
    assert lines(out)[-1]["state"] == "ended"


def test_against_ucwa_phone_sim() -> None:
    sim = subprocess.Popen(
        [sys.executable, "-m", "app", "sim", "--speed", "20", "--max-poll", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sim.stdout is not None
        info = json.loads(sim.stdout.readline())
        code, out, err = call(
            "+14255550100",
            "--server",
            info["discovery"],
            "--user",
            info["user"],
            "--hold-after",
            "0.4",
            "--resume-after",
            "0.8",
            "--hangup-after",
            "1.2",
            "--json",
            password=info["password"],
        )
    finally:
        sim.terminate()
        sim.communicate(timeout=10)  # also closes the pipe
    assert code == 0, err
    states = [item["state"] for item in lines(out)]
    assert "on_hold" in states and states[-1] == "ended"


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tls_needs_the_ca_and_names_the_host(sim: Simulator) -> None:
    with SimServer(sim, tls=True) as server:
        args = ("+14255550106", "--server", server.discovery_url, "--user", "alice@contoso.com")
        code, _out, err = call(*args)
        assert code == 3
        assert "127.0.0.1" in err and "certificate" in err.lower()
        assert server.ca_pem_path
        code, out, err = call(*args, "--ca-bundle", server.ca_pem_path, "--json")
        assert code == 0, err  # the far end hangs up by itself: ended normally
        assert lines(out)[-1]["state"] == "ended"


def test_a_missing_ca_bundle_is_one_sentence_and_exit_3(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    code, _out, err = call(
        "+14255550106",
        "--server",
        "https://127.0.0.1:9/",
        "--user",
        "alice@contoso.com",
        "--ca-bundle",
        str(missing),
    )
    assert code == 3
    assert f"The CA bundle {missing} cannot be read: No such file or directory." in err
    assert "Traceback" not in err


# -- interruption and a silent server -----------------------------------------------------------


def _placed_calls(sim: Simulator) -> list[int]:
    return [
        r.status
        for r in sim.request_log
        if r.method == "POST" and r.path.lower().endswith("/phoneaudioinvitations")
    ]


def _deleted_apps(sim: Simulator) -> list[int]:
    return [
        r.status for r in sim.request_log if r.method == "DELETE" and "/applications/" in r.path
    ]


def test_ctrl_c_while_signing_in_places_no_call(sim: Simulator, sim_server: SimServer) -> None:
    # Sign-in hangs in makeMeAvailable (429 + Retry-After, retried) long enough to press Ctrl-C.
    sim.faults.force_status("makeMeAvailable", 429, count=3, retry_after=2, method="POST")
    env = dict(os.environ, UCWA_PHONE_PASSWORD="demo-password")
    args = ["+14255550100", "--server", sim_server.discovery_url, "--user", "alice@contoso.com"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "call", *args, "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(r.status == 429 for r in sim.request_log):
            assert time.monotonic() < deadline and proc.poll() is None, "sign-in never got busy"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "ucwa-phone call: interrupted; no call was placed"
    assert _placed_calls(sim) == []  # the user's phone never rang
    assert _deleted_apps(sim) == [204]  # and the half-made sign-in was cleaned up
    assert "connected" not in [item["state"] for item in lines(out)]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    call_cmd.add_arguments(parser)
    return parser.parse_args(list(argv))


async def _until(check: object, within: float = 10.0) -> None:
    assert callable(check)
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the simulator runs on its own thread
            await asyncio.sleep(0.02)


@pytest.mark.anyio
async def test_ctrl_c_with_a_slow_server_still_ends_as_interrupted(
    sim: Simulator,
    sim_server: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UCWA_PHONE_PASSWORD", "demo-password")
    monkeypatch.setattr(call_cmd, "_HANG_UP_WAIT_S", 0.3)
    args = _args(
        "+14255550100", "--server", sim_server.discovery_url, "--user", "alice@contoso.com"
    )
    running = asyncio.ensure_future(call_cmd._main(args))

    def connected() -> bool:
        assert not running.done(), running.result()
        convs = [c for a in list(sim.apps.values()) for c in list(a.conversations.values())]
        return any(c.pa_state == "Connected" for c in convs)

    await _until(connected)
    sim.faults.add_latency(1.0)  # the hang-up now outlasts its bound
    os.kill(os.getpid(), signal.SIGINT)
    async with asyncio.timeout(15):
        code = await running
    err = capfd.readouterr().err
    assert code == call_cmd.EXIT_INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "ucwa-phone call: interrupted; the call was ended"
    assert "cannot start" not in err


@pytest.mark.anyio
async def test_a_call_the_server_never_reports_on_is_given_up(
    sim: Simulator,
    sim_server: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UCWA_PHONE_PASSWORD", "demo-password")
    monkeypatch.setattr(call_cmd, "_NO_PROGRESS_S", 1.0)
    sim.faults.stall_events(60)  # the call is accepted (201) but no event ever arrives
    args = _args(
        "+14255550100",
        "--server",
        sim_server.discovery_url,
        "--user",
        "alice@contoso.com",
        "--json",
    )
    async with asyncio.timeout(15):
        code = await call_cmd._main(args)
    captured = capfd.readouterr()
    assert code == call_cmd.EXIT_CALL_FAILED, captured.err
    last = captured.err.strip().splitlines()[-1]
    assert last == "ucwa-phone call: failed: no news of the call from the server for 1 s; gave up"
    assert lines(captured.out)[-1]["state"] == "failed"
    assert _placed_calls(sim) == [201]
    assert _deleted_apps(sim) == [204]  # leaving deleted the application: the call is over
