"""Benchmarks: each bench/bench_<area>.py exposes run(quick) -> [(metric, value, target)]."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType

Row = tuple[str, str, str]
Runner = Callable[[bool], list[Row]]


def discover() -> Iterator[tuple[str, Runner]]:
    """Yields (area, run) for every bench module in this package, sorted by name."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        module: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
        run = getattr(module, "run", None)
        if callable(run):
            yield info.name.removeprefix("bench_"), run


def render(rows: list[tuple[str, str, str, str]]) -> str:
    """A plain-text table: area | metric | value | target."""
    header = ("area", "metric", "value", "target")
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
