"""The scripted far end: what each dialled number does, as event sequences (docs/protocol.md §10).

Timings are base seconds at speed 1 and are divided by SimConfig.speed. Every call is one
asyncio task on the server loop, cancelled when the user ends the call or the app goes away.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import app.simulator.documents as d
from app.simulator.config import SimConfig
from app.simulator.events import HIGH
from app.simulator.state import Application, Conversation, Invitation, Participant, new_id

log = logging.getLogger(__name__)

CALLBACK_RING_S = 1.5  # the user's own phone rings this long before they "answer"
FAR_RING_S = 1.5  # the far end rings this long (invitation Alerting)
NO_ANSWER_RING_S = 4.0
CALLBACK_GIVE_UP_S = 4.0  # the user's own phone is not answered
FAIL_FAST_S = 0.5  # unreachable / unknown numbers fail without ringing
REMOTE_HANGUP_S = 5.0


@dataclass(frozen=True)
class Scenario:
    name: str
    callback_answered: bool = True
    far_ring_s: float = FAR_RING_S  # 0: never reaches Alerting
    answered: bool = True
    state: str = "Failed"  # terminal invitation state when not answered
    code: str | None = None
    subcode: str | None = None
    forwarded_to: tuple[str, str] | None = None  # (uri, display name)
    hangup_after_s: float | None = None


ANSWERED = Scenario("answered, stays up until hung up")

SCENARIOS: dict[str, Scenario] = {
    "+14255550100": ANSWERED,
    "+14255550101": Scenario("busy", answered=False, code="RemoteFailure", subcode="Busy"),
    "+14255550102": Scenario(
        "declined", answered=False, state="Declined", code="RemoteFailure", subcode="Declined"
    ),
    "+14255550103": Scenario(
        "no answer",
        far_ring_s=NO_ANSWER_RING_S,
        answered=False,
        code="RemoteFailure",
        subcode="Missed",
    ),
    "+14255550104": Scenario(
        "your callback phone not answered",
        callback_answered=False,
        far_ring_s=0,
        answered=False,
        code="RemoteFailure",
        subcode="PstnCallFailed",
    ),
    "+14255550105": Scenario("forwarded", forwarded_to=("tel:+14255550199", "Front desk")),
    "+14255550106": Scenario("far end hangs up", hangup_after_s=REMOTE_HANGUP_S),
    "+14255550107": Scenario(
        "unreachable", far_ring_s=0, answered=False, code="RemoteFailure", subcode="Unreachable"
    ),
    "+14255550108": Scenario(
        "number does not exist",
        far_ring_s=0,
        answered=False,
        code="NotFound",
        subcode="DestinationNotFound",
    ),
    "+14255550109": Scenario(
        "do not disturb",
        answered=False,
        state="Declined",
        code="RemoteFailure",
        subcode="DoNotDisturb",
    ),
    "+14255550110": Scenario(
        "unknown failure",
        answered=False,
        code="RemoteFailure",
        subcode="QuantumFluxOverload",
    ),
}

_MESSAGES = {
    "Busy": "The person you called is busy.",
    "Declined": "The person you called declined the call.",
    "Missed": "The person you called did not answer.",
    "PstnCallFailed": "Your phone did not answer.",
    "Unreachable": "The number you called cannot be reached.",
    "DestinationNotFound": "The number you called does not exist.",
    "DoNotDisturb": "The person you called does not want to be disturbed.",
    "QuantumFluxOverload": "The call failed.",
    "CallTerminated": "The other party ended the call.",
    "Forwarded": "The call was forwarded.",
    "Canceled": "The call was cancelled.",
}


def scenario_for(target: str) -> Scenario:
    """The far end behind a normalised `to` (tel:+... or sip:...)."""
    return SCENARIOS.get(target.removeprefix("tel:"), ANSWERED)


def reason(code: str, subcode: str | None) -> dict[str, str]:
    out = {"code": code}
    if subcode:
        out["subcode"] = subcode
    out["message"] = _MESSAGES.get(subcode or "", "The call ended.")
    return out


def remote_participant(target: str, name: str | None = None) -> Participant:
    if name is None:
        local = target.split(":", 1)[-1]
        name = local.split("@", 1)[0].title() if "@" in local else local
    return Participant(new_id(3), name, target, local=False)


class Call:
    """One outgoing call: its resources, the event emission and the scripted far end.

    Emission rule for `_embedded` (docs/protocol.md §7.7): invitation, conversation (added/updated),
    phoneAudio and localParticipant `added` events embed the resource; participant and
    participantAudio events and every `deleted` event carry only the link (+ `in`/`title`).
    """

    def __init__(self, cfg: SimConfig, app: Application, conv: Conversation, inv: Invitation):
        self.cfg = cfg
        self.app = app
        self.conv = conv
        self.inv = inv
        self.p = d.Paths(conv.origin, app.aid)
        self.scenario = scenario_for(inv.to)

    # --- emission helpers ------------------------------------------------------------------

    def _emit(self, sender_rel: str, event: dict[str, Any]) -> None:
        if self.app.deleted:
            return
        if sender_rel == "communication":
            href = self.p.abs(self.p.communication)
        else:
            href = self.p.abs(self.p.conversation(self.conv.cid))
        self.app.channel.emit(sender_rel, href, event, HIGH)

    def emit_invitation(self, kind: str) -> None:
        event: dict[str, Any] = {
            "link": {"rel": "phoneAudioInvitation", "href": self.p.invitation(self.inv.iid)},
            "_embedded": {"phoneAudioInvitation": d.invitation_doc(self.inv, self.conv, self.p)},
        }
        if kind == "completed" and self.inv.status:
            event["status"] = self.inv.status
        if self.inv.reason is not None:
            event["reason"] = dict(self.inv.reason)
        event["type"] = kind
        self._emit("communication", event)

    def emit_conversation(self, kind: str) -> None:
        event: dict[str, Any] = {
            "link": {"rel": "conversation", "href": self.p.conversation(self.conv.cid)}
        }
        if kind != "deleted":
            event["_embedded"] = {"conversation": d.conversation_doc(self.conv, self.p)}
        event["type"] = kind
        self._emit("communication", event)

    def emit_phone_audio(self, why: dict[str, str] | None = None) -> None:
        event: dict[str, Any] = {
            "link": {"rel": "phoneAudio", "href": self.p.phone_audio(self.conv.cid)}
        }
        if not self.cfg.link_only_phone_audio:  # else as the phoneAudio_ref sample: link only
            event["_embedded"] = {"phoneAudio": d.phone_audio_doc(self.conv, self.p)}
        if why is not None:
            event["reason"] = why
        event["type"] = "updated"
        self._emit("conversation", event)

    def _participant_link(self, part: Participant) -> dict[str, str]:
        rel = "localParticipant" if part.local else "participant"
        return {"rel": rel, "href": self.p.participant(self.conv.cid, part), "title": part.name}

    def emit_participant(self, part: Participant, kind: str) -> None:
        event: dict[str, Any] = {"link": self._participant_link(part)}
        if part.local and kind == "added":
            doc = d.participant_doc(self.conv, part, self.p, self.app.user)
            event["_embedded"] = {"localParticipant": doc}
        event["type"] = kind
        self._emit("conversation", event)

    def emit_participant_audio(self, part: Participant, kind: str) -> None:
        event = {
            "link": {
                "rel": "participantAudio",
                "href": self.p.participant_audio(self.conv.cid, part),
            },
            "in": self._participant_link(part),
            "type": kind,
        }
        self._emit("conversation", event)

    # --- the script --------------------------------------------------------------------------

    def announce(self) -> None:
        """Scenario A steps 2-4: started, conversation added, localParticipant added, pa."""
        if self.conv.announced:
            return
        self.conv.announced = True
        self.emit_invitation("started")
        self.emit_conversation("added")
        self.emit_participant(self.conv.local, "added")
        self.emit_phone_audio()

    def start(self) -> None:
        self.conv.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"sim-call-{self.conv.cid}"
        )

    async def _sleep(self, base_s: float) -> None:
        await asyncio.sleep(self.cfg.delay(base_s))

    async def _run(self) -> None:
        sc = self.scenario
        try:
            await asyncio.sleep(0)
            self.announce()
            if not sc.callback_answered:
                await self._sleep(CALLBACK_GIVE_UP_S)
                self._fail(sc)
                return
            await self._sleep(CALLBACK_RING_S)
            if sc.far_ring_s > 0:
                self.inv.state = "Alerting"
                self.emit_invitation("updated")
                await self._sleep(sc.far_ring_s)
            else:
                await self._sleep(FAIL_FAST_S)
            if sc.forwarded_to is not None:
                self.inv.state = "Forwarded"
                self.inv.reason = reason("Informational", "Forwarded")
                self.emit_invitation("updated")
                self.inv.reason = None
                await self._sleep(FAR_RING_S)
            if not sc.answered:
                self._fail(sc)
                return
            uri, name = sc.forwarded_to or (self.inv.to, None)
            self._connect(remote_participant(uri, name))
            if sc.hangup_after_s is not None:
                await self._sleep(sc.hangup_after_s)
                self._remote_hangup()
        except asyncio.CancelledError:
            raise
        except Exception:  # a script bug must not kill the server loop quietly
            log.exception("scripted far end failed")
        finally:
            if self.conv.task is asyncio.current_task():
                self.conv.task = None

    def _connect(self, remote: Participant) -> None:
        """Scenario A step 6 (E6-E10)."""
        conv = self.conv
        conv.state = "Connected"
        conv.active_modalities = [self.cfg.active_modality]
        conv.remote = remote
        conv.pa_state = "Connected"
        self.emit_conversation("updated")
        self.emit_participant(remote, "added")
        self.emit_participant_audio(remote, "added")
        self.emit_participant_audio(conv.local, "added")
        self.emit_phone_audio()
        self.inv.state = "Connected"
        self.inv.completed = True
        self.inv.status = "Success"
        self.inv.accepted_by = remote
        self.emit_invitation("completed")

    def _end_conversation(self) -> None:
        conv = self.conv
        conv.state = "Disconnected"
        conv.active_modalities = []
        self.emit_conversation("updated")
        conv.alive = False
        self.emit_conversation("deleted")

    def _fail(self, sc: Scenario) -> None:
        """Scenarios C-F: pa Disconnected, invitation completed with a reason, conv ends."""
        self._complete_failed(sc.state, reason(sc.code or "RemoteFailure", sc.subcode))

    def _complete_failed(self, state: str, why: dict[str, str]) -> None:
        self.conv.pa_state = "Disconnected"
        self.emit_phone_audio()
        self.inv.state = state
        self.inv.completed = True
        self.inv.status = "Failure"
        self.inv.reason = why
        self.emit_invitation("completed")
        self._end_conversation()

    def _drop_participants(self) -> None:
        conv = self.conv
        if conv.remote is not None:
            self.emit_participant_audio(conv.remote, "deleted")
        self.emit_participant_audio(conv.local, "deleted")
        if conv.remote is not None:
            self.emit_participant(conv.remote, "deleted")
        self.emit_participant(conv.local, "deleted")

    def _remote_hangup(self) -> None:
        """Scenario B."""
        self.conv.pa_state = "Disconnected"
        self.conv.held = False
        self.emit_phone_audio(reason("Informational", "CallTerminated"))
        self._drop_participants()
        self._end_conversation()

    # --- user actions (called by the HTTP handlers; checks were done there) -------------------

    def _cancel_task(self) -> None:
        task = self.conv.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.conv.task = None
        self.announce()  # a very quick hang-up must still see the opening events first

    def hold(self, held: bool) -> None:
        self.conv.held = held
        self.emit_phone_audio()

    def stop(self) -> None:
        """stopPhoneAudio / DELETE conversation: scenario A step 9 or, while connecting, H."""
        self._cancel_task()
        if self.inv.pending:
            self.cancel()
            return
        self.conv.pa_state = "Disconnecting"
        self.emit_phone_audio()
        self.conv.pa_state = "Disconnected"
        self.conv.held = False
        self.emit_phone_audio()
        self._drop_participants()
        self._end_conversation()

    def finish(self, state: str, why: dict[str, str]) -> None:
        """End the pending invitation with terminal *state* and *why* (incoming calls too)."""
        self._cancel_task()
        self._complete_failed(state, why)

    def cancel(self) -> None:
        """Scenario H: the user gives up while the call is being set up."""
        self._cancel_task()
        self._complete_failed("Cancelled", reason("LocalFailure", "Canceled"))
