"""The public surface of app.ucwa is exactly what __all__ says (httpx's exported-members test)."""

from __future__ import annotations

import app.ucwa


def test_exported_members() -> None:
    exported = {name for name in dir(app.ucwa) if not name.startswith("_")} - {"annotations"}
    modules = {name for name in exported if type(getattr(app.ucwa, name)).__name__ == "module"}
    assert exported - modules == set(app.ucwa.__all__)
    for name in app.ucwa.__all__:
        assert getattr(app.ucwa, name).__module__.startswith("app.ucwa.")


def test_the_names_the_gui_and_cli_rely_on_are_public() -> None:
    needed = {
        "UcwaSession",
        "SessionListener",
        "TokenProvider",
        "AuthChallenge",
        "CallState",
        "CallAction",
        "CallReason",
        "CallSnapshot",
        "ConnectionState",
        "SessionStatus",
        "UcwaError",
        "AuthenticationError",
        "InvalidNumber",
        "CallFailed",
    }
    assert needed <= set(app.ucwa.__all__)
