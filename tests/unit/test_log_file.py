"""The rotating log file: private, redacted like the console, bounded in size."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import logs


@pytest.fixture
def configured() -> Iterator[Path]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    logs.configure(1)  # INFO
    yield logs.log_file_path()
    for handler in root.handlers:
        if handler not in saved_handlers:
            handler.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_log_file_is_under_the_user_log_directory_and_private(configured: Path) -> None:
    logging.getLogger("app.test").warning("hello from the test")
    assert configured.read_text(encoding="utf-8").count("hello from the test") == 1
    assert stat.S_IMODE(configured.stat().st_mode) == 0o600
    assert stat.S_IMODE(configured.parent.stat().st_mode) == 0o700
    assert "ucwa-phone" in str(configured)


def test_a_secret_logged_after_registration_never_reaches_the_file(configured: Path) -> None:
    secret = "s3cret-Pa55word/with+chars"
    logs.register_secret(secret)
    log = logging.getLogger("app.test")
    log.warning("password is %s", secret)
    log.info("Authorization: Bearer abc.def.ghi")
    try:
        raise ValueError(f"failed with {secret}")
    except ValueError:
        log.exception("oops")
    text = configured.read_text(encoding="utf-8")
    assert "password is ***" in text
    assert "oops" in text and "ValueError" in text
    assert secret not in text
    assert "abc.def.ghi" not in text


def test_rotation_keeps_the_log_bounded(monkeypatch: pytest.MonkeyPatch, configured: Path) -> None:
    monkeypatch.setattr(logs, "LOG_FILE_BYTES", 4000)
    logs.configure(0)  # again, with the small limit
    log = logging.getLogger("app.test")
    for i in range(2000):
        log.warning("line %05d %s", i, "x" * 60)
    files = sorted(configured.parent.glob("ucwa-phone.log*"))
    assert len(files) == 1 + logs.LOG_FILE_BACKUPS
    assert all(f.stat().st_size <= 4000 + 200 for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert "line 01999" in configured.read_text(encoding="utf-8")


def test_an_unwritable_log_directory_does_not_stop_logging(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(logs, "log_file_path", lambda: blocker / "ucwa-phone.log")
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        logs.configure(0)
        logging.getLogger("app.test").warning("still shown")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    err = capsys.readouterr().err
    assert "no log file" in err and "still shown" in err
