"""Settings and caches land on disk atomically, through unique temp files, private to the user."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from app import settings as settings_mod
from app.files import write_private_atomically
from app.ucwa.discovery import FileDiscoveryCache


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_file_is_readable_by_the_user_only_even_with_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "new" / "file.json"
        write_private_atomically(target, "{}")
    finally:
        os.umask(old)
    assert target.read_text() == "{}"
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700


def test_file_is_never_world_readable_while_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_private_atomically(tmp_path / "a.json", "secret-free but private")
    assert seen == [0o600]


def test_temp_names_are_unique_so_concurrent_writers_never_clobber_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state" / "cache.json"
    names: list[str] = []
    real = tempfile.mkstemp

    def record(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, name = real(*args, **kwargs)  # type: ignore[call-overload]
        names.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", record)
    payloads = [("x" * 200_000 + str(i)) for i in range(8)]
    threads = [
        threading.Thread(target=write_private_atomically, args=(target, p)) for p in payloads
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == len(payloads)
    assert target.read_text() in payloads  # one whole write, never a mix
    assert [p.name for p in target.parent.iterdir()] == ["cache.json"]


def test_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cfg" / "settings.json"
    write_private_atomically(target, "old")

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_private_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["settings.json"]


def test_settings_file_is_private(tmp_path: Path) -> None:
    settings_mod.save(settings_mod.Settings(address="a@example.com"), tmp_path / "cfg")
    path = tmp_path / "cfg" / "settings.json"
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert settings_mod.load(tmp_path / "cfg").address == "a@example.com"
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


def test_discovery_cache_is_private_and_leaves_no_temp_file(tmp_path: Path) -> None:
    cache = FileDiscoveryCache(tmp_path / "state" / "discovery.json")
    cache.store("user@example.com", "https://pool.example.com/ucwa/oauth/v1/applications")
    assert _mode(cache.path) == 0o600
    assert _mode(cache.path.parent) == 0o700
    assert [p.name for p in cache.path.parent.iterdir()] == ["discovery.json"]
    assert cache.load("user@example.com") is not None
