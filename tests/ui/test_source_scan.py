"""PySide6's per-import scan answers as before but no longer keeps every module's source."""

from __future__ import annotations

import linecache
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ui.source_scan import release_scanned_sources

_FEATURE = "shibokensupport.feature"


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / f"{name}.py"
    path.write_text(text + "\n" + "# filler line\n" * 2000, encoding="utf-8")
    return str(path)


def test_modules_imported_after_qt_keep_their_answer_but_not_their_source(
    module_dir: Path,
) -> None:
    assert release_scanned_sources()
    qt_user = _write(module_dir, "scan_qt_user", "from PySide6 import QtCore")
    plain = _write(module_dir, "scan_plain", "VALUE = 1")

    # A plain ``import`` statement: PySide6 hooks builtins.__import__, not importlib.
    __import__("scan_qt_user")
    __import__("scan_plain")

    assert qt_user not in linecache.cache and plain not in linecache.cache
    answers = sys.modules[_FEATURE].pyside_feature_dict
    assert answers["scan_qt_user"] == 0  # may switch features
    assert answers["scan_plain"] == -1  # ignored by feature switching


def test_the_unwrapped_scan_would_keep_the_whole_source(module_dir: Path) -> None:
    # Why the wrapper exists: should PySide6 stop caching sources, this fails and it can go.
    release_scanned_sources()
    path = _write(module_dir, "scan_probe", "X = 'PySide6'")
    module = __import__("scan_probe")
    original = sys.modules[_FEATURE]._mod_uses_pyside.__wrapped__
    linecache.cache.pop(path, None)
    try:
        assert original(module) is True
        assert len(linecache.cache[path][2]) > 2000
    finally:
        linecache.cache.pop(path, None)


def test_applying_it_twice_wraps_once() -> None:
    release_scanned_sources()
    wrapped = sys.modules[_FEATURE]._mod_uses_pyside
    assert release_scanned_sources()
    assert sys.modules[_FEATURE]._mod_uses_pyside is wrapped


def test_a_pyside_without_the_scan_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, _FEATURE, types.ModuleType(_FEATURE))
    assert release_scanned_sources() is False
