"""SimConfig: every knob of the simulator (speed, limits, accounts, optional modes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

RedirectMode = Literal["none", "root", "user", "loop", "host"]
Profile = Literal["permissive", "realistic"]
"""'permissive': everything is offered from the start (the simulator's original behaviour).
'realistic': behaves like the vendor's recorded walkthrough traces (see the knobs below)."""


# Base seconds a realistic server holds Medium events (the walkthrough's `communication updated`
# arrives "seconds later"); EventsInUCWA's default `medium` is 5 s.
REALISTIC_MEDIUM_HOLD_S = 3.0


# The demo account: the only place its published password is written down.
DEMO_USERS: Mapping[str, str] = MappingProxyType({"alice@contoso.com": "demo-password"})


def _default_users() -> dict[str, str]:
    return dict(DEMO_USERS)


@dataclass
class SimConfig:
    """Simulator settings; defaults behave like a Skype for Business Server 2019 front end."""

    speed: float = 1.0
    """Timing divisor: every scripted delay is base_seconds / speed (tests use 20-50)."""
    max_poll_s: float | None = None
    """Test-only cap on how long a P-GET is held; None honours the `timeout` parameter."""
    token_lifetime_s: float = 8 * 3600
    app_idle_limit_s: float = 900
    """An application is deleted when no new P-GET arrived this long after the last release."""
    sweep_interval_s: float = 30.0
    """How often a served simulator deletes expired applications that get no requests (their
    state and scripted far ends would stay otherwise). Not scaled: the limits are not either."""
    users: dict[str, str] = field(default_factory=_default_users)
    aad_authority: str | None = None
    """When set, 401s also carry a Bearer challenge with authorization_uri (+ client_id)."""
    aad_client_id: str = "00000004-0000-0ff1-ce00-000000000000"
    sip_domain: str = "contoso.com"
    server_fqdn: str = "lyncweb.contoso.com"
    """Name put into X-Ms-Diagnostics `source=` (the URLs use the real listening address)."""
    redirect: RedirectMode | None = None
    """'root': the discovery root answers only `redirect` to a second pool prefix; 'user': the
    authenticated user resource redirects; 'loop': two roots redirect to each other forever;
    'host': the authenticated user resource redirects to the same server under `pool_host`
    (another host name, so another origin). None: 'host' when realistic, else 'none'."""
    profile: Profile = "permissive"
    """Which defaults the None-valued knobs below take: 'realistic' turns each of them on."""
    lurker_start: bool | None = None
    """A fresh application's `communication` has no `startPhoneAudio` and `me` no
    `reportMyActivity` (nor presence/note/location) until makeMeAvailable succeeds; a POST to
    startPhoneAudio before that answers 409 MakeMeAvailableRequired."""
    repeat_make_me_available: bool | None = None
    """A second makeMeAvailable updates the callback number, audio preference and modalities
    (204 + `communication updated`) instead of answering 409 AlreadyExists."""
    link_only_phone_audio: bool | None = None
    """phoneAudio `updated` events carry only the link (no `_embedded`), as the phoneAudio_ref
    sample does: the client must GET the resource."""
    medium_hold_s: float | None = None
    """Medium/Low events wait this many base seconds (divided by speed) for company before a
    parked P-GET is released, also past a poll's timeout, and several about one resource merge
    into the latest (EventsInUCWA). None: the P-GET's own `medium`/`low` values, unscaled, and a
    timed-out poll takes everything queued. Realistic default: REALISTIC_MEDIUM_HOLD_S."""
    dial_plan: bool | None = None
    """Numbers are normalised by the user's dial plan (US): 4-digit extensions become
    `extension_prefix` + the 4 digits, 10-digit national numbers (optionally with a leading 1)
    get +1, `+` numbers are kept; `sip:` targets must be known users (`users` or
    `known_sip_users`). Anything else answers 400 NormalizationFailed. Off: the permissive rule
    (any 7-15 digits; a 10-digit number gets +1; any `sip:user@domain`)."""
    extension_prefix: str = "+1425555"
    """E.164 prefix a 4-digit extension is appended to (5500 -> +14255555500)."""
    known_sip_users: frozenset[str] = frozenset({"bob@contoso.com", "carol@contoso.com"})
    """Colleagues a `sip:` call target may name under the dial plan (besides `users`)."""
    pool_host: str = "localhost"
    """Host name of the pool for redirect 'host' (the port stays the same, so the one listening
    socket serves both names). A discovery host that already is `pool_host` does not redirect:
    serve on 127.0.0.1 (the default) to get the redirect to localhost."""
    token_realms: bool | None = None
    """A web ticket is valid only on the origin whose token URL issued it: another origin
    answers 401 with a challenge naming its own token URL."""
    calls_keep_alive: bool | None = None
    """An ongoing call counts as activity for `activity_limit_s`. Realistic: off, so only
    reportMyActivity keeps a made-available application alive."""
    incoming_ring_s: float = 10.0
    """How long an incoming phone-audio invitation (Simulator.ring_incoming) rings, in base
    seconds, before the caller gives up (completed, Failure/Missed)."""
    state_reset_s: float = 600
    """Silence (no P-GET) after which transient state is dropped and the next poll gets `resume`."""
    activity_limit_s: float = 3600
    """After makeMeAvailable: no reportMyActivity this long -> 410 InactiveApplicationExpired."""
    events_first: bool = False
    """Emit the invitation `started` event before answering the startPhoneAudio POST."""
    merge_events: bool = False
    """Aggregation (docs/protocol.md §7.4, §11 check 34): within one response, an
    `updated`/`started` event is dropped when a later `updated`/`completed` event about the same
    resource follows."""
    start_body: bool = False
    """Answer startPhoneAudio's 201 with the invitation body instead of an empty one."""
    no_phone_audio_users: frozenset[str] = frozenset()
    """Users without the phone-audio capability: no startPhoneAudio link, 403 on a forced POST."""
    callback_channel_grace_s: float = 1.0
    """startPhoneAudio answers 500 CallbackChannelError unless a P-GET is parked or the last one
    was released at most this long ago (the client's next one is on its way). Not scaled by
    speed: it stands for a network round trip, not for a scripted delay."""
    active_modality: str = "PhoneAudio"
    """Value put into conversation.activeModalities while phone audio is connected."""
    allowed_origins: frozenset[str] = frozenset()
    """Browser origins allowed to send X-Ms-Origin (docs/protocol.md §1.1); others get 403."""
    max_resource_version: float = 2.0
    """Highest X-MS-RequiresMinResourceVersion honoured; above -> 404 APIVersionNotSupported."""
    max_body_bytes: int = 64 * 1024
    phones: tuple[tuple[str, str], ...] = (("work", "+14255550123"), ("mobile", "+14255550124"))
    control_token: str | None = None
    """When set (the simulator embedded in the app), every /_sim/ call must carry it in the
    X-Sim-Control-Token header; a standalone `ucwa-phone sim` leaves it unset."""
    no_search_users: frozenset[str] = frozenset()
    """Users not allowed to search the address book: people/search answers 403 Forbidden."""

    def __post_init__(self) -> None:
        realistic = self.profile == "realistic"
        if self.profile not in ("permissive", "realistic"):
            raise ValueError("profile must be 'permissive' or 'realistic'")
        if self.redirect is None:
            self.redirect = "host" if realistic else "none"
        for name in (
            "lurker_start",
            "repeat_make_me_available",
            "link_only_phone_audio",
            "dial_plan",
            "token_realms",
        ):
            if getattr(self, name) is None:
                setattr(self, name, realistic)
        if self.calls_keep_alive is None:
            self.calls_keep_alive = not realistic
        if self.medium_hold_s is None and realistic:
            self.medium_hold_s = REALISTIC_MEDIUM_HOLD_S
        if self.medium_hold_s is not None and not self.medium_hold_s >= 0:
            raise ValueError("medium_hold_s must be >= 0 or None")
        if not self.speed > 0:
            raise ValueError("speed must be > 0")
        if self.max_poll_s is not None and not self.max_poll_s > 0:
            raise ValueError("max_poll_s must be > 0 or None")
        if not self.sweep_interval_s > 0:
            raise ValueError("sweep_interval_s must be > 0")
        if not self.callback_channel_grace_s >= 0:
            raise ValueError("callback_channel_grace_s must be >= 0")
        if not self.users:
            raise ValueError("at least one user is needed")

    def delay(self, base_seconds: float) -> float:
        """A scripted delay scaled by the speed factor."""
        return base_seconds / self.speed
