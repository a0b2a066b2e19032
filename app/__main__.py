"""`python -m app` runs the `ucwa-phone` command."""

from __future__ import annotations

import sys

from app.main import run

sys.exit(run())
