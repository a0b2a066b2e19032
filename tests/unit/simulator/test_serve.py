"""SimServer over real loopback HTTP(S), the `ucwa-phone sim` command, and load."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.serve import SimServer

ROOT = Path(__file__).resolve().parents[3]


def sign_in(
    client: httpx.Client, discovery: str, endpoint: str = "e"
) -> tuple[dict[str, Any], dict[str, str]]:
    root = client.get(discovery).json()
    user_url = root["_links"]["user"]["href"]
    challenge = client.get(user_url).headers["www-authenticate"]
    token_url = challenge.split('href="')[1].split('"')[0]
    grant = {"grant_type": "password", "username": "alice@contoso.com", "password": "demo-password"}
    auth = {"Authorization": "Bearer " + client.post(token_url, data=grant).json()["access_token"]}
    apps = client.get(user_url, headers=auth).json()["_links"]["applications"]["href"]
    body = {"userAgent": "t", "endpointId": endpoint, "culture": "en-US"}
    return client.post(apps, json=body, headers=auth).json(), auth


def test_sim_server_fixture_serves_discovery(sim_server: SimServer) -> None:
    assert sim_server.base_url.startswith("http://127.0.0.1:")
    response = httpx.get(sim_server.discovery_url)
    assert response.status_code == 200
    assert response.json()["_links"]["user"]["href"].startswith(sim_server.base_url)
    assert sim_server.ca_pem_path is None


def test_small_requests_do_not_wait_for_delayed_acks(sim_server: SimServer) -> None:
    with httpx.Client() as client:
        client.get(sim_server.discovery_url)
        started = time.monotonic()
        for _ in range(20):
            client.get(sim_server.discovery_url)
        # Without TCP_NODELAY each answer would take ~40 ms (Nagle + delayed ACK).
        assert time.monotonic() - started < 0.5


def test_start_is_fast_and_stop_does_not_wait_for_parked_polls() -> None:
    sim = Simulator(SimConfig(speed=50))  # no poll cap: the P-GET would be held 180 s
    started = time.monotonic()
    server = SimServer(sim).start()
    assert time.monotonic() - started < 2
    previous = signal.getsignal(signal.SIGINT)
    with httpx.Client(base_url=server.base_url) as client:
        app, auth = sign_in(client, server.discovery_url)
        results: list[int] = []
        events = app["_links"]["events"]["href"]
        poller = threading.Thread(
            target=lambda: results.append(client.get(events, headers=auth, timeout=30).status_code)
        )
        poller.start()
        time.sleep(0.1)
        assert signal.getsignal(signal.SIGINT) is previous  # uvicorn did not take SIGINT
        stopping = time.monotonic()
        server.stop()
        poller.join(5)
        assert time.monotonic() - stopping < 1.5
    assert results == [503]


def test_taken_port_is_a_clear_error() -> None:
    with SimServer(Simulator()) as first:
        with pytest.raises(OSError):
            SimServer(Simulator(), port=first.port).start()
        proc = subprocess.run(
            [sys.executable, "-m", "app", "sim", "--port", str(first.port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 1
        assert proc.stdout == ""
        assert "Traceback" not in proc.stderr and "in use" in proc.stderr


def test_tls_with_the_generated_ca() -> None:
    with SimServer(Simulator(), tls=True) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.ca_pem_path is not None
        ca = server.ca_pem_path
        trust = ssl.create_default_context(cafile=ca)
        assert httpx.get(server.discovery_url, verify=trust).status_code == 200
        localhost = server.discovery_url.replace("127.0.0.1", "localhost")
        assert httpx.get(localhost, verify=trust).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.discovery_url)  # not trusted by default
    assert not Path(ca).exists()


@pytest.mark.anyio
async def test_async_mode_serves_on_the_running_loop() -> None:
    server = SimServer(Simulator(SimConfig(max_poll_s=0.2)))
    async with server, httpx.AsyncClient() as client:
        assert (await client.get(server.discovery_url)).status_code == 200


def test_faults_from_another_thread_reach_parked_polls(
    sim_server: SimServer, sim: Simulator
) -> None:
    with httpx.Client() as client:
        app, auth = sign_in(client, sim_server.discovery_url)
        events = sim_server.base_url + app["_links"]["events"]["href"]
        client.get(events, headers=auth)  # the first, empty release
        outcome: list[httpx.Response] = []
        next_url = events.replace("ack=1", "ack=2")
        poller = threading.Thread(target=lambda: outcome.append(client.get(next_url, headers=auth)))
        poller.start()
        time.sleep(0.05)
        sim.faults.expire_applications()  # from this (non-server) thread
        poller.join(2)
        assert outcome[0].status_code == 404
        assert outcome[0].json()["subcode"] == "ApplicationNotFound"


@pytest.mark.anyio
async def test_fifty_parked_polls_do_not_stall_anyone() -> None:
    sim = Simulator(SimConfig(speed=50, max_poll_s=20))
    with SimServer(sim) as server:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
            with httpx.Client(base_url=server.base_url) as sync:
                apps = [sign_in(sync, server.discovery_url, f"e{i}") for i in range(50)]
            parked = [
                asyncio.create_task(client.get(app["_links"]["events"]["href"], headers=auth))
                for app, auth in apps
            ]
            await asyncio.sleep(0.3)
            assert not any(task.done() for task in parked)
            # Commands on other applications still answer at once ...
            started = time.monotonic()
            app, auth = apps[49]
            me = await client.get(app["_embedded"]["me"]["_links"]["self"]["href"], headers=auth)
            assert me.status_code == 200
            # ... and a call's events reach its own parked poll promptly.
            app, auth = apps[0]
            start = app["_embedded"]["communication"]["_links"]["startPhoneAudio"]["href"]
            body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123"}
            assert (await client.post(start, json=body, headers=auth)).status_code == 201
            released = await asyncio.wait_for(parked[0], 2)
            assert released.json()["sender"][0]["events"][0]["type"] == "started"
            assert time.monotonic() - started < 1.0
            assert not any(task.done() for task in parked[1:])
            sim.faults.drop_event_channel()
            done = await asyncio.gather(*parked[1:])
            assert all(r.status_code == 503 for r in done)


def _start_command(*extra: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sim", "--port", "0", "--speed", "50", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    started = time.monotonic()
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    assert time.monotonic() - started < 10
    return proc, json.loads(line)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_sim_command_prints_one_json_line_and_stops_cleanly(stop_signal: int) -> None:
    proc, info = _start_command("--max-poll", "1")
    try:
        assert set(info) == {"discovery", "user", "password", "base", "ca"}
        assert info["user"] == "alice@contoso.com" and info["ca"] is None
        assert httpx.get(str(info["discovery"])).status_code == 200
        proc.send_signal(stop_signal)
        assert proc.wait(10) == 0
        assert proc.stdout is not None and proc.stdout.read() == ""
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_sim_command_tls_prints_the_ca() -> None:
    proc, info = _start_command("--tls")
    try:
        assert str(info["base"]).startswith("https://")
        trust = ssl.create_default_context(cafile=str(info["ca"]))
        assert httpx.get(str(info["discovery"]), verify=trust).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not Path(str(info["ca"])).exists()
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_request_log_shows_a_call_being_placed_held_and_ended(
    sim_server: SimServer, sim: Simulator
) -> None:
    with httpx.Client(base_url=sim_server.base_url, timeout=5) as client:
        app, auth = sign_in(client, sim_server.discovery_url)
        events = app["_links"]["events"]["href"]
        client.get(events, headers=auth)
        start = app["_embedded"]["communication"]["_links"]["startPhoneAudio"]["href"]
        body = {"to": "tel:+14255550100", "phoneNumber": "+14255550123", "operationId": "x"}
        assert client.post(start, json=body, headers=auth).status_code == 201
        next_url = events.replace("ack=1", "ack=2")
        links: dict[str, dict[str, str]] = {}
        deadline = time.monotonic() + 5
        while "holdPhoneAudio" not in links and time.monotonic() < deadline:
            doc = client.get(next_url, headers=auth).json()
            next_url = doc["_links"]["next"]["href"]
            for sender in doc.get("sender", []):
                for event in sender["events"]:
                    if event["link"]["rel"] == "phoneAudio":
                        links = event["_embedded"]["phoneAudio"]["_links"]
        assert client.post(links["holdPhoneAudio"]["href"], headers=auth).status_code == 204
        assert client.post(links["stopPhoneAudio"]["href"], headers=auth).status_code == 204
        log = client.get("/_sim/log").json()["requests"]
        recent = client.get("/_sim/log", params={"since": log[-3]["t"]}).json()["requests"]
        assert recent == log[-2:]
    posts = [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in log]
    assert ("POST", "phoneAudioInvitations", 201) in posts
    assert ("POST", "holdPhoneAudio", 204) in posts
    assert ("POST", "stopPhoneAudio", 204) in posts
    assert [r.path for r in sim.request_log] == [r["path"] for r in log]
