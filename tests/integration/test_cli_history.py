"""`ucwa-phone call` records its calls; `ucwa-phone history` prints them in a later process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.history.store import HistoryStore, history_path
from app.settings import Settings, save
from app.simulator.serve import SimServer

ROOT = Path(__file__).resolve().parents[2]


def ucwa_phone(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, UCWA_PHONE_PASSWORD="demo-password")
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def history(*args: str) -> list[dict[str, Any]]:
    done = ucwa_phone("history", "--json", *args)
    assert done.returncode == 0, done.stderr
    entries: list[dict[str, Any]] = json.loads(done.stdout)
    return entries


def call(server: SimServer, number: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return ucwa_phone(
        "call", number, "--server", server.discovery_url, "--user", "alice@contoso.com", *extra
    )


def test_calls_of_the_command_appear_in_the_history_of_a_new_process(
    sim_server: SimServer,
) -> None:
    assert call(sim_server, "(425) 555-0100", "--hangup-after", "0.3").returncode == 0
    assert call(sim_server, "+14255550101").returncode == 1  # busy

    busy, answered = history()
    assert busy["typed"] == "+14255550101" and busy["outcome"] == "busy"
    assert busy["reason"] == "The line was busy."
    assert answered["typed"] == "(425) 555-0100"
    assert answered["sent"] == "tel:+14255550100"
    assert answered["outcome"] == "connected"
    assert answered["answered_by"] and answered["duration_s"] is not None
    assert answered["started_at"].endswith("+00:00")
    assert set(answered) == {
        "id",
        "typed",
        "sent",
        "answered_by",
        "started_at",
        "duration_s",
        "outcome",
        "reason",
    }
    assert [e["outcome"] for e in history("--limit", "1")] == ["busy"]
    table = ucwa_phone("history").stdout
    assert "(425) 555-0100" in table and "The line was busy." in table


def test_demo_calls_go_to_the_demo_history_only() -> None:
    done = ucwa_phone("call", "+14255550100", "--hangup-after", "0.2", "--demo-speed", "20")
    assert done.returncode == 0, done.stderr
    assert history() == []
    [entry] = history("--demo")
    assert entry["outcome"] == "connected"


def test_with_history_off_nothing_is_recorded(sim_server: SimServer) -> None:
    save(Settings(history_enabled=False))
    assert call(sim_server, "+14255550101").returncode == 1
    assert history() == []


def test_a_damaged_history_is_moved_aside_with_a_notice_and_calls_still_work(
    sim_server: SimServer,
) -> None:
    data = Path(os.environ["XDG_DATA_HOME"]) / "ucwa-phone"
    data.mkdir(parents=True)
    (data / "history.sqlite").write_text("not a database\n" * 200)
    done = call(sim_server, "+14255550101")
    assert done.returncode == 1
    assert "The call history was damaged" in done.stderr
    assert [e["outcome"] for e in history()] == ["busy"]
    assert len(list(data.glob("history.sqlite.corrupt-*"))) == 1


def test_no_history_yet_prints_a_sentence_and_creates_no_file() -> None:
    done = ucwa_phone("history")
    assert (done.returncode, done.stdout.strip()) == (0, "No calls yet.")
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "ucwa-phone").exists()


def test_listing_during_a_call_in_the_window_leaves_that_call_in_progress() -> None:
    window = HistoryStore.open(history_path(False))  # this test process plays the window
    window.start(typed="+14255550100", sent="tel:+14255550100", call_id=None, started_at="x")
    before = window.path.read_bytes()
    try:
        assert [e["outcome"] for e in history()] == ["in progress"]
        assert window.path.read_bytes() == before  # the listing wrote nothing
        assert [e.outcome for e in window.entries()] == ["in progress"]
    finally:
        window.close()
