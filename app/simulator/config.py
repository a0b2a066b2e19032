"""SimConfig: every knob of the simulator (speed, limits, accounts, optional modes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RedirectMode = Literal["none", "root", "user", "loop"]


def _default_users() -> dict[str, str]:
    return {"alice@contoso.com": "demo-password"}


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
    redirect: RedirectMode = "none"
    """'root': the discovery root answers only `redirect` to a second pool prefix; 'user': the
    authenticated user resource redirects; 'loop': two roots redirect to each other forever."""
    state_reset_s: float = 600
    """Silence (no P-GET) after which transient state is dropped and the next poll gets `resume`."""
    activity_limit_s: float = 3600
    """After makeMeAvailable: no reportMyActivity this long -> 410 InactiveApplicationExpired."""
    events_first: bool = False
    """Emit the invitation `started` event before answering the startPhoneAudio POST."""
    merge_events: bool = False
    """Aggregation (spec §7.4, check 34): within one response, an `updated`/`started` event is
    dropped when a later `updated`/`completed` event about the same resource follows."""
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
    """Browser origins allowed to send X-Ms-Origin (spec §1.1); others get 403."""
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
