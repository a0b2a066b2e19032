"""Every vendor sample in tests/data/ucwa parses (docs/protocol.md §11 checks 41 and 42)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.ucwa.errors import ApplicationGone, ServerError
from app.ucwa.events import EventType, parse_batch
from app.ucwa.models import Resource, parse_error_body, parse_resource
from tests.helpers.samples import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
BASE = "https://fe1.contoso.com:443"


def _kinds() -> dict[str, str]:
    """File → request/response/event, from the corpus README's table."""
    readme = SAMPLES / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    rows = re.findall(r"^\| `([^`]+\.json)` \|[^|]*\| (\w+) \|", text, flags=re.MULTILINE)
    return dict(rows)


KINDS = _kinds()
FILES = sorted(SAMPLES.glob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _kind(path: Path, doc: Any) -> str:
    if path.name in KINDS:
        return KINDS[path.name]
    return "event" if isinstance(doc, dict) and "sender" in doc else "response"


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 93, f"samples not found in {SAMPLES}"
    assert set(KINDS) == {p.name for p in FILES}, "README and directory disagree"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_sample_parses(path: Path) -> None:
    doc = _load(path)
    kind = _kind(path, doc)
    if kind == "request":
        assert isinstance(doc, dict) and doc  # request bodies are only checked for shape
    elif kind == "event":
        batch = parse_batch(doc, BASE)
        assert batch.next_href is not None
        assert batch.events, "every sample event body carries at least one event"
        for event in batch.events:
            assert event.link.href.startswith(("http://", "https://"))
            assert isinstance(event.type, EventType)
    elif path.name.startswith("errors__"):
        assert isinstance(parse_error_body(409, {}, path.read_bytes()), ServerError)
    else:
        resource = parse_resource(doc, BASE)
        assert resource.href.startswith(("http://", "https://"))
        if isinstance(doc.get("rel"), str):
            assert resource.rel == doc["rel"]


# -- the expected content of the samples that matter for call via work ------------------------


def _resource(name: str) -> Resource:
    return parse_resource(_load(SAMPLES / name), BASE)


def _events(name: str) -> list[tuple[str, str, str]]:
    batch = parse_batch(_load(SAMPLES / name), BASE)
    return [(e.sender_rel, e.link.rel, e.type.value) for e in batch.events]


def test_phone_audio_sample_state_and_links() -> None:
    pa = _resource("phoneAudio__get_response.json")
    assert (pa.rel, pa.prop("state")) == ("phoneAudio", "Transferring")
    for rel in ("holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio", "addPhoneAudio"):
        assert pa.link(rel) == f"{BASE}/ucwa/v1/applications/192/communication/phoneAudio/{rel}"
    assert (
        _resource("phoneAudio__derivedphoneaudio_get_response.json").prop("state") == "Connecting"
    )


def test_invitation_sample_operation_id_and_accepted_participant() -> None:
    inv = _resource("phoneAudioInvitation__get_response.json")
    assert inv.rel == "phoneAudioInvitation"
    assert inv.prop("operationId") == "74cb7404e0a247d5a2d4eb0376a47dbf"
    assert inv.prop("state") == "Connected"
    assert inv.link("cancel") is not None and inv.link("conversation") is not None
    accepted = inv.embedded["acceptedByParticipant"]
    assert len(accepted) == 1 and accepted[0].rel == "participant"
    assert accepted[0].prop("uri") == "sip:john@contoso.com"


def test_conversation_sample_state_and_dates() -> None:
    conv = _resource("conversation__get_response.json")
    assert conv.prop("state") == "Disconnected"
    created = conv.date("created")
    assert created is not None and created.year == 2016
    assert conv.link("phoneAudio") is not None


@pytest.mark.parametrize(
    "name",
    [
        "application__create_response_walkthrough.json",
        "application__create_response_online.json",
        "application__create_response_ref.json",
    ],
)
def test_application_samples_expose_events_and_communication(name: str) -> None:
    app = _resource(name)
    assert app.rel == "application"
    events = app.link("events")
    # The walkthroughs' events href carries ack=1, the reference page's has no query
    # (docs/protocol.md §4.1).
    assert events is not None and ("ack=1" in events or name.endswith("_ref.json"))
    communication = app.first("communication")
    assert communication is not None and communication.link("self") == communication.href
    assert app.first("me") is not None


def test_reference_application_offers_start_phone_audio() -> None:
    communication = _resource("communication__get_response.json")
    assert communication.link("startPhoneAudio") is not None


def test_multitab_placeholders_do_not_break_parsing() -> None:
    app = _resource("application__multitab_create_response.json")
    assert (
        app.link(
            "events",
        )
        == f"{BASE}/ucwa/v1/applications/114149606281/events?ack=1&instanceId=abc"
    )
    assert app.first("communication") is None  # "communication": {} is a placeholder


def test_discovery_samples() -> None:
    redirect = _resource("discovery__root_redirect_response.json")
    assert (
        redirect.link("redirect") == "https://contoso.com/Autodiscover/AutodiscoverService.svc/root"
    )
    user = _resource("discovery__user_response_authenticated.json")
    assert user.link("applications") == "https://lyncweb.contoso.com/ucwa/oauth/v1/applications"


def test_phones_sample() -> None:
    phones = _resource("me__phones_get_response.json").embedded["phone"]
    assert [p.prop("number") for p in phones] == ["tel:+14255551234"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("phoneAudio__updated_event.json", [("conversation", "phoneAudio", "updated")]),
        (
            "phoneAudioInvitation__started_event.json",
            [("communication", "phoneAudioInvitation", "started")],
        ),
        (
            "phoneAudioInvitation__updated_event.json",
            [("communication", "phoneAudioInvitation", "updated")],
        ),
        ("conversation__added_event.json", [("communication", "conversation", "added")]),
        ("conversation__deleted_event.json", [("communication", "conversation", "deleted")]),
        (
            "conversation__participant_deleted_event.json",
            [("conversation", "participant", "deleted")],
        ),
    ],
)
def test_event_samples_types(name: str, expected: list[tuple[str, str, str]]) -> None:
    assert _events(name) == expected


def test_sendim_completed_carries_success_and_accepted_participant() -> None:
    batch = parse_batch(_load(SAMPLES / "events__sendim_connected_and_completed.json"), BASE)
    completed = [e for e in batch.events if e.type is EventType.COMPLETED]
    assert completed and completed[-1].status == "Success"
    body = completed[-1].resource
    assert body is not None and body.embedded["acceptedByParticipant"][0].rel == "participant"
    # Two "communication" sender blocks around a "conversation" one: order is kept across them.
    senders = [e.sender_rel for e in batch.events]
    assert senders[0] == "communication" and senders[-1] == "communication"
    assert "conversation" in senders[1:-1]


def test_started_sample_with_operation_id() -> None:
    batch = parse_batch(_load(SAMPLES / "events__operation_started_event.json"), BASE)
    (event,) = [e for e in batch.events if e.type is EventType.STARTED]
    assert event.resource is not None
    assert event.resource.prop("operationId") == "123"  # as in events__operation_start_request


def test_error_samples() -> None:
    conflict = parse_error_body(
        409, {}, (SAMPLES / "errors__conflict_alreadyexists_body.json").read_bytes()
    )
    assert (conflict.code, conflict.subcode) == ("Conflict", "AlreadyExists")
    gone = parse_error_body(
        404,
        {"Content-Type": "application/json"},
        (SAMPLES / "errors__notfound_applicationnotfound_body.json").read_bytes(),
    )
    assert isinstance(gone, ApplicationGone) and gone.subcode == "ApplicationNotFound"
