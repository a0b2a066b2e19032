"""Which host names mean this machine: the one rule the client and sign-in share (no Qt)."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """This machine (demo servers, the simulator): trusted, and plain HTTP is fine there."""
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
