"""Keeps PySide6's per-import ``__feature__`` scan from holding every module's source in memory."""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable
from types import ModuleType

import PySide6.QtCore  # noqa: F401  (importing PySide6 installs the import hook patched here)

# Once PySide6 is imported, shiboken's import hook asks, for every module imported afterwards,
# whether its source mentions "PySide6" (so that ``from __feature__ import snake_case`` can be
# switched per module). It reads that source with inspect.getsource, which leaves the whole file
# in ``linecache`` for the rest of the run: about 15 MB for the ~400 modules the window loads,
# kept only because of that check. See Qt for Python's "Why do we have a __feature__?" page.
_FEATURE_MODULE = "shibokensupport.feature"
_CHECK = "_mod_uses_pyside"


def release_scanned_sources() -> bool:
    """Let the scan keep its answers but not the sources it read; True when it was applied.

    Wraps the scan (same answer for every module) and drops the ``linecache`` entries it added.
    A PySide6 without that scan is left alone (False). Applying it twice changes nothing.
    """
    feature = sys.modules.get(_FEATURE_MODULE)
    check = getattr(feature, _CHECK, None)
    if feature is None or not callable(check):
        return False
    if getattr(check, "releases_sources", False):
        return True
    setattr(feature, _CHECK, _releasing(check))
    # What it read before now (the app's own start-up modules) goes too.
    linecache.clearcache()
    return True


def _releasing(check: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    def uses_pyside(module: ModuleType) -> bool:
        before = set(linecache.cache)
        try:
            return check(module)
        finally:
            for name in [n for n in linecache.cache if n not in before]:
                linecache.cache.pop(name, None)

    uses_pyside.releases_sources = True  # type: ignore[attr-defined]
    uses_pyside.__wrapped__ = check  # type: ignore[attr-defined]
    return uses_pyside
