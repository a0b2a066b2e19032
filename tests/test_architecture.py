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
    assert _offenders("simulator", ("app.ucwa", "app.auth", "app.commands", "app.main")) == []


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


def test_only_main_knows_qasync() -> None:
    users = {
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "qasync" in {name.split(".")[0] for _, name in _imports_of(path)}
    }
    assert users <= {"main.py"}


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


# -- No import cycles in app/ ---------------------------------------------------------------------
# Every import counts, module-level or deferred into a function (deferring one only hides a
# cycle); imports under ``if TYPE_CHECKING:`` never run and are left out. ``from pkg import name``
# depends on ``pkg`` itself (its ``__init__`` runs and is asked for ``name``) and, when ``name``
# is a submodule, on that too.


def _module_names(root: Path) -> dict[str, bool]:
    """Dotted name → is-a-package, for every module under ``root`` (a top-level package)."""
    found: dict[str, bool] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = package
    return found


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Which modules of the package at ``root`` each of its modules imports."""
    modules = _module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, package in modules.items():
        path = root.parent.joinpath(*name.split("."), *(["__init__"] if package else []))
        tree = ast.parse(path.with_suffix(".py").read_text(encoding="utf-8"))
        for node in _runtime_imports(tree):
            targets: set[str] = set()
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            else:
                source = node.module or ""
                if node.level:
                    anchor = name.split(".") if package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    source = ".".join([*anchor, *([source] if source else [])])
                targets.add(source)
                targets.update(f"{source}.{alias.name}" for alias in node.names)
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first module repeated at the end) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for group in groups:
        start = min(group)
        paths = {start: [start]}  # breadth-first back to ``start`` inside the group: shortest
        queue = [start]
        while queue:
            node = queue.pop(0)
            nxt_all = sorted(graph[node] & group)
            if start in nxt_all:
                cycles.append([*paths[node], start])
                break
            for nxt in nxt_all:
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    queue.append(nxt)
    return sorted(cycles)


def test_the_cycle_finder_sees_deferred_and_package_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import B\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.a import A\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.user import X\n")
    (pkg / "sub" / "user.py").write_text("from pkg.sub import helper\n")
    (pkg / "sub" / "helper.py").write_text("from . import user\n")
    assert import_cycles(import_graph(pkg)) == [
        ["pkg.a", "pkg.b", "pkg.a"],
        [
            "pkg.sub",
            "pkg.sub.user",
            "pkg.sub",
        ],
    ]


def test_app_has_no_import_cycles() -> None:
    cycles = [" -> ".join(cycle) for cycle in import_cycles(import_graph(APP))]
    assert cycles == [], "import cycles in app/:\n" + "\n".join(cycles)
