"""The layering rules of docs/architecture.md, checked on the real import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"


def _imports(package: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (APP / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((str(path.relative_to(APP)), alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(APP)), node.module))
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        (where, name)
        for where, name in _imports(package)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


@pytest.mark.parametrize("package", ["ucwa", "auth", "simulator"])
def test_core_packages_import_no_qt(package: str) -> None:
    assert _offenders(package, ("PySide6", "qasync", "app.ui", "app.viewmodel")) == []


def test_simulator_never_imports_the_client() -> None:
    composition = ("app.commands", "app.main", "app.gui", "app.wiring", "app.demo_server")
    assert _offenders("simulator", ("app.ucwa", "app.auth", *composition)) == []


def test_client_does_not_import_auth() -> None:
    assert _offenders("ucwa", ("app.auth", "app.simulator", "app.commands")) == []


def test_auth_does_not_import_the_client_or_simulator() -> None:
    assert _offenders("auth", ("app.ucwa", "app.simulator", "app.commands")) == []


def test_ui_sees_view_models_only() -> None:
    assert (
        _offenders("ui", ("app.ucwa", "app.auth", "app.simulator", "app.commands", "qasync")) == []
    )


def test_view_models_use_qtcore_only() -> None:
    bad = _offenders("viewmodel", ("PySide6.QtWidgets", "PySide6.QtGui", "qasync", "app.ui"))
    assert bad == []


def test_only_the_gui_module_knows_qasync() -> None:
    users = {
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "qasync" in {name.split(".")[0] for _, name in _imports_of(path)}
    }
    assert users <= {"gui.py"}


def _imports_of(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((str(path), a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add((str(path), node.module))
    return names


def test_core_packages_load_without_qt_at_runtime() -> None:
    code = (
        "import sys, pkgutil, importlib, app.ucwa, app.auth, app.simulator\n"
        "for pkg in (app.ucwa, app.auth, app.simulator):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'PySide6', 'qasync'}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=APP.parent)
