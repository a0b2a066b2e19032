"""The event channel (docs/protocol.md §7): long-poll, ack/next, redelivery, resync, resume, 409.

Bookkeeping: packages are numbered by `ack`. A P-GET for `ack=N` where N is the next package
to build waits for events (acknowledging package N-1); a P-GET for the package that was last
delivered re-delivers it unchanged; any other ack gets a resync body pointing at the first
unacknowledged package. Only the loop that serves HTTP touches a channel; other threads ask
the simulator to run their changes there.

Priorities (docs/protocol.md §7.4): High events release a parked P-GET at once; Medium/Low events
wait up to `medium`/`low` seconds for company; every release sends everything queued, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.simulator.errors import SimError

Doc = dict[str, Any]

HIGH, MEDIUM, LOW = 0, 1, 2

_ACK = re.compile(r"-?[0-9]{1,18}")

# (default, min, max) per docs/protocol.md §7.2; out-of-range values are clamped.
_RANGES: dict[str, tuple[float, float, float]] = {
    "timeout": (180.0, 180.0, 1800.0),
    "medium": (5.0, 5.0, 1800.0),
    "low": (15.0, 5.0, 1800.0),
    "priority": (0.0, 0.0, 1_000_000.0),
}


@dataclass
class QueuedEvent:
    sender_rel: str
    sender_href: str
    event: Doc
    priority: int
    queued_at: float


@dataclass
class PollParams:
    timeout: float = 180.0
    medium: float = 5.0
    low: float = 15.0
    priority: float = 0.0


@dataclass
class ParkedPoll:
    priority: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    replaced: bool = False
    dropped: bool = False


def parse_number(name: str, raw: str) -> float:
    """A query value as a float clamped to its documented range; junk -> 400."""
    _default, low, high = _RANGES[name]
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        value = math.nan
    if math.isnan(value):
        raise SimError(
            400,
            "ParameterValidationFailure",
            f"'{name}' must be a number",
            parameters={name: "must be a number"},
        )
    return min(max(value, low), high)


def parse_ack(raw: str | None) -> int | None:
    if raw is None:
        return None
    raw = raw.strip()
    if not _ACK.fullmatch(raw):
        raise SimError(
            400, "ParameterValidationFailure", "'ack' must be an integer", parameters={"ack": raw}
        )
    return int(raw)


class EventChannel:
    """One application's event queue and P-GET state."""

    def __init__(
        self,
        events_path: str,
        *,
        max_poll_s: float | None,
        merge: bool = False,
        hold_s: float | None = None,
    ) -> None:
        self.events_path = events_path
        self.max_poll_s = max_poll_s
        self.merge = merge
        # Realistic holding (SimConfig.medium_hold_s, already divided by speed): Medium/Low
        # events wait this long even past a poll's timeout, and merge per resource.
        self.hold_s = hold_s
        self.queue: list[QueuedEvent] = []
        self.next_ack = 1
        self.delivered: tuple[int, Doc] | None = None
        self.parked: ParkedPoll | None = None
        self.params = PollParams()
        self.ever_parked = False
        self.last_release = time.monotonic()
        self.resync_pending = False
        self.resume_pending = False
        self.closed_with: SimError | None = None

    # --- producers (server loop only) ------------------------------------------------------

    def emit(self, sender_rel: str, sender_href: str, event: Doc, priority: int = HIGH) -> None:
        self.queue.append(QueuedEvent(sender_rel, sender_href, event, priority, time.monotonic()))
        self.wake()

    def wake(self) -> None:
        if self.parked is not None:
            self.parked.wake.set()

    def reset(self) -> None:
        """State reset (`resume`, docs/protocol.md §7.6): queued events and parameters go."""
        self.queue.clear()
        self.delivered = None
        self.params = PollParams()
        self.resume_pending = True
        self.wake()

    def close(self, error: SimError) -> None:
        """The application is gone: parked and later polls get *error*."""
        self.closed_with = error
        self.queue.clear()
        self.wake()

    def reachable(self, grace_s: float) -> bool:
        """Could an event reach the client now? A P-GET is parked, or the last one was released
        at most *grace_s* ago: a live client re-issues it at once, a dead one never does."""
        if self.parked is not None:
            return True
        return self.ever_parked and time.monotonic() - self.last_release <= grace_s

    @property
    def idle_since(self) -> float | None:
        """When the last P-GET was released, or None while one is parked."""
        return None if self.parked is not None else self.last_release

    # --- the P-GET ---------------------------------------------------------------------------

    def _href(self, ack: int) -> dict[str, str]:
        return {"href": f"{self.events_path}?ack={ack}"}

    def _resync_doc(self) -> Doc:
        first = self.delivered[0] if self.delivered else self.next_ack
        return {"_links": {"resync": self._href(first)}}

    def _resume_doc(self) -> Doc:
        """The first package after a state reset; stored like any package, so a lost
        answer is re-delivered when the same ack is asked for again."""
        self.resume_pending = False
        ack = self.next_ack
        doc: Doc = {"_links": {"self": self._href(ack), "resume": self._href(ack + 1)}}
        self.delivered = (ack, doc)
        self.next_ack = ack + 1
        return doc

    def _package(self, ack: int, events: list[QueuedEvent]) -> Doc:
        if self.merge:
            events = merged(events)
        elif self.hold_s is not None:
            events = merged(events, held_only=True)
        senders: list[Doc] = []
        for qe in events:
            last = senders[-1] if senders else None
            if last is not None and last["rel"] == qe.sender_rel and last["href"] == qe.sender_href:
                last["events"].append(qe.event)
            else:
                senders.append({"rel": qe.sender_rel, "href": qe.sender_href, "events": [qe.event]})
        doc: Doc = {"_links": {"self": self._href(ack), "next": self._href(ack + 1)}}
        if senders:
            doc["sender"] = senders
        return doc

    def _release(self, ack: int, *, deliver: bool) -> Doc:
        events, self.queue = (self.queue, []) if deliver else ([], self.queue)
        doc = self._package(ack, events)
        self.delivered = (ack, doc)
        self.next_ack = ack + 1
        return doc

    def update_params(self, query: Mapping[str, str]) -> None:
        for name in ("timeout", "medium", "low", "priority"):
            if name in query:
                setattr(self.params, name, parse_number(name, query[name]))

    async def poll(
        self,
        query: Mapping[str, str],
        *,
        stall_until: Callable[[], float],
        take_drop: Callable[[], bool],
        shutting_down: Callable[[], bool],
    ) -> Doc:
        """Answer one P-GET: a body to send with 200, or raise SimError."""
        ack = parse_ack(query.get("ack"))
        self.update_params(query)
        if self.closed_with is not None:
            raise self.closed_with
        if take_drop():
            raise SimError(503, message="The event channel was dropped (simulated).")
        if self.resume_pending:
            return self._resume_doc()
        if self.resync_pending:
            self.resync_pending = False
            return self._resync_doc()
        if self.delivered is not None and ack == self.delivered[0]:
            return self.delivered[1]  # the client lost our answer: same package again
        if ack != self.next_ack:
            return self._resync_doc()
        self.delivered = None  # asking for N acknowledges N-1
        return await self._park(ack, stall_until, take_drop, shutting_down)

    async def _park(
        self,
        ack: int,
        stall_until: Callable[[], float],
        take_drop: Callable[[], bool],
        shutting_down: Callable[[], bool],
    ) -> Doc:
        me = ParkedPoll(priority=self.params.priority)
        previous = self.parked
        if previous is not None:
            if me.priority < previous.priority:
                # A lower priority never replaces a higher one (docs/protocol.md §7.2): the
                # newcomer loses.
                raise SimError(409, "PGetReplaced")
            previous.replaced = True
            previous.wake.set()
        self.parked = me
        self.ever_parked = True
        hold = self.params.timeout
        if self.max_poll_s is not None:
            hold = min(hold, self.max_poll_s)
        deadline = time.monotonic() + hold
        try:
            while True:
                me.wake.clear()
                now = time.monotonic()
                if me.replaced:
                    raise SimError(409, "PGetReplaced")
                if self.closed_with is not None:
                    raise self.closed_with
                if shutting_down():
                    raise SimError(503, message="The server is shutting down.")
                if me.dropped or take_drop():
                    raise SimError(503, message="The event channel was dropped (simulated).")
                if self.resume_pending:
                    return self._resume_doc()
                if self.resync_pending:
                    self.resync_pending = False
                    return self._resync_doc()
                stalled_until = stall_until()
                wait_until = deadline
                if now >= deadline:
                    return self._release(ack, deliver=stalled_until <= now and self._due(now))
                if stalled_until > now:
                    wait_until = min(deadline, stalled_until)
                else:
                    release_at = self._release_time()
                    if release_at is not None and release_at <= now:
                        return self._release(ack, deliver=True)
                    if release_at is not None:
                        wait_until = min(deadline, release_at)
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the wake-up fires, and a cancelled poll must stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, wait_until - now)):
                        await me.wake.wait()
        finally:
            if self.parked is me:
                self.parked = None
                self.last_release = time.monotonic()

    def _due(self, now: float) -> bool:
        """May a timed-out poll take the queue? Always, unless events are held realistically
        and none of them has waited long enough (they go out with a later poll)."""
        if self.hold_s is None:
            return True
        release_at = self._release_time()
        return release_at is None or release_at <= now

    def _release_time(self) -> float | None:
        """When the queued events should go out (High: now), or None if nothing is queued."""
        best: float | None = None
        for qe in self.queue:
            if qe.priority == HIGH:
                return qe.queued_at
            if self.hold_s is not None:
                hold = self.hold_s
            else:
                hold = self.params.medium if qe.priority == MEDIUM else self.params.low
            at = qe.queued_at + hold
            best = at if best is None else min(best, at)
        return best


def merged(events: list[QueuedEvent], *, held_only: bool = False) -> list[QueuedEvent]:
    """Keep only the latest state per resource: successive `started`/`updated`/`completed`
    events about one href collapse into one, at the first one's position, carrying the last
    one's content (`started`+`updated` stays `started`). added/deleted are never merged, nor
    (with *held_only*) High events."""
    out: list[QueuedEvent] = []
    slot: dict[str, int] = {}
    for qe in events:
        kind = qe.event.get("type")
        href = str(qe.event.get("link", {}).get("href", ""))
        if held_only and qe.priority == HIGH:
            out.append(qe)
            continue
        if kind not in ("started", "updated", "completed"):
            slot.pop(href, None)
            out.append(qe)
            continue
        if href in slot:
            earlier = out[slot[href]]
            event = dict(qe.event)
            if earlier.event.get("type") == "started" and kind == "updated":
                event["type"] = "started"
            out[slot[href]] = QueuedEvent(
                qe.sender_rel, qe.sender_href, event, qe.priority, earlier.queued_at
            )
        else:
            slot[href] = len(out)
            out.append(qe)
    return out
