"""The simulator's JSON has the vendor samples' keys and nesting (docs/protocol.md §11 check 42)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from app.simulator.config import Profile
from tests.helpers.samples import SAMPLES_DIR, load_sample
from tests.helpers.ucwa_walker import (
    EVENT_TYPES,
    Walker,
    conversation_over,
    inv_completed,
    link,
    walker,
)


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """These tests walk the permissive simulator's own behaviour (everything offered at once);
    the realistic profile has tests of its own."""
    return "permissive"


pytestmark = pytest.mark.anyio


# Every link object may carry these (docs/protocol.md §1.2), whatever the sample happens to show.
LINK_ATTRIBUTES = {"href", "title", "revision"}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@cache
def sample(name: str) -> Any:
    return load_sample(name)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _merge(samples: list[Any]) -> Any:
    """Union of several samples' shapes: dict keys merged, list elements folded into one."""
    dicts = [s for s in samples if isinstance(s, dict)]
    if dicts:
        keys: dict[str, list[Any]] = {}
        for d in dicts:
            for k, v in d.items():
                keys.setdefault(k, []).append(v)
        return {k: _merge(vs) for k, vs in keys.items()}
    lists = [s for s in samples if isinstance(s, list)]
    if lists:
        return [_merge([e for lst in lists for e in lst])] if any(lists) else []
    return next((s for s in samples if s is not None), None)


def shape_problems(got: Any, want: Any, path: str = "$") -> list[str]:
    """Where got's keys or nesting differ from the (merged) sample want.

    Every key the simulator emits must exist at the same place in a matching sample (the
    random-named PUT marker and `etag` excepted), and every shared key must have the same
    JSON kind: object vs array vs scalar. Extra keys in the sample are fine (optional).
    """
    problems: list[str] = []
    if want is None or got is None:
        return problems
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected object, got {_kind(got)}"]
        is_link = "href" in want
        for key, value in got.items():
            if GUID.match(key) or key == "etag":
                continue
            if is_link and key in LINK_ATTRIBUTES and _kind(value) == "str":
                continue
            if key not in want:
                problems.append(f"{path}.{key}: not in the vendor sample")
                continue
            problems += shape_problems(value, want[key], f"{path}.{key}")
        return problems
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{path}: expected array, got {_kind(got)}"]
        if want:
            for i, item in enumerate(got):
                problems += shape_problems(item, want[0], f"{path}[{i}]")
        return problems
    if isinstance(got, dict | list):
        return [f"{path}: expected {_kind(want)}, got {_kind(got)}"]
    if _kind(got) != _kind(want):
        problems.append(f"{path}: expected {_kind(want)}, got {_kind(got)}")
    return problems


def require(doc: dict[str, Any], *paths: str) -> list[str]:
    """Missing required dotted paths (e.g. `_links.self.href`)."""
    missing = []
    for dotted in paths:
        node: Any = doc
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(dotted)
                break
            node = node[part]
    return missing


# Documented optional members of an error body (docs/protocol.md §8.1) that no vendor sample shows;
# None = any content (their inner keys are free-form).
ERROR_EXTRAS = {"link": {"href": ""}, "parameters": None, "debugInfo": None}


def check(got: dict[str, Any], names: list[str], *required: str, extra: Any = None) -> None:
    want = _merge([sample(n) for n in names] + ([extra] if extra else []))
    problems = shape_problems(got, want) + [f"missing {p}" for p in require(got, *required)]
    assert not problems, f"vs {names}:\n" + "\n".join(problems)


async def _call_up(w: Walker) -> tuple[str, dict[str, Any]]:
    await w.parked()
    resp = await w.start_call()
    assert resp.status_code == 201
    done = await w.wait_event("phoneAudioInvitation", "completed")
    await w.wait_event("phoneAudio", "updated", state="Connected")
    assert done.body is not None
    return w.url(resp.headers["location"]), done.body


def test_the_sample_corpus_is_in_the_repository() -> None:
    assert (SAMPLES_DIR / "README.md").is_file(), SAMPLES_DIR


async def test_application_create_response(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        assert w.app is not None
        check(
            w.app,
            ["application__create_response_walkthrough", "application__create_response_ref"],
            "rel", "_links.self.href", "_links.events.href", "_links.batch.href",
            "_links.policies.href", "_embedded.me.rel", "_embedded.people.rel",
            "_embedded.onlineMeetings.rel", "_embedded.communication.rel",
            "_embedded.communication._links.startPhoneAudio.href",
        )  # fmt: skip


async def test_discovery_and_token_responses(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        root = await w.http.get(shared_server.discovery_url, headers={"Accept": "application/json"})
        check(root.json(), ["discovery__root_response", "discovery__root_ref_get_response"],
              "_links.self.href", "_links.user.href")  # fmt: skip
        user_url = await w.discover()
        user = await w.get_json(user_url)
        check(user, ["discovery__user_response_authenticated", "discovery__user_ref_get_response"],
              "_links.self.href", "_links.applications.href")  # fmt: skip
        assert w.token_url
        token = await w.http.post(
            w.token_url,
            data={"grant_type": "password", "username": w.user, "password": w.password},
        )
        check(token.json(), ["auth__oauthtoken_password_response",
                             "auth__oauthtoken_response_with_identityscope"],
              "access_token", "token_type", "expires_in")  # fmt: skip


async def test_me_and_phones(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        me = await w.get_json(str(link(w.embedded("me"), "self")))
        check(me, ["me__get_response"], "rel", "name", "uri", "_links.self.href",
              "_links.makeMeAvailable.href", "_links.phones.href")  # fmt: skip
        phones = await w.get_json(str(link(me, "phones")))
        check(phones, ["me__phones_get_response"], "rel", "_links.self.href", "_embedded.phone")
        assert isinstance(phones["_embedded"]["phone"], list)


async def test_communication(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        comm = await w.get_json(w.communication_link("self"))
        check(comm, ["communication__get_response", "application__create_response_walkthrough"],
              "rel", "_links.self.href", "_links.startPhoneAudio.href",
              "_links.conversations.href")  # fmt: skip


async def test_invitation_phone_audio_and_conversation(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        location, completed = await _call_up(w)
        inv = await w.get_json(location)
        names = ["phoneAudioInvitation__get_response"]
        required = ("rel", "state", "direction", "operationId", "to", "_links.self.href",
                    "_links.conversation.href", "_links.phoneAudio.href")  # fmt: skip
        check(inv, names, *required)
        check(completed, names, *required, "_embedded.acceptedByParticipant")
        pa = await w.get_json(str(link(inv, "phoneAudio")))
        check(pa, ["phoneAudio__get_response"], "rel", "state", "_links.self.href",
              "_links.conversation.href", "_links.holdPhoneAudio.href")  # fmt: skip
        conv = await w.get_json(str(link(inv, "conversation")))
        check(conv, ["conversation__get_response", "conversation__get_response_connected_live"],
              "rel", "state", "_links.self.href", "_links.phoneAudio.href")  # fmt: skip


EVENT_SAMPLES = [
    "phoneAudioInvitation__started_event",
    "phoneAudioInvitation__updated_event",
    "phoneAudio__updated_event",
    "conversation__added_event",
    "conversation__updated_event",
    "conversation__deleted_event",
    "conversation__participant_added_event",
    "conversation__participant_deleted_event",
    "conversation__localparticipant_added_event",
    "conversation__localparticipant_deleted_event",
    "conversation__participantaudio_added_event",
    "conversation__participantaudio_deleted_event",
    "events__sendim_connected_and_completed",
    "events__sendim_started_and_conversation_added",
    "events__communication_and_me_example",
]


def _event_envelope(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope only: _links plus sender/events without the embedded resources."""
    out: dict[str, Any] = {"_links": body.get("_links")}
    if "sender" in body:
        out["sender"] = [
            {
                **{k: v for k, v in s.items() if k != "events"},
                "events": [{k: v for k, v in e.items() if k != "_embedded"} for e in s["events"]],
            }
            for s in body["sender"]
        ]
    return out


async def test_event_bodies(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        await _call_up(w)
        stop = link(w.events[-1].body, "stopPhoneAudio") or next(
            link(e.body, "stopPhoneAudio") for e in reversed(w.events) if e.rel == "phoneAudio"
        )
        assert (await w.request("POST", str(stop), content=b"")).status_code == 204
        await w.wait_for(conversation_over)
        assert inv_completed(w.events)
        bodies = [b for b in w.bodies if b.get("sender")]
        assert bodies
        envelope = _merge([_event_envelope(sample(n)) for n in EVENT_SAMPLES])
        # `reason` on an event is documented (docs/protocol.md §7.3) but no vendor event sample
        # has one.
        envelope["sender"][0]["events"][0]["reason"] = sample("errors__conflict_alreadyexists_body")
        for body in bodies:
            problems = shape_problems(_event_envelope(body), envelope)
            problems += [f"missing {p}" for p in require(body, "_links.self.href",
                                                         "_links.next.href")]  # fmt: skip
            for sender in body["sender"]:
                problems += [
                    f"sender missing {p}" for p in require(sender, "rel", "href", "events")
                ]
                for ev in sender["events"]:
                    problems += [
                        f"event missing {p}" for p in require(ev, "link.rel", "link.href", "type")
                    ]
                    if ev["type"] not in EVENT_TYPES:
                        problems.append(f"event type {ev['type']!r}")
            assert not problems, json.dumps(body)[:2000] + "\n" + "\n".join(problems)
        # Embedded resources inside events match their GET samples.
        for ev in w.events:
            if ev.embedded and ev.rel in RESOURCE_SAMPLES:
                check(ev.body or {}, RESOURCE_SAMPLES[ev.rel], "rel", "_links.self.href")


RESOURCE_SAMPLES = {
    "phoneAudioInvitation": ["phoneAudioInvitation__get_response"],
    "phoneAudio": ["phoneAudio__get_response"],
    "conversation": ["conversation__get_response", "conversation__get_response_connected_live"],
    "participant": ["conversation__participant_get_response",
                    "phoneAudioInvitation__from_get_response"],
    "localParticipant": ["conversation__participant_get_response"],
    "participantAudio": ["conversation__participantaudio_get_response"],
    "communication": ["communication__get_response"],
}  # fmt: skip


async def test_error_bodies(shared_server, sim_credentials) -> None:
    async with walker(shared_server.discovery_url, *sim_credentials) as w:
        mma = str(link(w.embedded("me"), "makeMeAvailable"))
        body = {"supportedModalities": ["PhoneAudio"], "phoneNumber": "+14255550123"}
        assert (await w.post(mma, body)).status_code == 204
        conflict = await w.post(mma, body)
        check(conflict.json(), ["errors__conflict_alreadyexists_body"], "code", "subcode",
              extra=ERROR_EXTRAS)  # fmt: skip
        assert (await w.request("DELETE", str(w.app_url))).status_code == 204
        gone = await w.get(str(w.app_url))
        check(gone.json(), ["errors__notfound_applicationnotfound_body"], "code", "subcode",
              extra=ERROR_EXTRAS)  # fmt: skip
