"""Where the vendor example payloads live in the repository, and how tests read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# tests/helpers/samples.py -> tests/data/ucwa; found from this file, never from the cwd.
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "ucwa"


def load_sample(name: str) -> Any:
    """The decoded JSON of one sample; `name` with or without the `.json` suffix."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return json.loads((SAMPLES_DIR / filename).read_text(encoding="utf-8"))
