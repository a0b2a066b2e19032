"""Incoming phone-audio invitations: a colleague calls the user, rings, and gives up.

Only applications that made themselves available for PhoneAudio are rung (docs/protocol.md
§6.3). The call is never connected by the simulator: phone audio is answered by picking up the
phone, not through the API, so `accept` answers 409 and only `decline` (or waiting) ends it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import app.simulator.documents as d
from app.simulator.config import SimConfig
from app.simulator.scenarios import Call, reason, remote_participant
from app.simulator.state import Application, Conversation, Invitation, Participant, new_id

log = logging.getLogger(__name__)


def accepts_phone_audio(app: Application) -> bool:
    modalities = app.comm.get("supportedModalities")
    return app.made_available and isinstance(modalities, list) and "PhoneAudio" in modalities


def ring(cfg: SimConfig, app: Application, caller: str) -> Invitation:
    """Start an incoming invitation from *caller* (a `sip:`/`tel:` URI); on the server loop."""
    local = Participant(app.user.lower(), d.display_name(app.user), f"sip:{app.user}", local=True)
    cid, iid = new_id(3), new_id(3)
    thread = uuid.uuid4().hex
    conv = Conversation(cid, iid, local, thread_id=thread, origin=app.origin, state="Incoming")
    conv.remote = remote_participant(caller)
    callback = app.comm.get("phoneNumber")
    inv = Invitation(
        iid,
        None,
        f"sip:{app.user}",
        callback if isinstance(callback, str) else "",
        cid,
        thread_id=thread,
        direction="Incoming",
    )
    app.conversations[cid] = conv
    app.invitations[iid] = inv
    call = Call(cfg, app, conv, inv)
    conv.announced = True
    call.emit_invitation("started")
    call.emit_conversation("added")
    call.emit_participant(conv.remote, "added")
    call.emit_phone_audio()
    conv.task = asyncio.get_running_loop().create_task(
        _give_up(call, cfg.delay(cfg.incoming_ring_s)), name=f"sim-incoming-{cid}"
    )
    return inv


async def _give_up(call: Call, after_s: float) -> None:
    try:
        await asyncio.sleep(after_s)
        call.finish("Cancelled", reason("RemoteFailure", "Missed"))
    except asyncio.CancelledError:
        raise
    except Exception:  # a script bug must not kill the server loop quietly
        log.exception("scripted incoming call failed")


def decline(call: Call) -> None:
    """POST decline: the invitation completes Declined and the conversation ends."""
    call.finish("Declined", reason("LocalFailure", "Declined"))
