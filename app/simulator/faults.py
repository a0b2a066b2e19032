"""Fault injection: a thread-safe Python API (also driven by the /_sim/ HTTP endpoints)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import app.simulator.hostile as hostile


class _Host(Protocol):
    """The parts of the Simulator the fault API acts on; each is safe to call from any thread."""

    def _drop_event_channels(self) -> bool: ...
    def _expire_tokens(self) -> None: ...
    def _expire_applications(self, subcode: str) -> None: ...
    def _force_resync(self) -> None: ...
    def _force_resume(self) -> None: ...
    def _wake_polls_at(self, when: float) -> None: ...
    def _ring_incoming(self, caller: str, user: str | None) -> int: ...


# The GET errors the phoneAudio_ref page lists: name -> (status, code, subcode or None).
PHONE_AUDIO_GET_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "InvalidExchangeServerVersion": (500, "ServiceFailure", "InvalidExchangeServerVersion"),
    "AlreadyExists": (409, "Conflict", "AlreadyExists"),
    "TooManyGroups": (409, "Conflict", "TooManyGroups"),
    "Unsupported": (409, "Conflict", None),  # "Un-supported Service/Resource/API error."
    "CannotRedirect": (410, "Gone", "CannotRedirect"),
}


@dataclass
class ForcedStatus:
    path_contains: str  # lower case
    status: int
    remaining: int
    method: str | None
    retry_after: float | None
    code: str | None
    subcode: str | None


@dataclass
class HostileBody:
    path_contains: str  # lower case
    kind: str  # one of hostile.HOSTILE_KINDS
    remaining: int
    method: str | None
    status: int
    drip_ms: float


@dataclass
class NetworkFault:
    """A request that meets the network instead of an answer: a reset, or a stall (a timeout)."""

    path_contains: str  # lower case
    kind: str  # "reset" | "stall"
    remaining: int
    method: str | None
    seconds: float = 0.0


class Faults:
    """Faults for tests and demos. Every method may be called from any thread."""

    def __init__(self, host: _Host) -> None:
        self._host = host
        self._lock = threading.Lock()
        self._rules: list[ForcedStatus] = []
        self._hostile: list[HostileBody] = []
        self._network: list[NetworkFault] = []
        self._stall_until = 0.0
        self._latency = 0.0
        self._drop_next = False
        self._phone_audio_errors: list[tuple[int, str, str | None]] = []

    # --- the public API ----------------------------------------------------------------------

    def force_status(
        self,
        path_contains: str,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        subcode: str | None = None,
    ) -> None:
        """Answer the next *count* requests whose path contains *path_contains* with *status*.

        401 answers with the auth challenge; others with a UCWA error body (code from the
        status unless given) and `Retry-After` when *retry_after* is set.
        """
        if not 400 <= int(status) <= 599:
            raise ValueError("status must be 4xx or 5xx")
        if count < 1:
            raise ValueError("count must be >= 1")
        rule = ForcedStatus(
            path_contains.lower(),
            int(status),
            int(count),
            method.upper() if method else None,
            retry_after,
            code,
            subcode,
        )
        with self._lock:
            self._rules.append(rule)

    def hostile_body(
        self,
        path_contains: str,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        status: int = 200,
        drip_ms: float = 20.0,
    ) -> None:
        """Answer the next *count* requests whose path contains *path_contains* with a hostile
        body of *kind* (hostile.HOSTILE_KINDS: deep, huge, gzip_bomb, invalid_utf8, wrong_type,
        html, drip — the last sends one byte every *drip_ms*) and *status*."""
        if kind not in hostile.HOSTILE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(hostile.HOSTILE_KINDS)}")
        if not 200 <= int(status) <= 599:
            raise ValueError("status must be between 200 and 599")
        if count < 1:
            raise ValueError("count must be >= 1")
        if not 1.0 <= float(drip_ms) <= 1000.0:
            raise ValueError("drip_ms must be between 1 and 1000")
        rule = HostileBody(
            path_contains.lower(),
            kind,
            int(count),
            method.upper() if method else None,
            int(status),
            float(drip_ms),
        )
        with self._lock:
            self._hostile.append(rule)

    def reset_connection(
        self, path_contains: str, *, count: int = 1, method: str | None = None
    ) -> None:
        """The next *count* matching requests get their connection closed mid-answer (the
        client sees a reset: a status line and then nothing)."""
        self._add_network(NetworkFault(path_contains.lower(), "reset", count, _method(method)))

    def stall_requests(
        self, path_contains: str, seconds: float, *, count: int = 1, method: str | None = None
    ) -> None:
        """The next *count* matching requests are held *seconds* before they are handled (a
        client with a shorter timeout sees a timeout)."""
        fault = NetworkFault(
            path_contains.lower(), "stall", count, _method(method), max(0.0, float(seconds))
        )
        self._add_network(fault)

    def _add_network(self, fault: NetworkFault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._network.append(fault)

    def stall_events(self, seconds: float) -> None:
        """For *seconds* from now, parked P-GETs deliver nothing (empty releases at timeout)."""
        until = time.monotonic() + max(0.0, float(seconds))
        with self._lock:
            self._stall_until = until
        self._host._wake_polls_at(until)

    def drop_event_channel(self) -> None:
        """Parked P-GETs (or, if none is parked, the next one) get 503; no events are lost."""
        dropped = self._host._drop_event_channels()
        if not dropped:
            with self._lock:
                self._drop_next = True

    def expire_tokens(self) -> None:
        """Every issued token is invalid from now on (-> 401 + challenge)."""
        self._host._expire_tokens()

    def expire_applications(self, *, inactive: bool = False) -> None:
        """Delete every application now: 404 ApplicationNotFound (410 InactiveApplicationExpired
        with *inactive*) for any later request to it, parked P-GETs included."""
        self._host._expire_applications(
            "InactiveApplicationExpired" if inactive else "ApplicationNotFound"
        )

    def add_latency(self, seconds: float) -> None:
        """Delay every later request by *seconds* (0 removes the delay)."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def force_resync(self) -> None:
        """The next (or parked) P-GET of every application answers with a `resync` body."""
        self._host._force_resync()

    def force_resume(self) -> None:
        """Forced state reset: calls vanish silently; the next P-GET answers with `resume`."""
        self._host._force_resume()

    def fail_phone_audio_get(self, error: str, *, count: int = 1) -> None:
        """The next *count* GETs of a live phoneAudio answer one of the page's errors:
        a name of PHONE_AUDIO_GET_ERRORS (a GET of an unknown one is a 404 anyway)."""
        found = PHONE_AUDIO_GET_ERRORS.get(error)
        if found is None:
            raise ValueError(f"error must be one of {', '.join(PHONE_AUDIO_GET_ERRORS)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._phone_audio_errors.extend([found] * int(count))

    def ring_incoming(self, caller: str = "sip:bob@contoso.com", user: str | None = None) -> int:
        """A colleague calls: every live application (of *user*, else of anyone) that made
        itself available for PhoneAudio gets an incoming phoneAudioInvitation, which rings for
        SimConfig.incoming_ring_s and then ends unanswered. Returns how many were rung."""
        if not caller.lower().startswith(("sip:", "tel:")):
            raise ValueError("caller must be a sip: or tel: URI")
        return self._host._ring_incoming(caller, user)

    def clear(self) -> None:
        """Remove forced statuses, hostile bodies, phoneAudio errors, stalls, latency and a
        pending drop."""
        with self._lock:
            self._phone_audio_errors.clear()
            self._rules.clear()
            self._hostile.clear()
            self._network.clear()
            self._stall_until = 0.0
            self._latency = 0.0
            self._drop_next = False
        self._host._wake_polls_at(0.0)

    # --- used by the server ------------------------------------------------------------------

    def take_forced(self, method: str, path: str, query: str) -> ForcedStatus | None:
        target = (path + ("?" + query if query else "")).lower()
        with self._lock:
            for rule in self._rules:
                if rule.method not in (None, method.upper()):
                    continue
                if rule.path_contains in target:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def take_hostile(self, method: str, path: str, query: str) -> HostileBody | None:
        target = (path + ("?" + query if query else "")).lower()
        with self._lock:
            for rule in self._hostile:
                if rule.method not in (None, method.upper()):
                    continue
                if rule.path_contains in target:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._hostile.remove(rule)
                    return rule
        return None

    def take_network_fault(self, method: str, path: str, query: str) -> NetworkFault | None:
        target = (path + ("?" + query if query else "")).lower()
        with self._lock:
            for fault in self._network:
                if fault.method not in (None, method.upper()) or fault.path_contains not in target:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._network.remove(fault)
                return fault
        return None

    def take_phone_audio_error(self) -> tuple[int, str, str | None] | None:
        with self._lock:
            return self._phone_audio_errors.pop(0) if self._phone_audio_errors else None

    def stall_until(self) -> float:
        with self._lock:
            return self._stall_until

    def latency(self) -> float:
        with self._lock:
            return self._latency

    def take_drop(self) -> bool:
        with self._lock:
            drop, self._drop_next = self._drop_next, False
            return drop

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "rules": [vars(r).copy() for r in self._rules],
                "hostile": [vars(r).copy() for r in self._hostile],
                "network": [vars(f).copy() for f in self._network],
                "stall_remaining_s": max(0.0, self._stall_until - time.monotonic()),
                "latency_s": self._latency,
                "drop_next": self._drop_next,
                "phone_audio_errors": len(self._phone_audio_errors),
            }


def _method(method: str | None) -> str | None:
    return method.upper() if method else None
