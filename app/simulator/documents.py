"""JSON builders for every resource the simulator serves, in the vendor samples' shapes.

Href style (docs/protocol.md §1.3: the server should mix both forms): discovery, user, the token
URL, `Location` headers, event `sender` hrefs and the `conversation` links of phoneAudio and
phoneAudioInvitation are absolute; every other href is a relative path.
"""

from __future__ import annotations

from typing import Any

import app.simulator.directory as directory
from app.simulator.state import Application, Conversation, Invitation, Participant, ucwa_date

Doc = dict[str, Any]

UCWA_ROOT = "/ucwa/oauth/v1/applications"
DISCOVERY_PATH = "/autodiscover/autodiscoverservice.svc/root"
USER_PATH = DISCOVERY_PATH + "/oauth/user"
TOKEN_PATH = "/WebTicket/oauthtoken"
XFRAME_PATH = "/Autodiscover/XFrame/XFrame.html"
PUT_MARKER = "please pass this in a PUT request"


def link(href: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href}
    if title is not None:
        out["title"] = title
    return out


class Paths:
    """Every href of one application, built from its id (the walkthrough URL shapes)."""

    def __init__(self, origin: str, aid: str) -> None:
        self.origin = origin
        self.app = f"{UCWA_ROOT}/{aid}"

    def abs(self, path: str) -> str:
        return self.origin + path

    @property
    def me(self) -> str:
        return self.app + "/me"

    @property
    def communication(self) -> str:
        return self.app + "/communication"

    @property
    def events(self) -> str:
        return self.app + "/events"

    def conversation(self, cid: str) -> str:
        return f"{self.communication}/conversations/{cid}"

    def phone_audio(self, cid: str) -> str:
        return self.conversation(cid) + "/phoneAudio"

    def invitation(self, iid: str) -> str:
        return f"{self.communication}/phoneAudioInvitations/{iid}"

    def participant(self, cid: str, p: Participant) -> str:
        return f"{self.conversation(cid)}/participants/{p.pid}"

    def participant_audio(self, cid: str, p: Participant) -> str:
        return self.participant(cid, p) + "/participantAudio"

    def contact(self, uri: str) -> str:
        return f"{self.app}/people/{uri.split(':', 1)[-1].lower()}"


# --- discovery -------------------------------------------------------------------------------


def root_doc(origin: str, prefix: str) -> Doc:
    base = origin + prefix
    return {
        "_links": {
            "self": link(base + DISCOVERY_PATH),
            "user": link(base + USER_PATH),
            "xframe": link(origin + XFRAME_PATH),
        },
        "rel": "root",
    }


def redirect_doc(origin: str, target: str) -> Doc:
    return {"_links": {"redirect": link(origin + target)}}


def user_doc(origin: str, prefix: str) -> Doc:
    return {
        "_links": {
            "self": link(origin + prefix + USER_PATH),
            "applications": link(origin + UCWA_ROOT),
            "xframe": link(origin + XFRAME_PATH),
        },
        "rel": "user",
    }


# --- application and its embedded resources -------------------------------------------------


def display_name(user: str) -> str:
    person = directory.find(user)
    if person is not None:
        return person.name
    return user.split("@", 1)[0].replace(".", " ").title()


def application_doc(app: Application, p: Paths, *, phone_audio: bool) -> Doc:
    doc: Doc = {
        "rel": "application",
        "culture": app.culture,
        "userAgent": app.user_agent,
        "endpointId": app.endpoint_id,
        "id": app.aid,
        "_links": {
            "self": link(p.app),
            "policies": link(p.app + "/policies"),
            "batch": link(p.app + "/batch"),
            "events": link(p.events + "?ack=1"),
        },
        "_embedded": {
            "me": me_doc(app, p),
            "people": people_doc(p),
            "onlineMeetings": online_meetings_doc(p),
            "communication": communication_doc(app, p, phone_audio=phone_audio),
        },
    }
    if app.instance_id:
        doc["instanceId"] = app.instance_id
        doc["_links"]["events"] = link(f"{p.events}?ack=1&instanceId={app.instance_id}")
    if app.app_type:
        doc["type"] = app.app_type
    return doc


def me_doc(app: Application, p: Paths) -> Doc:
    links: Doc = {"self": link(p.me)}
    if not app.made_available:
        links["makeMeAvailable"] = link(p.me + "/makeMeAvailable")
    links["callForwardingSettings"] = link(p.me + "/callForwardingSettings")
    links["phones"] = link(p.me + "/phones")
    links["photo"] = link(f"{p.app}/photos/{app.user.lower()}")
    if app.made_available or not app.lurker:
        links["reportMyActivity"] = link(p.me + "/reportMyActivity")
    if app.made_available:
        links["presence"] = link(p.me + "/presence")
        links["note"] = link(p.me + "/note")
        links["location"] = link(p.me + "/location")
    return {
        "rel": "me",
        "name": display_name(app.user),
        "uri": f"sip:{app.user}",
        "emailAddresses": [app.user],
        "endpointUri": f"sip:{app.user};gruu;opaque=app:ucwa:{app.aid}",
        "_links": links,
    }


def phones_doc(p: Paths, phones: tuple[tuple[str, str], ...]) -> Doc:
    entries = [
        {
            "rel": "phone",
            "number": f"tel:{number}",
            "type": kind,
            "includeInContactCard": True,
            "_links": {"self": link(f"{p.me}/phones/{kind}")},
            "etag": str(abs(hash((kind, number))) % 4_000_000_000),
        }
        for kind, number in phones
    ]
    return {
        "rel": "phones",
        "_links": {"self": link(p.me + "/phones")},
        "_embedded": {"phone": entries},
    }


def people_doc(p: Paths) -> Doc:
    """The walkthrough's link set (only the call path is simulated behind these)."""
    base = p.app + "/people"
    names = {
        "presenceSubscriptions": "/presenceSubscriptions",
        "subscribedContacts": "/subscribedContacts",
        "presenceSubscriptionMemberships": "/presenceSubscriptionMemberships",
        "myGroups": "/groups",
        "myGroupMemberships": "/groupMemberships",
        "myContacts": "/contacts",
        "myPrivacyRelationships": "/privacyRelationships",
        "myContactsAndGroupsSubscription": "/contactsAndGroupsSubscription",
        "search": "/search",
    }
    links: Doc = {"self": link(base)}
    links.update({rel: link(base + tail) for rel, tail in names.items()})
    return {"rel": "people", "_links": links}


def online_meetings_doc(p: Paths) -> Doc:
    base = p.app + "/onlineMeetings"
    names = {
        "myOnlineMeetings": "/myOnlineMeetings",
        "onlineMeetingDefaultValues": "/defaultValues",
        "onlineMeetingEligibleValues": "/eligibleValues",
        "onlineMeetingInvitationCustomization": "/customInvitation",
        "onlineMeetingPolicies": "/policies",
        "phoneDialInInformation": "/phoneDialInInformation",
    }
    links: Doc = {"self": link(base)}
    links.update({rel: link(base + tail) for rel, tail in names.items()})
    return {"rel": "onlineMeetings", "_links": links}


def communication_doc(app: Application, p: Paths, *, phone_audio: bool) -> Doc:
    links: Doc = {
        "self": link(p.communication),
        "conversations": link(p.communication + "/conversations?filter=active"),
    }
    if phone_audio and (app.made_available or not app.lurker):
        links["startPhoneAudio"] = link(p.communication + "/phoneAudioInvitations")
    links["startMessaging"] = link(p.communication + "/messagingInvitations")
    links["startOnlineMeeting"] = link(
        p.communication + "/onlineMeetingInvitations?onlineMeetingUri=adhoc"
    )
    links["joinOnlineMeeting"] = link(p.communication + "/onlineMeetingInvitations")
    doc: Doc = {"rel": "communication", app.put_key: PUT_MARKER}
    doc.update(app.comm)
    doc["_links"] = links
    doc["etag"] = app.comm_etag
    return doc


def policies_doc(p: Paths) -> Doc:
    """Admin policy flags in the reference sample's shape (telephonyMode matters most)."""
    disabled = [
        "allowDeviceContactsSync", "audioOnlyOnWifi", "callLogArchiving",
        "customerExperienceImprovementProgram", "emoticons", "encryptAppData",
        "clientExchangeConnectivity", "exchangeUnifiedMessaging", "htmlMessaging",
        "messagingUrls", "multiViewJoin", "saveCallLogs", "saveCredentials",
        "saveMessagingHistory", "sharingOnlyOnWifi", "softwareQualityMetrics",
        "useLocationForE911Only", "videoOnlyOnWifi",
    ]  # fmt: skip
    doc: Doc = {"rel": "policies"}
    doc.update(dict.fromkeys(disabled, "Disabled"))
    doc.update(
        {
            "emergencyDialMask": "112",
            "emergencyDialString": "911",
            "emergencyNumbers": [],
            "emergencyServiceDisclaimer": "",
            "helpEnvironment": "",
            "locationRefreshInterval": 240,
            "locationRequired": "No",
            "logging": "Disabled",
            "loggingLevel": "Off",
            "messageArchiving": "Disabled",
            "onlineFeedbackUrl": "",
            "photos": "Enabled",
            "sendFeedbackUrl": "",
            "telephonyMode": "AudioVideo",
            "voicemailUri": "",
            "_links": {"self": link(p.app + "/policies")},
        }
    )
    return doc


def presence_doc(p: Paths, what: str) -> Doc:
    values: dict[str, Doc] = {
        "presence": {"availability": "Online", "activity": "Available"},
        "note": {"message": "", "type": "Personal"},
        "location": {"location": ""},
    }
    return {"rel": what, **values[what], "_links": {"self": link(f"{p.me}/{what}")}}


# --- calls -----------------------------------------------------------------------------------


def conversation_doc(conv: Conversation, p: Paths) -> Doc:
    doc: Doc = {
        "rel": "conversation",
        "state": conv.state,
        "activeModalities": list(conv.active_modalities),
        "importance": conv.importance,
        "threadId": conv.thread_id,
        "created": ucwa_date(conv.created_ms),
        "participantCount": 2 if conv.remote else 1,
        "recording": False,
        "readLocally": True,
        "_links": {
            "self": link(p.conversation(conv.cid)),
            "messaging": link(p.conversation(conv.cid) + "/messaging"),
            "phoneAudio": link(p.phone_audio(conv.cid)),
            "participants": link(p.conversation(conv.cid) + "/participants"),
            "localParticipant": link(p.participant(conv.cid, conv.local), conv.local.name),
            "addParticipant": link(
                f"{p.communication}/participantInvitations?conversation={conv.cid}"
            ),
        },
    }
    if conv.subject:
        doc["subject"] = conv.subject
    return doc


def conversations_doc(convs: list[Conversation], p: Paths) -> Doc:
    return {
        "rel": "conversations",
        "_links": {
            "self": link(p.communication + "/conversations"),
            "conversation": [link(p.conversation(c.cid)) for c in convs],
        },
    }


def phone_audio_links(conv: Conversation, p: Paths) -> Doc:
    """The link set per state: docs/protocol.md §6.4 table (hold is the hold/resume link swap)."""
    base = p.phone_audio(conv.cid)
    links: Doc = {"self": link(base), "conversation": link(p.abs(p.conversation(conv.cid)))}
    state = conv.pa_state
    if state == "Disconnected":
        if conv.alive and conv.state != "Disconnected":
            links["addPhoneAudio"] = link(base + "/addPhoneAudio")
    elif state == "Connected":
        if conv.held:
            links["resumePhoneAudio"] = link(base + "/resumePhoneAudio")
        else:
            links["holdPhoneAudio"] = link(base + "/holdPhoneAudio")
        links["stopPhoneAudio"] = link(base + "/stopPhoneAudio")
    elif state in ("Connecting", "Transferring"):
        links["stopPhoneAudio"] = link(base + "/stopPhoneAudio")
    return links


def phone_audio_doc(conv: Conversation, p: Paths) -> Doc:
    return {"rel": "phoneAudio", "state": conv.pa_state, "_links": phone_audio_links(conv, p)}


def participant_doc(conv: Conversation, part: Participant, p: Paths, app_user: str) -> Doc:
    links: Doc = {
        "self": link(p.participant(conv.cid, part)),
        "conversation": link(p.conversation(conv.cid)),
        "participantAudio": link(p.participant_audio(conv.cid, part)),
    }
    if part.local:
        links["me"] = link(p.me)
    else:
        links["contact"] = link(p.contact(part.uri))
    return {
        "rel": "localParticipant" if part.local else "participant",
        "anonymous": False,
        "inLobby": False,
        "local": part.local,
        "name": part.name,
        "uri": part.uri,
        "sourceNetwork": part.source_network,
        "role": "Attendee",
        "organizer": part.local,
        "_links": links,
    }


def participant_audio_doc(conv: Conversation, part: Participant, p: Paths) -> Doc:
    direction = "Inactive" if conv.held else "SendReceive"
    return {
        "rel": "participantAudio",
        "audioDirection": direction,
        "audioMuted": False,
        "audioSourceId": str(abs(hash(part.pid)) % 10_000_000),
        "_links": {
            "self": link(p.participant_audio(conv.cid, part)),
            "participant": link(p.participant(conv.cid, part), part.name),
        },
    }


def invitation_doc(inv: Invitation, conv: Conversation, p: Paths) -> Doc:
    incoming = inv.direction == "Incoming"
    caller = conv.remote if incoming and conv.remote is not None else conv.local
    links: Doc = {
        "self": link(p.invitation(inv.iid)),
        "conversation": link(p.abs(p.conversation(conv.cid))),
        "phoneAudio": link(p.phone_audio(conv.cid)),
        "to": link(p.contact(inv.to)),
        "from": link(p.participant(conv.cid, caller), caller.name),
    }
    if inv.pending and incoming:
        links["accept"] = link(p.invitation(inv.iid) + "/accept")
        links["decline"] = link(p.invitation(inv.iid) + "/decline")
    elif inv.pending:
        links["cancel"] = link(p.invitation(inv.iid) + "/cancel")
    doc: Doc = {
        "rel": "phoneAudioInvitation",
        "direction": inv.direction,
        "importance": inv.importance,
        "phoneNumber": inv.phone_number,
        "privateLine": False,
        "state": inv.state,
        "threadId": inv.thread_id,
        "to": inv.to,
        "_links": links,
    }
    if inv.operation_id is not None:
        doc["operationId"] = inv.operation_id
    if inv.subject:
        doc["subject"] = inv.subject
    if inv.accepted_by is not None:
        accepted = participant_doc(conv, inv.accepted_by, p, "")
        accepted["rel"] = "participant"
        doc["_embedded"] = {"acceptedByParticipant": [accepted]}
    return doc


def contact_doc(p: Paths, uri: str) -> Doc:
    return {
        "rel": "contact",
        "uri": uri,
        "name": uri.split(":", 1)[-1],
        "sourceNetwork": "SameEnterprise",
        "type": "User",
        "_links": {"self": link(p.contact(uri))},
    }


def applications_options_doc() -> Doc:
    return {
        "metadata": [
            {
                "httpMethod": "POST",
                "parameters": [
                    {"name": "culture", "supportedValues": []},
                    {"name": "endpointId", "supportedValues": []},
                    {"name": "userAgent", "supportedValues": []},
                    {"name": "instanceId", "supportedValues": []},
                    {"name": "type", "supportedValues": ["Browser"]},
                ],
            }
        ]
    }
