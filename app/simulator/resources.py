"""Handlers for applications, me, phones, makeMeAvailable, reportMyActivity, communication."""

from __future__ import annotations

import time

from starlette.responses import Response

import app.simulator.documents as d
from app.simulator.context import Ctx
from app.simulator.dial_plan import dial_number
from app.simulator.discovery import json_response
from app.simulator.errors import SimError
from app.simulator.events import MEDIUM
from app.simulator.state import Application

ALLOWED_MODALITIES = {"messaging": "Messaging", "phoneaudio": "PhoneAudio"}
# Properties a communication PUT may change (docs/protocol.md §5.4).
COMM_WRITABLE = {
    "phonenumber": "phoneNumber",
    "audiopreference": "audioPreference",
    "supportedmodalities": "supportedModalities",
    "supportedmessageformats": "supportedMessageFormats",
    "conversationhistory": "conversationHistory",
    "lislocation": "lisLocation",
    "lisqueryresult": "lisQueryResult",
    "publishendpointlocation": "publishEndpointLocation",
    "videobasedscreensharing": "videoBasedScreenSharing",
}


def no_content() -> Response:
    return Response(status_code=204, headers={"Cache-Control": "no-cache"})


def paths(ctx: Ctx, app: Application) -> d.Paths:
    return d.Paths(ctx.origin, app.aid)


def phone_audio_allowed(ctx: Ctx, user: str) -> bool:
    return user not in ctx.sim.config.no_phone_audio_users


def the_app(ctx: Ctx) -> Application:
    assert ctx.user is not None
    return ctx.sim.application(ctx.params["app"], ctx.user)


def default_comm() -> dict[str, object]:
    return {
        "supportedModalities": [],
        "supportedMessageFormats": ["Plain"],
        "audioPreference": "PhoneAudio",
        "conversationHistory": "Disabled",
        "simultaneousRingNumberMatch": "Disabled",
        "videoBasedScreenSharing": "Disabled",
        "publishEndpointLocation": False,
    }


# --- applications ------------------------------------------------------------------------------


async def applications_post(ctx: Ctx) -> Response:
    data = await ctx.json_input()
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in ("userAgent", "endpointId", "culture"):
        value = data.get(name.lower())
        if not isinstance(value, str) or not value.strip():
            problems[name] = "required"
        elif len(value) > 100:
            problems[name] = "longer than 100 characters"
        else:
            values[name] = value
    instance = data.get("instanceid")
    if instance is not None and (not isinstance(instance, str) or len(instance) > 100):
        problems["instanceId"] = "must be a string of at most 100 characters"
    app_type = data.get("type")
    if app_type is not None and not isinstance(app_type, str):
        problems["type"] = "must be a string"
    if problems:
        raise SimError(400, "ParameterValidationFailure", parameters=problems)
    assert ctx.user is not None
    app, created = ctx.sim.create_application(
        ctx.user,
        user_agent=values["userAgent"],
        endpoint_id=values["endpointId"],
        culture=values["culture"],
        instance_id=instance or None,
        app_type=app_type or None,
    )
    if created:
        app.comm = default_comm()
        app.origin = ctx.origin
    p = paths(ctx, app)
    doc = d.application_doc(app, p, phone_audio=phone_audio_allowed(ctx, app.user))
    return json_response(
        doc,
        status=201 if created else 200,
        headers={"ETag": app.etag, "Location": p.abs(p.app)},
    )


async def applications_get(ctx: Ctx) -> Response:
    assert ctx.user is not None
    mine = [a for a in ctx.sim.apps.values() if a.user == ctx.user]
    entries = []
    for app in mine:
        p = paths(ctx, app)
        entries.append(d.application_doc(app, p, phone_audio=phone_audio_allowed(ctx, app.user)))
    doc = {
        "rel": "applications",
        "_links": {"self": d.link(d.UCWA_ROOT)},
        "_embedded": {"application": entries},
    }
    return json_response(doc)


async def applications_options(ctx: Ctx) -> Response:
    return json_response(d.applications_options_doc())


async def application_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    doc = d.application_doc(app, paths(ctx, app), phone_audio=phone_audio_allowed(ctx, app.user))
    return json_response(doc, headers={"ETag": app.etag})


async def application_delete(ctx: Ctx) -> Response:
    app = the_app(ctx)
    ctx.sim.delete_application(app, "ApplicationNotFound")
    return no_content()


async def policies_get(ctx: Ctx) -> Response:
    return json_response(d.policies_doc(paths(ctx, the_app(ctx))))


async def batch_post(ctx: Ctx) -> Response:
    the_app(ctx)
    raise SimError(405, message="Batching is not supported by this server.")


async def people_get(ctx: Ctx) -> Response:
    return json_response(d.people_doc(paths(ctx, the_app(ctx))))


async def online_meetings_get(ctx: Ctx) -> Response:
    return json_response(d.online_meetings_doc(paths(ctx, the_app(ctx))))


# --- me --------------------------------------------------------------------------------------


async def me_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    return json_response(d.me_doc(app, paths(ctx, app)))


async def phones_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    return json_response(d.phones_doc(paths(ctx, app), ctx.sim.config.phones))


async def me_part_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    what = ctx.params["part"]
    if what not in ("presence", "note", "location") or not app.made_available:
        raise SimError(404, "ResourceNotFound", code="NotFound")
    return json_response(d.presence_doc(paths(ctx, app), what))


async def call_forwarding_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    p = paths(ctx, app)
    doc = {
        "rel": "callForwardingSettings",
        "activeSetting": "Off",
        "_links": {"self": d.link(p.me + "/callForwardingSettings")},
    }
    return json_response(doc)


async def make_me_available(ctx: Ctx) -> Response:
    app = the_app(ctx)
    data = await ctx.json_input()
    modalities_raw = data.get("supportedmodalities", [])
    if isinstance(modalities_raw, str):
        modalities_raw = [modalities_raw]
    if not isinstance(modalities_raw, list) or not all(isinstance(m, str) for m in modalities_raw):
        raise SimError(
            400,
            "ParameterValidationFailure",
            parameters={"supportedModalities": "must be a list of modality names"},
        )
    modalities = []
    for name in modalities_raw:
        canonical = ALLOWED_MODALITIES.get(name.strip().lower())
        if canonical is None:
            raise SimError(403, message=f"Modality {name[:40]!r} cannot be made available.")
        modalities.append(canonical)
    number = data.get("phonenumber")
    normalized: str | None = None
    if number is not None:
        if not isinstance(number, str):
            raise SimError(400, "ParameterValidationFailure", parameters={"phoneNumber": "string"})
        normalized = dial_number(ctx.sim.config, number, "phoneNumber")
    pref = data.get("audiopreference")
    bad_pref = not isinstance(pref, str) or pref.lower() not in ("phoneaudio", "voipaudio")
    if ctx.sim.config.repeat_make_me_available and pref is not None and bad_pref:
        raise SimError(
            400,
            "ParameterValidationFailure",
            parameters={"audioPreference": "PhoneAudio or VoipAudio"},
        )
    if app.made_available and not ctx.sim.config.repeat_make_me_available:
        raise SimError(409, "AlreadyExists", "makeMeAvailable was already called.")
    again = app.made_available
    app.made_available = True
    app.last_activity = time.monotonic()
    if normalized is not None:
        app.comm["phoneNumber"] = "tel:" + normalized
    app.comm["supportedModalities"] = modalities
    if isinstance(pref, str) and pref.lower() in ("phoneaudio", "voipaudio"):
        app.comm["audioPreference"] = "PhoneAudio" if pref.lower() == "phoneaudio" else "VoipAudio"
    app.bump_comm_etag()
    if again:  # only the communication settings changed (SimConfig.repeat_make_me_available)
        _emit_communication_updated(ctx, app)
    else:
        _announce_available(ctx, app)
    return no_content()


def _emit_communication_updated(ctx: Ctx, app: Application) -> None:
    """communication updated, with its new body embedded (Medium)."""
    p = paths(ctx, app)
    comm = d.communication_doc(app, p, phone_audio=phone_audio_allowed(ctx, app.user))
    app.channel.emit(
        "communication",
        p.abs(p.communication),
        {
            "link": {"rel": "communication", "href": p.communication},
            "_embedded": {"communication": comm},
            "type": "updated",
        },
        MEDIUM,
    )


def _announce_available(ctx: Ctx, app: Application) -> None:
    """communication updated (embedded) + me updated, presence/note/location added (Medium)."""
    _emit_communication_updated(ctx, app)
    p = paths(ctx, app)
    app.channel.emit(
        "me", p.abs(p.me), {"link": {"rel": "me", "href": p.me}, "type": "updated"}, MEDIUM
    )
    for what in ("presence", "note", "location"):
        event = {"link": {"rel": what, "href": f"{p.me}/{what}"}, "type": "added"}
        app.channel.emit("me", p.abs(p.me), event, MEDIUM)


async def report_my_activity(ctx: Ctx) -> Response:
    app = the_app(ctx)
    await ctx.body()
    if not app.made_available:
        raise SimError(409, "MakeMeAvailableRequired")
    app.last_activity = time.monotonic()
    return no_content()


# --- communication ---------------------------------------------------------------------------


async def communication_get(ctx: Ctx) -> Response:
    app = the_app(ctx)
    inm = ctx.request.headers.get("if-none-match")
    if inm is not None and inm.strip().strip('"') == app.comm_etag:
        return Response(status_code=304, headers={"ETag": app.comm_etag})
    doc = d.communication_doc(app, paths(ctx, app), phone_audio=phone_audio_allowed(ctx, app.user))
    return json_response(doc, headers={"ETag": app.comm_etag})


async def communication_put(ctx: Ctx) -> Response:
    app = the_app(ctx)
    if_match = ctx.request.headers.get("if-match")
    if if_match is None or not if_match.strip():
        raise SimError(428, message="If-Match is required.")
    data = await ctx.json_input()
    tags = {t.strip().strip('"').removeprefix("W/").strip('"') for t in if_match.split(",")}
    if app.comm_etag not in tags and "*" not in tags:
        raise SimError(412, message="The resource has changed; GET it again.")
    if app.put_key.lower() not in data:
        raise SimError(
            400,
            "ParameterValidationFailure",
            "The body must contain every property of the resource.",
            parameters={app.put_key: "required"},
        )
    updates: dict[str, object] = {}
    for lower, name in COMM_WRITABLE.items():
        if lower not in data:
            continue
        value = data[lower]
        if lower == "phonenumber" and value not in (None, ""):
            if not isinstance(value, str):
                raise SimError(400, "ParameterValidationFailure", parameters={name: "string"})
            value = "tel:" + dial_number(ctx.sim.config, value, name)
        updates[name] = value
    app.comm.update(updates)
    app.bump_comm_etag()
    _emit_communication_updated(ctx, app)
    return Response(status_code=200, headers={"ETag": app.comm_etag, "Cache-Control": "no-cache"})
