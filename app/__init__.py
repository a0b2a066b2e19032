"""UCWA Phone: call-via-work control for Skype for Business Server."""

import sys

__version__ = "0.1.0"

# httpx's package init tries to import its own command-line client, which loads click and pygments
# and only then needs rich, which is not installed: the import fails, and httpx falls back to a
# stub. uvicorn (the demo server) brings click and the test tools bring pygments, so every process
# paid about 3 MB and 30 ms for it. We never run that client: declaring the module absent (None in
# sys.modules) makes httpx take the same fallback at once.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
