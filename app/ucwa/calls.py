"""What a call looks like to everyone above the protocol: states, actions, snapshots.

The table-driven state machine that produces these snapshots from wire events lives in this module
too (added below the public types).
"""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.ucwa.events import Event, EventType
from app.ucwa.numbers import display
from app.ucwa.reasons import GENERIC_CALL_FAILURE, CallReason, is_cancel, reason_message

__all__ = [
    "TRANSITIONS",
    "CallAction",
    "CallSnapshot",
    "CallState",
    "CallTracker",
]


class CallState(enum.Enum):
    """Where a call-via-work call is, in words a user understands. Values are the CLI's names."""

    IDLE = "idle"
    CALLING_YOU = "calling_you"  # the server rings the user's own phone
    CONNECTING = "connecting"  # the user answered; the far end is being called / rings
    RINGING_THEM = "ringing_them"  # the user's phone is connected; the far end has not answered
    CONNECTED = "connected"  # the far end answered (the invitation completed with Success)
    ON_HOLD = "on_hold"
    ENDING = "ending"
    ENDED = "ended"  # ended normally (either side hung up)
    FAILED = "failed"  # never connected, or dropped by an error

    @property
    def is_final(self) -> bool:
        return self in (CallState.ENDED, CallState.FAILED)


class CallAction(enum.Enum):
    """Things the user may do now; present only when the server offered the matching link."""

    HOLD = "hold"  # phoneAudio._links.holdPhoneAudio
    RESUME = "resume"  # phoneAudio._links.resumePhoneAudio
    HANG_UP = "hang_up"  # phoneAudio._links.stopPhoneAudio while connected
    CANCEL = "cancel"  # invitation cancel / stopPhoneAudio while connecting


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    """One immutable picture of the current call, emitted on every change."""

    state: CallState
    number: str = ""  # the dialled number, E.164
    reason: CallReason | None = None
    actions: frozenset[CallAction] = field(default_factory=frozenset)
    answered_by: str | None = None  # who actually answered (forwarding), display form
    connected_at: float | None = None  # time.monotonic() when first connected
    call_id: str | None = None  # the operationId of this call


# ---------------------------------------------------------------------------------------------
# The call state machine
#
# Theory of operation
# -------------------
# Everything that decides what a call-via-work call looks like lives below; nothing here does IO
# or reads a clock except the injected ``now``. Like h11's _state.py, the machine has three parts:
#
# 1. *Observation.* ``apply(event)`` looks at one wire event that ``wants()`` accepted and turns it
#    into facts (the latest invitation / phoneAudio links, which conversation is ours, a reason)
#    and into zero or more abstract ``_Signal``s: "the far end rings", "media connected",
#    "the phoneAudio went away", "the invitation failed", ... The wire is messy (events may be
#    merged, skipped or regrouped: docs/protocol.md §7.4; states are loosely documented and
#    unknown ones occur: docs/protocol.md §12), so observation is tolerant: an unknown state
#    string yields no signal, and the links are re-read on every phoneAudio update because
#    *links, not states,* say what the user may do.
#
# 2. *Transition.* Each signal is looked up in ``TRANSITIONS[phase][signal]``. A missing entry
#    means "this signal does not matter in this phase" and is ignored, which is what makes the
#    machine robust against late, duplicated or out-of-order events. The table is the single
#    source of truth for where a call can go; tests drive it with events only.
#
# 3. *Projection.* The private ``_Phase`` is finer than the public ``CallState``: it remembers
#    *why* we are ending (user hung up, user cancelled, or the server tore the media down and we
#    wait for the invitation to say why) because that decides ENDED vs FAILED and the reason.
#    ``snapshot`` projects phase + links into the immutable CallSnapshot the UI renders.
#
# Decisions (docs/protocol.md §10, §12):
# * CALLING_YOU until the invitation reaches Alerting / Forwarded / TeamRing (the server now
#   rings the far end), then CONNECTING.
# * The order of phoneAudio Connected and the invitation's Success is not fixed
#   (docs/protocol.md §10). phoneAudio Connected only says the user's own phone is connected
#   (RINGING_THEM: the far end may still ring); CONNECTED only once the invitation completed with
#   Success (or was updated to Connected), and the call's timer starts then.
# * Held iff the phoneAudio offers ``resumePhoneAudio``; the state string is not trusted for hold.
# * A connected call ends at the first of phoneAudio Disconnected, conversation Disconnected or
#   deleted, or the remote participant deleted (scenario B) → ENDED.
# * A call that never connected fails at invitation completed (failure), conversation
#   Disconnected / deleted. A phoneAudio Disconnected *before* connecting only starts tearing
#   down (shown as ENDING): in scenarios C–F the server sends it *before* the invitation's
#   completion that carries the reason, and an aggregating server may even put it before the
#   Success. Waiting for the invitation gives the user the right reason on the first final
#   snapshot.
# * A cancelled invitation (subcode Canceled/Cancelled, any case) or local_ending() before
#   connecting ends as ENDED with a "cancelled" reason, never FAILED.
# * Our invitation is recognised by operationId (events may precede the 201) or by its href; our
#   conversation and phoneAudio by the invitation's links. Conversation / phoneAudio events that
#   arrive before any invitation event names them are held back and replayed in order once it does.
# * Actions come only from links: HOLD iff holdPhoneAudio, RESUME iff resumePhoneAudio,
#   HANG_UP iff stopPhoneAudio while connected, CANCEL iff the invitation's cancel link or
#   stopPhoneAudio while connecting. ENDING and final states offer nothing.
# * A local ending is a promise, not a fact: when the stop / cancel request provably did nothing
#   (refused with 401 after a fresh token, refused outright, or the server still shows the call
#   up), end_refused() steps back. The table sends HANGING_UP back to RINGING_THEM and
#   CANCELLING back to CALLING_YOU, then the progress already seen (far end ringing, phone leg
#   up, answered) is replayed through the table and hold is re-read from the links, so the call
#   is shown where it really is, with hang-up / cancel offered again and the refusal as reason.
# ---------------------------------------------------------------------------------------------

log = logging.getLogger(__name__)


class _Phase(enum.Enum):
    CALLING_YOU = "calling_you"
    CONNECTING = "connecting"
    RINGING_THEM = "ringing_them"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    HANGING_UP = "hanging_up"  # the user ended a connected call; waiting for the server
    CANCELLING = "cancelling"  # the user cancelled before the call connected
    TEARING_DOWN = "tearing_down"  # media went away before connecting; waiting for the reason
    ENDED = "ended"
    FAILED = "failed"


class _Signal(enum.Enum):
    FAR_END_RINGING = enum.auto()  # invitation Alerting / Forwarded / TeamRing
    MEDIA_CONNECTED = enum.auto()  # phoneAudio Connected: the user's own phone leg is up
    CONNECTED = enum.auto()  # invitation Connected / completed Success: the far end answered
    HELD = enum.auto()  # phoneAudio offers resumePhoneAudio
    RESUMED = enum.auto()  # phoneAudio no longer offers resumePhoneAudio
    MEDIA_ENDED = enum.auto()  # phoneAudio Disconnected
    CONVERSATION_ENDED = enum.auto()  # conversation Disconnected or deleted
    PEER_LEFT = enum.auto()  # the remote participant was deleted
    INVITATION_FAILED = enum.auto()  # completed without Success, or a terminal failure state
    INVITATION_CANCELLED = enum.auto()  # as above with subcode Canceled / state Cancelled
    LOCAL_END = enum.auto()  # local_ending(): the user pressed hang up / cancel
    ERROR = enum.auto()  # fail(): synchronous error or lost session
    RESET = enum.auto()  # reset(): the server flushed the call state (`resume`)
    END_REFUSED = enum.auto()  # end_refused(): the stop / cancel provably did not happen


# Progress a call keeps once seen; replayed after a refused ending to find where it really is.
_PROGRESS = (_Signal.FAR_END_RINGING, _Signal.MEDIA_CONNECTED, _Signal.CONNECTED)


_S = _Signal
_P = _Phase

_SETUP: dict[_Signal, _Phase] = {
    _S.CONNECTED: _P.CONNECTED,
    _S.MEDIA_CONNECTED: _P.RINGING_THEM,
    _S.MEDIA_ENDED: _P.TEARING_DOWN,
    _S.CONVERSATION_ENDED: _P.FAILED,
    _S.INVITATION_FAILED: _P.FAILED,
    _S.INVITATION_CANCELLED: _P.ENDED,
    _S.LOCAL_END: _P.CANCELLING,
    _S.ERROR: _P.FAILED,
    _S.RESET: _P.FAILED,
}
_UP: dict[_Signal, _Phase] = {
    _S.MEDIA_ENDED: _P.ENDED,
    _S.CONVERSATION_ENDED: _P.ENDED,
    _S.PEER_LEFT: _P.ENDED,
    _S.LOCAL_END: _P.HANGING_UP,
    _S.ERROR: _P.FAILED,
    _S.RESET: _P.FAILED,
}
_LOCAL_ENDING: dict[_Signal, _Phase] = {
    _S.MEDIA_ENDED: _P.ENDED,
    _S.CONVERSATION_ENDED: _P.ENDED,
    _S.PEER_LEFT: _P.ENDED,
    _S.INVITATION_FAILED: _P.ENDED,
    _S.INVITATION_CANCELLED: _P.ENDED,
    _S.ERROR: _P.FAILED,
    _S.RESET: _P.ENDED,
}

# phase -> signal -> next phase. Anything not listed leaves the phase unchanged.
TRANSITIONS: dict[_Phase, dict[_Signal, _Phase]] = {
    _P.CALLING_YOU: {**_SETUP, _S.FAR_END_RINGING: _P.CONNECTING},
    _P.CONNECTING: dict(_SETUP),
    _P.RINGING_THEM: dict(_SETUP),
    _P.CONNECTED: {**_UP, _S.HELD: _P.ON_HOLD},
    _P.ON_HOLD: {**_UP, _S.RESUMED: _P.CONNECTED},
    # A refused stop: at least the user's phone leg is up (HANGING_UP is only reached from a
    # connected call or a cancel crossing the answer); the replayed progress lifts it further.
    _P.HANGING_UP: {**_LOCAL_ENDING, _S.END_REFUSED: _P.RINGING_THEM},
    # The far end answered just as the user cancelled: still ending, now as a hang-up.
    _P.CANCELLING: {
        **_LOCAL_ENDING,
        _S.CONNECTED: _P.HANGING_UP,
        _S.MEDIA_CONNECTED: _P.HANGING_UP,
        _S.END_REFUSED: _P.CALLING_YOU,
    },
    _P.TEARING_DOWN: {
        _S.CONNECTED: _P.ENDED,  # merged events: it did connect, and is already over
        _S.CONVERSATION_ENDED: _P.FAILED,
        _S.INVITATION_FAILED: _P.FAILED,
        _S.INVITATION_CANCELLED: _P.ENDED,
        _S.ERROR: _P.FAILED,
        _S.RESET: _P.FAILED,
    },
    _P.ENDED: {},
    _P.FAILED: {},
}

_PUBLIC: dict[_Phase, CallState] = {
    _P.CALLING_YOU: CallState.CALLING_YOU,
    _P.CONNECTING: CallState.CONNECTING,
    _P.RINGING_THEM: CallState.RINGING_THEM,
    _P.CONNECTED: CallState.CONNECTED,
    _P.ON_HOLD: CallState.ON_HOLD,
    _P.HANGING_UP: CallState.ENDING,
    _P.CANCELLING: CallState.ENDING,
    _P.TEARING_DOWN: CallState.ENDING,
    _P.ENDED: CallState.ENDED,
    _P.FAILED: CallState.FAILED,
}

_SETUP_PHASES = frozenset({_P.CALLING_YOU, _P.CONNECTING, _P.RINGING_THEM})
_UP_PHASES = frozenset({_P.CONNECTED, _P.ON_HOLD})
_FINAL_PHASES = frozenset({_P.ENDED, _P.FAILED})
_LOCAL_ENDING_PHASES = frozenset({_P.HANGING_UP, _P.CANCELLING})

INVITATION = "phoneaudioinvitation"
CONVERSATION = "conversation"
PHONE_AUDIO = "phoneaudio"
PARTICIPANT = "participant"

_FAR_END_STATES = frozenset({"alerting", "forwarded", "teamring"})
_FAILED_STATES = frozenset({"failed", "declined"})
_CANCELLED_STATES = frozenset({"cancelled", "canceled"})

# Events about a conversation we cannot yet tell is ours (the invitation naming it may come later
# when the server merges events, docs/protocol.md §7.4) are kept this long, then replayed or
# dropped.
_PENDING_LIMIT = 64

LOCAL_HANG_UP = CallReason(code=None, subcode=None, message="You hung up.")
CANCELLED = CallReason(code="LocalFailure", subcode="Canceled", message="The call was cancelled.")
REMOTE_HANG_UP = CallReason(
    code="Informational", subcode="CallTerminated", message=reason_message(None, "CallTerminated")
)
ENDED_NORMALLY = CallReason(code=None, subcode=None, message="The call ended.")
GENERIC_FAILURE = CallReason(code=None, subcode=None, message=GENERIC_CALL_FAILURE)


def _fold(value: object) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


def _digits(uri: str) -> str:
    user = uri.split(":", 1)[-1].split("@", 1)[0].split(";", 1)[0]
    return "".join(ch for ch in user if ch.isdigit())


class CallTracker:
    """Follows one outgoing call-via-work call through the event stream; pure and synchronous.

    The session feeds it every event ``wants()`` accepts (after GETting a body when
    ``needs_body()`` says so) and publishes each snapshot ``apply()`` returns.
    """

    def __init__(
        self, number: str, operation_id: str, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._number = number
        self._operation_id = operation_id
        self._now = now
        self._phase = _P.CALLING_YOU
        self._invitation_hrefs: set[str] = set()
        self._conversation: str | None = None
        self._phone_audio: str | None = None
        self._cancel: str | None = None  # invitation cancel link
        self._hold: str | None = None
        self._resume: str | None = None
        self._stop: str | None = None
        self._hint: CallReason | None = None  # the latest failure reason seen on the way
        self._reason: CallReason | None = None
        self._answered_by: str | None = None
        self._connected_at: float | None = None
        self._pending: deque[Event] = deque(maxlen=_PENDING_LIMIT)
        self._progress: set[_Signal] = set()  # which of _PROGRESS were seen
        self._snapshot = self._project()

    # -- public API -------------------------------------------------------------------------

    @property
    def snapshot(self) -> CallSnapshot:
        return self._snapshot

    @property
    def phase(self) -> str:
        """The internal phase name (finer than CallState); for logs and tests."""
        return self._phase.value

    @property
    def ending_locally(self) -> bool:
        """The user hung up / cancelled and the server has not confirmed the ending yet."""
        return self._phase in _LOCAL_ENDING_PHASES

    @property
    def phone_audio_href(self) -> str | None:
        """This call's phoneAudio, once an invitation or conversation named it."""
        return self._phone_audio

    @property
    def conversation_href(self) -> str | None:
        return self._conversation

    def wants(self, event: Event) -> bool:
        """Is ``event`` about this call (its invitation, conversation, phoneAudio or peer)?"""
        if self._phase in _FINAL_PHASES:
            return False
        rel = event.link.rel.casefold()
        if rel == INVITATION:
            return self._owns_invitation(event) is not False
        if rel in (CONVERSATION, PHONE_AUDIO) or (
            rel == PARTICIPANT and event.type is EventType.DELETED
        ):
            if self._conversation is None:
                return True  # maybe ours: kept until the invitation names the conversation
            return self._in_conversation(event)
        return False

    def needs_body(self, event: Event) -> bool:
        """True when ``apply`` needs the resource and the event came without it."""
        if event.resource is not None or event.type is EventType.DELETED:
            return False
        if not self.wants(event):
            return False
        rel = event.link.rel.casefold()
        if rel == INVITATION:
            return True
        if self._conversation is None:
            return False  # speculative: not worth a request until we know it is ours
        if rel == PHONE_AUDIO:
            return True
        return rel == CONVERSATION and event.type is EventType.UPDATED

    def bind_invitation(self, href: str) -> None:
        """Remember the invitation's href from the 201 ``Location`` (events may have come first)."""
        self._invitation_hrefs.add(href)

    def apply(self, event: Event) -> CallSnapshot | None:
        """Process one event; return the new snapshot if anything the user sees changed."""
        if not self.wants(event):
            return None
        self._observe(event)
        return self._publish()

    def action_href(self, action: CallAction) -> str | None:
        """The href to POST for ``action``, or None when the server does not offer it now."""
        if action not in self._snapshot.actions:
            return None
        if action is CallAction.HOLD:
            return self._hold
        if action is CallAction.RESUME:
            return self._resume
        if action is CallAction.HANG_UP:
            return self._stop
        return self._cancel or self._stop

    def stop_after_cancel(self) -> str | None:
        """The stopPhoneAudio href when a cancel crossed the far end's answer.

        CANCELLING + CONNECTED moves to HANGING_UP, which offers no action (the user already
        chose to end the call); the session must still POST stop, or the call stays up.
        """
        return self._stop if self._phase is _P.HANGING_UP else None

    def local_ending(self) -> CallSnapshot:
        """The user pressed hang up / cancel: ENDING until the server confirms."""
        self._fire(_S.LOCAL_END, None)
        self._publish()
        return self._snapshot

    def end_refused(self, reason: CallReason) -> CallSnapshot:
        """The hang-up / cancel provably did not happen: back to where the call really is.

        ``reason`` says why (shown while the call goes on); a no-op unless ending locally.
        """
        if self._phase not in _LOCAL_ENDING_PHASES:
            return self._snapshot
        self._fire(_S.END_REFUSED, None)
        for signal in _PROGRESS:
            if signal in self._progress:
                self._fire(signal, None)
        self._fire(_S.HELD if self._resume else _S.RESUMED, None)
        if _S.CONNECTED not in self._progress:
            self._connected_at = None  # set by a cancel crossing the phone leg, not an answer
        self._reason = reason
        self._publish()
        return self._snapshot

    def fail(self, reason: CallReason) -> CallSnapshot:
        """A synchronous error or a lost session ended the call (no-op once final)."""
        self._fire(_S.ERROR, reason)
        self._publish()
        return self._snapshot

    def reset(self, reason: CallReason) -> CallSnapshot:
        """The server flushed all call state (``resume``): the call is gone."""
        self._fire(_S.RESET, reason)
        self._publish()
        return self._snapshot

    # -- observation ------------------------------------------------------------------------

    def _owns_invitation(self, event: Event) -> bool | None:
        """True: ours; False: someone else's; None: cannot tell without the body."""
        if event.link.href in self._invitation_hrefs:
            return True
        resource = event.resource
        if resource is None:
            # Before the 201 (or with a server that names no operationId) only the body can tell.
            return None if not self._invitation_hrefs else False
        if resource.href in self._invitation_hrefs:
            return True
        return resource.text("operationId") == self._operation_id

    def _in_conversation(self, event: Event) -> bool:
        rel = event.link.rel.casefold()
        if rel == CONVERSATION:
            return event.link.href == self._conversation
        if rel == PHONE_AUDIO and event.link.href == self._phone_audio:
            return True
        return event.sender_href == self._conversation

    def _observe(self, event: Event) -> None:
        rel = event.link.rel.casefold()
        if rel == INVITATION:
            self._on_invitation(event)
        elif self._conversation is None:
            self._pending.append(event)
        elif rel == CONVERSATION:
            self._on_conversation(event)
        elif rel == PHONE_AUDIO:
            self._on_phone_audio(event)
        else:
            self._on_participant(event)

    def _on_invitation(self, event: Event) -> None:
        if self._owns_invitation(event) is not True:
            return  # a body-less event we could not fetch, or another invitation
        self._invitation_hrefs.add(event.link.href)
        resource = event.resource
        state = _fold(resource.prop("state")) if resource is not None else ""
        if resource is not None:
            self._learn_conversation(resource.link("conversation"), resource.link("phoneAudio"))
            if event.type is not EventType.COMPLETED:
                self._cancel = resource.link("cancel")
        reason = event.reason
        self._remember(reason)
        if event.type is EventType.COMPLETED:
            self._cancel = None  # the operation is over; its cancel link is stale
            if _fold(event.status) == "success" or state == "connected":
                self._note_answered_by(event)
                self._fire(_S.CONNECTED, None)  # a leftover "Forwarded" reason is no outcome
            elif (reason and is_cancel(reason.subcode)) or state in _CANCELLED_STATES:
                self._fire(_S.INVITATION_CANCELLED, reason)
            else:
                self._fire(_S.INVITATION_FAILED, reason)
        elif state in _FAR_END_STATES:
            self._fire(_S.FAR_END_RINGING, None)
        elif state == "connected":
            self._note_answered_by(event)
            self._fire(_S.CONNECTED, None)
        elif state in _FAILED_STATES:
            self._fire(_S.INVITATION_FAILED, reason)
        elif state in _CANCELLED_STATES:
            self._fire(_S.INVITATION_CANCELLED, reason)

    def _remember(self, reason: CallReason | None) -> None:
        # Keep what may explain a later ending; informational notes (Forwarded, ...) explain
        # nothing, except that the other side hung up.
        if reason is None:
            return
        if _fold(reason.code) != "informational" or _fold(reason.subcode) == "callterminated":
            self._hint = reason

    def _learn_conversation(self, conversation: str | None, phone_audio: str | None) -> None:
        if phone_audio:
            self._phone_audio = phone_audio
        if conversation and conversation != self._conversation:
            self._conversation = conversation
            pending, self._pending = list(self._pending), deque(maxlen=_PENDING_LIMIT)
            # Replay in stream order what arrived before we knew; drop other conversations'.
            for earlier in pending:
                if self._phase not in _FINAL_PHASES and self._in_conversation(earlier):
                    self._observe(earlier)

    def _on_conversation(self, event: Event) -> None:
        if event.type is EventType.DELETED:
            self._fire(_S.CONVERSATION_ENDED, event.reason)
            return
        resource = event.resource
        if resource is None:
            return
        if resource.link("phoneAudio"):
            self._phone_audio = resource.link("phoneAudio")
        if _fold(resource.prop("state")) == "disconnected":
            self._fire(_S.CONVERSATION_ENDED, event.reason)

    def _on_phone_audio(self, event: Event) -> None:
        resource = event.resource
        if resource is None:
            return  # nothing to read; the session could not fetch it
        self._phone_audio = event.link.href
        # The link set is the whole truth about what may be done now (docs/protocol.md §6.4).
        self._hold = resource.link("holdPhoneAudio")
        self._resume = resource.link("resumePhoneAudio")
        self._stop = resource.link("stopPhoneAudio")
        state = _fold(resource.prop("state"))
        if state == "disconnected":
            self._remember(event.reason)
            self._fire(_S.MEDIA_ENDED, event.reason)
            return
        if state == "connected":
            self._fire(_S.MEDIA_CONNECTED, None)
        elif state not in ("connecting", "disconnecting", "transferring"):
            log.debug("phoneAudio state %r not understood; going by its links", state)
        self._fire(_S.HELD if self._resume else _S.RESUMED, None)

    def _on_participant(self, event: Event) -> None:
        if event.link.rel.casefold() == PARTICIPANT and event.type is EventType.DELETED:
            self._fire(_S.PEER_LEFT, event.reason)

    def _note_answered_by(self, event: Event) -> None:
        resource = event.resource
        if resource is None:
            return
        accepted = resource.first("acceptedByParticipant")
        uri = accepted.text("uri") if accepted is not None else None
        name = accepted.text("name") if accepted is not None else None
        if accepted is None:
            name = resource.link_title("acceptedByParticipant")
        if uri and (
            _fold(uri) == _fold(self._number)  # a sip: address dialled
            or (_digits(uri) and _digits(uri) == _digits(self._number))
        ):
            return  # the person dialled answered: nothing to point out
        if not uri and not name:
            return
        shown = display(uri.split(":", 1)[-1].split(";", 1)[0]) if uri else None
        self._answered_by = (
            f"{name} ({shown})" if name and shown and name != shown else name or shown
        )

    # -- transition -------------------------------------------------------------------------

    def _fire(self, signal: _Signal, reason: CallReason | None) -> None:
        if signal in _PROGRESS:
            self._progress.add(signal)
        old = self._phase
        new = TRANSITIONS[old].get(signal)
        if new is None or new is old:
            return
        log.debug("call %s: %s --%s--> %s", self._operation_id, old.value, signal.name, new.value)
        self._phase = new
        if new not in _FINAL_PHASES:
            self._reason = None  # a note about a refused ending holds until the call moves on
        if new in _UP_PHASES and self._connected_at is None:
            self._connected_at = self._now()
        if new is _P.HANGING_UP and self._connected_at is None:
            self._connected_at = self._now()  # it did connect, just as it was being cancelled
        if new in _FINAL_PHASES:
            self._cancel = self._hold = self._resume = self._stop = None
            self._pending.clear()
            self._reason = self._final_reason(old, new, signal, reason)
            if new is _P.ENDED and signal is _S.CONNECTED and self._connected_at is None:
                self._connected_at = self._now()

    def _final_reason(
        self, old: _Phase, new: _Phase, signal: _Signal, reason: CallReason | None
    ) -> CallReason:
        if signal in (_S.ERROR, _S.RESET) and new is _P.FAILED:
            return reason or GENERIC_FAILURE
        if old is _P.HANGING_UP:
            return LOCAL_HANG_UP
        if old is _P.CANCELLING or signal is _S.INVITATION_CANCELLED:
            return reason if reason is not None and is_cancel(reason.subcode) else CANCELLED
        if new is _P.ENDED:
            if reason is not None:
                return reason
            return REMOTE_HANG_UP if signal is _S.PEER_LEFT else self._hint or ENDED_NORMALLY
        return reason or self._hint or GENERIC_FAILURE

    # -- projection -------------------------------------------------------------------------

    def _actions(self) -> frozenset[CallAction]:
        actions: set[CallAction] = set()
        if self._phase in _UP_PHASES:
            if self._hold:
                actions.add(CallAction.HOLD)
            if self._resume:
                actions.add(CallAction.RESUME)
            if self._stop:
                actions.add(CallAction.HANG_UP)
        elif self._phase in _SETUP_PHASES and (self._cancel or self._stop):
            actions.add(CallAction.CANCEL)
        return frozenset(actions)

    def _project(self) -> CallSnapshot:
        return CallSnapshot(
            state=_PUBLIC[self._phase],
            number=self._number,
            reason=self._reason,
            actions=self._actions(),
            answered_by=self._answered_by,
            connected_at=self._connected_at,
            call_id=self._operation_id,
        )

    def _publish(self) -> CallSnapshot | None:
        snapshot = self._project()
        if snapshot == self._snapshot:
            return None
        self._snapshot = snapshot
        return snapshot
