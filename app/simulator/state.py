"""Server state: tokens, applications, conversations, invitations (touched on the server loop)."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.simulator.events import EventChannel


def new_id(nbytes: int = 4) -> str:
    """A random-ish lower-case id (paths are matched case-insensitively, so ids stay lower case)."""
    return secrets.token_hex(nbytes)


def now_ms() -> int:
    return int(time.time() * 1000)


def ucwa_date(ms: int) -> str:
    """The ASP.NET AJAX date form UCWA uses in JSON (the `\\/` is added by the serialiser)."""
    return f"/Date({ms})/"


@dataclass
class Token:
    value: str
    user: str
    expires_at: float  # time.monotonic()
    realm: str | None = None  # the origin it is valid on (SimConfig.token_realms), else anywhere


@dataclass
class Participant:
    pid: str  # path segment under conversations/{cid}/participants/
    name: str
    uri: str
    local: bool
    source_network: str = "SameEnterprise"


@dataclass
class Invitation:
    iid: str
    operation_id: str | None
    to: str  # normalised target URI (tel:+... or sip:...)
    phone_number: str  # tel:+... the callback number
    conversation_id: str
    subject: str | None = None
    importance: str = "Normal"
    thread_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "Connecting"
    completed: bool = False
    status: str | None = None  # event-level status on `completed`: Success / Failure
    reason: dict[str, str] | None = None
    accepted_by: Participant | None = None
    direction: str = "Outgoing"  # "Incoming": a colleague calls the user (incoming.py)

    @property
    def pending(self) -> bool:
        return not self.completed


@dataclass
class Conversation:
    cid: str
    invitation_id: str
    local: Participant
    subject: str | None = None
    importance: str = "Normal"
    thread_id: str = ""
    created_ms: int = field(default_factory=now_ms)
    state: str = "Connecting"
    active_modalities: list[str] = field(default_factory=list)
    pa_state: str = "Connecting"
    held: bool = False
    remote: Participant | None = None
    alive: bool = True
    origin: str = ""  # scheme://host the call was placed through (for absolute hrefs)
    task: asyncio.Task[None] | None = None
    announced: bool = False  # the opening events (started/added/...) were emitted


@dataclass
class Application:
    aid: str
    user: str
    user_agent: str
    endpoint_id: str
    culture: str
    instance_id: str | None
    app_type: str | None
    channel: EventChannel
    etag: str = field(default_factory=lambda: str(secrets.randbelow(4_000_000_000)))
    put_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    comm_etag: str = field(default_factory=lambda: str(secrets.randbelow(4_000_000_000)))
    comm: dict[str, object] = field(default_factory=dict)
    made_available: bool = False
    origin: str = ""  # scheme://host the application was created through (for absolute hrefs)
    lurker: bool = False  # SimConfig.lurker_start: call links only after makeMeAvailable
    last_activity: float = field(default_factory=time.monotonic)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    deleted: bool = False
    gone_subcode: str | None = None  # set when deleted: ApplicationNotFound / InactiveApplication…

    def bump_comm_etag(self) -> None:
        self.comm_etag = str(secrets.randbelow(4_000_000_000))

    def live_conversations(self) -> list[Conversation]:
        return [c for c in self.conversations.values() if c.alive]


@dataclass(frozen=True)
class RequestRecord:
    """One served request, as the request log shows it (no headers, no bodies: no secrets)."""

    t: float  # time.time()
    method: str
    path: str
    query: str
    status: int
