"""Handlers for startPhoneAudio, the invitation, conversations, phoneAudio and participants."""

from __future__ import annotations

import asyncio
import uuid

from starlette.responses import Response

import app.simulator.documents as d
import app.simulator.incoming as incoming
from app.simulator.context import Ctx, text_field
from app.simulator.dial_plan import dial_number, dial_target
from app.simulator.discovery import json_response
from app.simulator.errors import SimError
from app.simulator.resources import no_content, paths, phone_audio_allowed, the_app
from app.simulator.scenarios import Call
from app.simulator.state import Application, Conversation, Invitation, Participant, new_id

IMPORTANCE = {"normal": "Normal", "urgent": "Urgent", "emergency": "Emergency"}


def _gone() -> SimError:
    return SimError(404, "ConversationNotFound", "The conversation no longer exists.")


def _conversation(app: Application, cid: str) -> Conversation:
    conv = app.conversations.get(cid)
    if conv is None or not conv.alive:
        raise _gone()
    return conv


def _call(ctx: Ctx, app: Application, conv: Conversation) -> Call:
    return Call(ctx.sim.config, app, conv, app.invitations[conv.invitation_id])


async def start_phone_audio(ctx: Ctx) -> Response:
    app = the_app(ctx)
    data = await ctx.json_input()
    if not phone_audio_allowed(ctx, app.user):
        raise SimError(403, message="Phone audio is not listed in the capabilities of this user.")
    if app.lurker and not app.made_available:
        raise SimError(409, "MakeMeAvailableRequired", "Call makeMeAvailable first.")
    to_raw = text_field(data, "to", limit=256, required=True)
    assert to_raw is not None
    operation_id = text_field(data, "operationId", limit=50, required=False)
    subject = text_field(data, "subject", limit=250, required=False)
    importance_raw = text_field(data, "importance", limit=20, required=False) or "Normal"
    importance = IMPORTANCE.get(importance_raw.lower())
    if importance is None:
        raise SimError(
            400, "ParameterValidationFailure", parameters={"importance": "Normal|Urgent|Emergency"}
        )
    number_raw = text_field(data, "phoneNumber", limit=100, required=False)
    if number_raw is None:
        default = app.comm.get("phoneNumber")
        number_raw = default if isinstance(default, str) and default else None
    if number_raw is None:
        raise SimError(
            400,
            "ParameterValidationFailure",
            "'phoneNumber' is required: no callback number is registered",
            parameters={"phoneNumber": "required"},
        )
    target = dial_target(ctx.sim.config, to_raw)
    callback = "tel:" + dial_number(ctx.sim.config, number_raw, "phoneNumber")
    # Checked now, not "ever": a client whose event channel died must hear about it here (and
    # park again, then retry) instead of placing a call whose events nobody will read.
    if not app.channel.reachable(ctx.sim.config.callback_channel_grace_s):
        raise SimError(500, "CallbackChannelError")

    assert ctx.user is not None
    cid, iid = new_id(3), new_id(3)
    local = Participant(ctx.user.lower(), d.display_name(ctx.user), f"sip:{ctx.user}", local=True)
    thread = uuid.uuid4().hex
    conv = Conversation(
        cid, iid, local, subject=subject, importance=importance, thread_id=thread, origin=ctx.origin
    )
    inv = Invitation(
        iid,
        operation_id,
        target,
        callback,
        cid,
        subject=subject,
        importance=importance,
        thread_id=thread,
    )
    app.conversations[cid] = conv
    app.invitations[iid] = inv
    call = Call(ctx.sim.config, app, conv, inv)
    if ctx.sim.config.events_first:
        call.announce()
        # Let a parked P-GET take and send them before the 201 leaves (bounded, ~50 ms).
        for _ in range(10):
            await asyncio.sleep(0.005)
            if not app.channel.queue:
                await asyncio.sleep(0.005)
                break
    call.start()
    p = paths(ctx, app)
    location = p.abs(p.invitation(iid))
    if ctx.sim.config.start_body:
        return json_response(d.invitation_doc(inv, conv, p), 201, {"Location": location})
    return Response(status_code=201, headers={"Location": location, "Cache-Control": "no-cache"})


async def invitation_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    inv = app.invitations.get(ctx.params["inv"])
    if inv is None:
        raise SimError(404, "ResourceNotFound", code="NotFound")
    conv = app.conversations.get(inv.conversation_id)
    if conv is None:  # the state was reset: the invitation went with it
        raise SimError(404, "ResourceNotFound", code="NotFound")
    return json_response(d.invitation_doc(inv, conv, paths(ctx, app)))


async def invitation_cancel(ctx: Ctx) -> Response:
    app = the_app(ctx)
    await ctx.body()
    inv = app.invitations.get(ctx.params["inv"])
    if inv is None or inv.conversation_id not in app.conversations:
        raise SimError(404, "ResourceNotFound", code="NotFound")
    conv = app.conversations[inv.conversation_id]
    if inv.direction == "Incoming":
        raise SimError(409, message="An incoming invitation is declined, not cancelled.")
    if inv.pending:
        _call(ctx, app, conv).cancel()
        return no_content()
    if not conv.alive:
        raise _gone()
    if inv.status == "Success":
        # docs/protocol.md §6.3: on a connected call cancel "disconnects the modality": the same as
        # stopPhoneAudio (scenario A step 9), so a client racing the answer still ends the call.
        _call(ctx, app, conv).stop()
        return no_content()
    raise SimError(409, message="The invitation is no longer pending.")


async def invitation_answer(ctx: Ctx) -> Response:
    """accept / decline of an incoming invitation (incoming.py): only decline is simulated."""
    app = the_app(ctx)
    await ctx.body()
    inv = app.invitations.get(ctx.params["inv"])
    if inv is None or inv.conversation_id not in app.conversations:
        raise SimError(404, "ResourceNotFound", code="NotFound")
    if inv.direction != "Incoming" or not inv.pending:
        raise SimError(409, message="The invitation is not a pending incoming one.")
    if ctx.params["answer"] == "accept":
        raise SimError(
            409, "OperationNotSupported", "Phone audio is answered by picking up the phone."
        )
    incoming.decline(_call(ctx, app, app.conversations[inv.conversation_id]))
    return no_content()


async def conversations_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    return json_response(d.conversations_doc(app.live_conversations(), paths(ctx, app)))


async def conversation_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv = _conversation(app, ctx.params["conv"])
    return json_response(d.conversation_doc(conv, paths(ctx, app)))


async def conversation_delete(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv = _conversation(app, ctx.params["conv"])
    _call(ctx, app, conv).stop()
    return no_content()


async def phone_audio_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv = _conversation(app, ctx.params["conv"])
    forced = ctx.sim.faults.take_phone_audio_error()
    if forced is not None:
        status, code, subcode = forced
        raise SimError(status, subcode, code=code)
    return json_response(d.phone_audio_doc(conv, paths(ctx, app)))


async def phone_audio_action(ctx: Ctx) -> Response:
    """hold / resume / stop / add: 204 if the link is currently offered, else 409 (404 if gone)."""
    app = the_app(ctx)
    await ctx.body()
    conv = _conversation(app, ctx.params["conv"])
    action = ctx.params["action"]  # lower case
    offered = {
        name.lower() for name in d.phone_audio_links(conv, paths(ctx, app)) if name != "self"
    }
    if action not in offered:
        raise SimError(409, message=f"{action} is not available in the current state.")
    call = _call(ctx, app, conv)
    if action == "holdphoneaudio":
        call.hold(True)
    elif action == "resumephoneaudio":
        call.hold(False)
    elif action == "stopphoneaudio":
        call.stop()
    else:
        raise SimError(409, "OperationNotSupported", "addPhoneAudio is not simulated.")
    return no_content()


def _participant(app: Application, ctx: Ctx) -> tuple[Conversation, Participant]:
    conv = _conversation(app, ctx.params["conv"])
    pid = ctx.params["part"]
    for part in (conv.local, conv.remote):
        if part is not None and part.pid == pid:
            return conv, part
    raise SimError(404, "ResourceNotFound", code="NotFound")


async def participants_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv = _conversation(app, ctx.params["conv"])
    p = paths(ctx, app)
    links: dict[str, object] = {"self": d.link(p.conversation(conv.cid) + "/participants")}
    links["localParticipant"] = d.link(p.participant(conv.cid, conv.local), conv.local.name)
    if conv.remote is not None:
        links["participant"] = [d.link(p.participant(conv.cid, conv.remote), conv.remote.name)]
    return json_response({"rel": "participants", "_links": links})


async def participant_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv, part = _participant(app, ctx)
    return json_response(d.participant_doc(conv, part, paths(ctx, app), app.user))


async def participant_audio_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    conv, part = _participant(app, ctx)
    if conv.pa_state != "Connected":
        raise SimError(404, "ResourceNotFound", code="NotFound")
    return json_response(d.participant_audio_doc(conv, part, paths(ctx, app)))
