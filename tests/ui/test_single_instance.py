"""One copy per user: links reach the running copy, stale sockets are taken over, and another
user's socket or process is never trusted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.runtime_dir import runtime_directory
from app.ui import single_instance
from app.ui.single_instance import HandOver, SingleInstance, hand_over, peer_uid

ROOT = Path(__file__).resolve().parents[2]


def _someone_else(_socket: socket.socket) -> int:
    return os.getuid() + 1


_LATER_LAUNCH = """
import os, sys
from PySide6.QtCore import QCoreApplication
from app.ui.single_instance import hand_over, peer_uid
app = QCoreApplication([])
seen = []
def peer(sock):
    uid = peer_uid(sock)
    seen.append(uid)
    return uid + 1 if sys.argv[3] == "foreign" else uid
print(hand_over(sys.argv[1], sys.argv[2], 1000, peer=peer).value, seen == [os.getuid()])
"""


def _later_launch(qtbot: QtBot, name: str, link: str, peer: str = "real") -> tuple[str, str]:
    """A second process runs hand_over (it blocks); this one's event loop lets the copy answer."""
    child = subprocess.Popen(
        [sys.executable, "-c", _LATER_LAUNCH, name, link, peer],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=20_000)
    out, _ = child.communicate()
    outcome, checked = out.split()
    return outcome, checked


@pytest.fixture
def name(tmp_path: Path) -> Iterator[str]:
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    yield str(directory / "s")


def _listening(name: str, links: list[str], **kwargs: object) -> SingleInstance:
    instance = SingleInstance(name, **kwargs)  # type: ignore[arg-type]
    assert instance.listen()
    instance.set_handler(links.append)
    return instance


def test_a_later_launch_hands_its_link_to_the_running_copy(qtbot: QtBot, name: str) -> None:
    links: list[str] = []
    instance = _listening(name, links)
    try:
        assert _later_launch(qtbot, name, "tel:+14255550100") == ("delivered", "True")
        assert links == ["tel:+14255550100"]
    finally:
        instance.close()


def test_the_peer_is_identified_as_this_user(qtbot: QtBot, name: str) -> None:
    seen: list[int | None] = []

    def record(sock: socket.socket) -> int | None:
        uid = peer_uid(sock)
        seen.append(uid)
        return uid

    links: list[str] = []
    instance = _listening(name, links, peer=record)
    try:
        assert _later_launch(qtbot, name, "tel:+1") == ("delivered", "True")  # client's check
        assert seen == [os.getuid()]  # the server's check
    finally:
        instance.close()


def test_a_stale_socket_is_taken_over(qtbot: QtBot, name: str) -> None:
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(name)  # a crashed copy's socket file: nobody listens on it
    leftover.close()
    assert Path(name).exists()
    assert hand_over(name, "tel:+1", timeout_ms=500) is HandOver.NOBODY
    links: list[str] = []
    instance = _listening(name, links)
    try:
        assert _later_launch(qtbot, name, "tel:+2") == ("delivered", "True")
        assert links == ["tel:+2"]
    finally:
        instance.close()


def test_a_socket_held_by_another_user_gets_no_link(qtbot: QtBot, name: str) -> None:
    links: list[str] = []
    instance = _listening(name, links)
    try:
        assert _later_launch(qtbot, name, "tel:+1", "foreign") == ("foreign", "True")
        qtbot.wait(100)
        assert links == []
    finally:
        instance.close()


def test_links_from_another_user_are_refused(qtbot: QtBot, name: str) -> None:
    links: list[str] = []
    instance = _listening(name, links, peer=_someone_else)
    try:
        assert _later_launch(qtbot, name, "tel:+1") == ("nobody", "True")
        qtbot.wait(100)
        assert links == []
    finally:
        instance.close()


def _connect(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(5)
    sock.connect(name)
    sock.setblocking(False)
    return sock


def _closed(sock: socket.socket, got: list[bytes] | None = None) -> bool:
    """Whether the copy has closed this connection (what it said before is added to ``got``)."""
    try:
        chunk = sock.recv(64)
    except BlockingIOError:
        return False
    except OSError:  # reset: it closed with our bytes unread
        return True
    if got is not None:
        got.append(chunk)
    return chunk == b""


def test_the_socket_file_is_private_to_the_user(name: str) -> None:
    instance = _listening(name, [])
    try:
        assert (os.stat(name).st_mode & 0o777) == 0o600
    finally:
        instance.close()
    assert not Path(name).exists()  # a later launch starts without a stale file to take over


def test_a_connection_that_sends_nothing_is_dropped_and_the_next_launch_gets_through(
    qtbot: QtBot, name: str
) -> None:
    links: list[str] = []
    instance = _listening(name, links, send_within_ms=1000)
    silent = _connect(name)
    try:
        qtbot.wait(200)
        assert not _closed(silent)  # its time is not up yet
        qtbot.waitUntil(lambda: _closed(silent), timeout=5000)
        assert _later_launch(qtbot, name, "tel:+1") == ("delivered", "True")
        assert links == ["tel:+1"]
    finally:
        silent.close()
        instance.close()


def test_more_silent_connections_than_the_cap_do_not_keep_a_later_launch_out(
    qtbot: QtBot, name: str
) -> None:
    links: list[str] = []
    instance = _listening(name, links, send_within_ms=60_000)  # none of them times out here
    silent = [_connect(name) for _ in range(12)]
    try:
        qtbot.wait(200)
        assert _later_launch(qtbot, name, "tel:+1") == ("delivered", "True")
        assert links == ["tel:+1"]
        # At most 8 wait at once, the oldest were dropped to make room (the launch took one).
        assert [_closed(s) for s in silent] == [True] * 5 + [False] * 7
    finally:
        for s in silent:
            s.close()
        instance.close()


def test_a_line_longer_than_4096_bytes_is_dropped_without_being_delivered(
    qtbot: QtBot, name: str
) -> None:
    links: list[str] = []
    instance = _listening(name, links)
    longest, too_long = _connect(name), _connect(name)
    try:
        got: list[bytes] = []
        longest.sendall(b"x" * 4096 + b"\n")
        qtbot.waitUntil(lambda: _closed(longest, got), timeout=5000)
        assert b"".join(got) == b"ok\n" and links == ["x" * 4096]

        got.clear()
        too_long.sendall(b"y" * 4097 + b"\n")
        qtbot.waitUntil(lambda: _closed(too_long, got), timeout=5000)
        qtbot.wait(100)
        assert b"".join(got) == b"" and links == ["x" * 4096]
    finally:
        longest.close()
        too_long.close()
        instance.close()


def test_the_runtime_dir_is_used_only_when_private_to_the_user(tmp_path: Path) -> None:
    runtime = tmp_path / "xdg-run"
    runtime.mkdir(mode=0o700)
    fallback = tmp_path / "cache" / "run"
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    assert runtime_directory(env, fallback, os.getuid()) == runtime
    assert not fallback.exists()

    assert runtime_directory(env, fallback, os.getuid() + 1) is None  # neither is theirs
    runtime.chmod(0o755)
    assert runtime_directory(env, fallback, os.getuid()) == fallback  # others may enter
    assert (fallback.stat().st_mode & 0o777) == 0o700
    assert runtime_directory({}, fallback, os.getuid()) == fallback


def test_a_fallback_dir_others_can_enter_is_not_used(tmp_path: Path) -> None:
    fallback = tmp_path / "run"
    fallback.mkdir(mode=0o755)
    fallback.chmod(0o755)
    assert runtime_directory({}, fallback, os.getuid()) is None


def test_the_window_reports_another_users_socket_and_keeps_away_from_it(
    qtbot: QtBot,
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app import gui

    name = gui.instance_name()
    assert name is not None and name.startswith(os.environ["XDG_RUNTIME_DIR"])
    links: list[str] = []
    theirs = _listening(name, links)
    real = single_instance.hand_over
    monkeypatch.setattr(
        single_instance, "hand_over", lambda n, link: real(n, link, peer=_someone_else)
    )
    instance = gui._single_instance(qapp, "tel:+14255550100")
    try:
        assert instance is not None  # this copy runs on, without the socket
        message = f"Another user's UCWA Phone socket is in the way at {name}; not using it."
        assert instance.problem == message
        assert message in capsys.readouterr().err
        qtbot.wait(100)
        assert links == []
    finally:
        if instance is not None:
            qapp.removeEventFilter(instance)
        theirs.close()
