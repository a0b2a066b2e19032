"""The layering rules of docs/architecture.md, checked on the real import graph and file tree."""

from __future__ import annotations

import ast
import re
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


@pytest.mark.parametrize("package", ["ucwa", "auth", "simulator", "history"])
def test_core_packages_import_no_qt(package: str) -> None:
    assert _offenders(package, ("PySide6", "qasync", "app.ui", "app.viewmodel")) == []


@pytest.mark.parametrize("package", ["ucwa", "auth", "simulator", "ui"])
def test_call_history_is_used_only_by_view_models_commands_and_composition(package: str) -> None:
    assert _offenders(package, ("app.history",)) == []


def test_call_history_sits_above_the_client_and_below_everything_else() -> None:
    composition = ("app.commands", "app.main", "app.gui", "app.wiring", "app.demo_server")
    assert _offenders("history", ("app.auth", "app.simulator", *composition)) == []


def test_simulator_never_imports_the_client() -> None:
    composition = ("app.commands", "app.main", "app.gui", "app.wiring", "app.demo_server")
    assert _offenders("simulator", ("app.ucwa", "app.auth", *composition)) == []


def test_diagnostics_is_a_qt_free_composition_like_the_commands() -> None:
    # Used by `ucwa-phone doctor` and (through a view-model) the window: no Qt, no UI, and it is
    # not the place to start a simulator or run a command.
    forbidden = ("PySide6", "qasync", "app.ui", "app.viewmodel", "app.simulator", "app.commands")
    assert _offenders("diagnostics", forbidden) == []


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
        "import sys, pkgutil, importlib, app.ucwa, app.auth, app.simulator, app.history\n"
        "for pkg in (app.ucwa, app.auth, app.simulator, app.history):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'PySide6', 'qasync'}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=APP.parent)


# -- the repository stands on its own: nothing reads or names a path outside it ----------------

ROOT = APP.parent
# What a clone contains and runs: the product, its tests and benchmarks, docs and build files.
SELF_CONTAINED = ("app", "tests", "bench", "docs", "packaging")
SELF_CONTAINED_FILES = ("Makefile", "README.md", "pyproject.toml", ".ci/run")
# Names of material that lived beside the repository while it was written (written so that this
# file does not match itself).
OUTSIDE_NAMES = re.compile(
    r"\bshared/(?:ucwa|design|seed|samples)"
    r"|[\"']share[d][\"']\s*/"  # a path built from a "share" "d" segment
    r"|/wor[k]/"
    r"|\bspec\.md\b"
    r"|\bARCHITECTURE\.md\b"
    r"|\baesthetic[s]\.md\b"
    r"|platform-note[s]"
)
# A relative path made of `..` components, e.g. `../x`, `"../.."`, `$(dirname "$0")/..`.
THIS_FILE = Path(__file__).resolve().relative_to(ROOT)
DOTDOT = re.compile(r"""(?:(?<=[/"'\s(=])|^)((?:\.\./)*\.\.)(?=[/"'\s)]|$)""", re.MULTILINE)


def _tracked_files() -> list[Path]:
    """The files git tracks in the checked areas (the working tree when there is no git)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", *SELF_CONTAINED, *SELF_CONTAINED_FILES],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [
            str(p.relative_to(ROOT))
            for area in SELF_CONTAINED
            for p in (ROOT / area).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ] + [n for n in SELF_CONTAINED_FILES if (ROOT / n).is_file()]
    assert names, "no files found to check"
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def _file_ups(node: ast.AST) -> int | None:
    """How many directories above the file's own folder `node` points (Path(__file__) chains).

    -1 is the file itself, 0 its folder; None when `node` is not derived from `__file__`.
    """
    if isinstance(node, ast.Name):
        return -1 if node.id == "__file__" else None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"resolve", "absolute"}:
            return _file_ups(func.value)
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in {"Path", "PurePath", "abspath", "realpath"} and node.args:
            return _file_ups(node.args[0])
        if name == "dirname" and node.args:
            base = _file_ups(node.args[0])
            return None if base is None else base + 1
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        base = _file_ups(node.value)
        return None if base is None else base + 1
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        base = _file_ups(node.value.value)
        return None if base is None else base + 1 + node.slice.value
    return None


def _escapes(rel: Path, text: str) -> list[str]:
    """Every way `text` (the content of the file at `rel`) reaches outside the repository."""
    depth = len(rel.parts) - 1  # folders between the repository root and the file
    found: list[str] = []
    if rel != THIS_FILE:  # this file spells the forbidden forms out as test examples
        found += [m.group(0) for m in OUTSIDE_NAMES.finditer(text)]
        found += [
            m.group(1) for m in DOTDOT.finditer(text) if m.group(1).count("..") > depth
        ]  # relative to the file's folder; from the root (cwd) it would be stricter still
    if rel.suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            ups = _file_ups(node)
            if ups is not None and ups > depth:
                found.append(f"{ast.unparse(node)} (line {getattr(node, 'lineno', '?')})")
    return found


def test_nothing_reads_or_names_a_path_outside_the_repository() -> None:
    offenders: dict[str, list[str]] = {}
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # icons, screenshots
        rel = path.relative_to(ROOT)
        if found := _escapes(rel, text):
            offenders[str(rel)] = found
    assert offenders == {}


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        # The folder's name is assembled so that this file does not name it itself.
        (
            "tests/unit/ucwa/x.py",
            'S = Path(__file__).resolve().parents[3].parent / "' + "shar" + 'ed"\n',
        ),
        ("tests/integration/x.py", "S = Path(__file__).parents[2].parent / 'x'\n"),
        ("app/x.py", "S = Path(__file__).parent.parent.parent\n"),
        ("tests/x.py", 'S = os.path.join(ROOT, "../../data")\n'),
        ("Makefile", "test:\n\tls ../elsewhere\n"),
        ("docs/x.md", "see [the notes](../../notes.md)\n"),
        ("README.md", "The samples in shared/ucwa/samples.\n"),
    ],
)
def test_the_outside_path_check_catches(rel: str, text: str) -> None:
    assert _escapes(Path(rel), text)


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("tests/unit/ucwa/x.py", "ROOT = Path(__file__).resolve().parents[3]\n"),
        (".ci/run", 'cd "$(dirname "$0")/.."\n'),
        ("docs/x.md", "see [the tests](../tests/data/ucwa/README.md), numbers 180..1800 ...\n"),
    ],
)
def test_the_outside_path_check_allows_paths_inside(rel: str, text: str) -> None:
    assert _escapes(Path(rel), text) == []


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
