"""The leak scan's search: a secret in plain, escaped, encoded or line-split form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

# A line break, with whatever a wrapped or logged continuation line starts with.
_LINE_BREAK = re.compile(r"\\?\r?\n[ \t]*")


def leak_forms(secret: str) -> set[str]:
    """How a secret shows up when printed raw, in JSON, through repr() or in a URL."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
    }


def find_leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """The forms of ``secrets`` found in ``text``, also when a line break splits one."""
    joined = _LINE_BREAK.sub("", text)
    found: list[str] = []
    for secret in secrets:
        for form in sorted(leak_forms(secret)):
            if form and (form in text or form in joined):
                found.append(form)
    return found
