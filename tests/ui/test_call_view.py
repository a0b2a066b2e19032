"""The state card and call buttons show what the view-models say: words, icon, colour, enabled."""

from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot

from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel, drive_call


def _visible_enabled(window: MainWindow) -> dict[str, tuple[bool, bool]]:
    controls = window.controls
    return {
        b.objectName(): (b.isVisibleTo(window), b.isEnabled())
        for b in (
            controls.callButton,
            controls.holdButton,
            controls.resumeButton,
            controls.hangUpButton,
        )
    }


@pytest.mark.parametrize(
    ("state", "kind", "icon", "headline"),
    [
        ("idle", "neutral", "state-idle", "Ready to call"),
        ("calling_you", "progress", "state-calling-you", "Calling your phone — pick up"),
        ("connecting", "progress", "state-connecting", "Connecting to +1 425-555-0100…"),
        (
            "ringing_them",
            "progress",
            "state-connecting",
            "Your phone is connected, ringing +1 425-555-0100…",
        ),
        ("connected", "good", "state-connected", "Connected"),
        ("on_hold", "paused", "state-on-hold", "On hold"),
        ("failed", "bad", "state-failed", "Ended — the line was busy"),
        ("ended", "neutral", "state-ended", "Call ended"),
    ],
)
def test_indicator_shows_colour_icon_and_words(
    window: MainWindow, shell: FakeAppViewModel, state: str, kind: str, icon: str, headline: str
) -> None:
    drive_call(shell.call, state, connected_at=time.monotonic() - 5)
    indicator = window.findChild(type(window.callView.indicator), "stateIndicator")
    assert indicator is window.callView.indicator
    assert (indicator.look.kind, indicator.look.icon) == (kind, icon)
    assert indicator.look.headline == headline
    # The label keeps phone numbers on one line with no-break spaces.
    assert indicator.headline.text() == headline.replace("+1 425", "+1\u00a0425")
    assert indicator.accessibleDescription().startswith(headline)


def test_controls_follow_the_view_model_exactly(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    shell.dialer.setNumber("+14255550100")
    assert _visible_enabled(window)["callButton"] == (True, True)
    assert not window.controls.hangUpButton.isVisibleTo(window)

    drive_call(shell.call, "calling_you")
    state = _visible_enabled(window)
    assert state["callButton"][0] is False
    assert state["hangUpButton"] == (True, True)
    assert window.controls.hangUpButton.text() == "Cancel"
    assert state["holdButton"] == (True, False)  # shown, but the server offers no hold yet

    drive_call(shell.call, "connected", connected_at=time.monotonic())
    assert window.controls.hangUpButton.text() == "Hang up"
    assert _visible_enabled(window)["holdButton"] == (True, True)

    drive_call(shell.call, "on_hold", connected_at=time.monotonic())
    state = _visible_enabled(window)
    assert state["resumeButton"] == (True, True)
    assert state["holdButton"][0] is False

    # An action the server has not offered stays disabled even mid-call.
    shell.call.set(canHangUp=False)
    assert not window.controls.hangUpButton.isEnabled()
    assert not window.hangUpAction.isEnabled()


def test_call_timer_runs_only_while_connected(
    window: MainWindow, shell: FakeAppViewModel, qtbot: QtBot
) -> None:
    ticker = window.callView.ticker
    assert not ticker.isActive()
    drive_call(shell.call, "calling_you")
    assert not ticker.isActive()
    drive_call(shell.call, "ringing_them")  # the far end has not answered: no timer yet
    assert not ticker.isActive()
    drive_call(shell.call, "connected", connected_at=time.monotonic() - 61.2)
    assert ticker.isActive()
    timer = window.callView.indicator.timer
    assert timer.isVisibleTo(window)
    assert timer.text() == "01:01"
    shell.call.set(connectedAt=time.monotonic() - 3601.5)
    qtbot.waitUntil(lambda: timer.text() == "1:00:01", timeout=2500)
    drive_call(shell.call, "ended")
    assert not ticker.isActive()
    assert not timer.isVisibleTo(window)


def test_no_timer_runs_in_an_idle_window(window: MainWindow) -> None:
    from PySide6.QtCore import QTimer

    running = [t.objectName() or repr(t) for t in window.findChildren(QTimer) if t.isActive()]
    assert running == []


REASONS = [
    ("Ended — the line was busy", "The line was busy."),
    ("Ended — the call was declined", "The call was declined."),
    ("Ended — nobody answered", "Nobody answered."),
    ("Ended — your phone did not answer", "Your phone did not answer."),
    ("Ended — the number could not be reached", "The number could not be reached."),
    ("Ended — the number does not exist", "The number does not exist."),
    ("Ended — they do not want to be disturbed", "They do not want to be disturbed."),
    ("Call failed", "The call failed (RemoteFailure/QuantumFluxOverload)."),
]


@pytest.mark.parametrize(("headline", "reason"), REASONS)
def test_each_failure_shows_its_reason_in_words(
    window: MainWindow, shell: FakeAppViewModel, headline: str, reason: str
) -> None:
    drive_call(shell.call, "failed")
    shell.call.set(stateText=headline, reasonText=reason)
    indicator = window.callView.indicator
    shown = f"{indicator.look.headline} {indicator.look.detail}".lower()
    assert reason.rstrip(".").lower() in shown
    assert indicator.look.kind == "bad"
    assert reason.rstrip(".").lower() in indicator.accessibleDescription().lower()
    assert window.controls.callButton.isVisibleTo(window)


def test_forwarded_call_names_who_answered(window: MainWindow, shell: FakeAppViewModel) -> None:
    drive_call(shell.call, "connected", connected_at=time.monotonic())
    shell.call.set(answeredBy="Front desk (+1 425-555-0199)")
    assert "answered by Front desk" in window.callView.indicator.detail.text()


def test_reconnecting_outranks_the_call_state(window: MainWindow, shell: FakeAppViewModel) -> None:
    drive_call(shell.call, "connected", connected_at=time.monotonic())
    shell.set(connectionState="reconnecting", statusText="Reconnecting…")
    indicator = window.callView.indicator
    assert indicator.look.headline == "Reconnecting…"
    assert indicator.look.icon == "state-reconnecting"
    assert "Connected" in indicator.look.detail
    shell.set(connectionState="signed_in", statusText="Signed in as alice@contoso.com")
    assert indicator.look.headline == "Connected"


def test_in_call_hint_says_digits_go_on_the_desk_phone(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    assert not window.controls.hint.isVisibleTo(window)
    drive_call(shell.call, "connected", connected_at=time.monotonic())
    assert window.controls.hint.isVisibleTo(window)
    assert "desk phone" in window.controls.hint.text()


def test_accessible_description_changes_on_every_state(
    window: MainWindow, shell: FakeAppViewModel
) -> None:
    seen = []
    for state in ("calling_you", "connecting", "connected", "on_hold", "failed"):
        drive_call(shell.call, state, connected_at=time.monotonic())
        seen.append(window.callView.indicator.accessibleDescription())
    assert len(set(seen)) == len(seen)
