"""The pool of redirect mode 'host': the same server under another host name (another origin)."""

from __future__ import annotations

from urllib.parse import urlsplit


def pool_origin(origin: str, pool_host: str) -> str | None:
    """*origin* with its host name replaced by *pool_host* (scheme and port kept), or None when
    *origin* already is the pool, which then serves the user resource itself."""
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    wanted = pool_host.strip().lower().strip("[]")
    if not wanted or host == wanted:
        return None
    name = f"[{wanted}]" if ":" in wanted else wanted
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{name}{port}"
