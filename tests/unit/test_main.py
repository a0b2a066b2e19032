"""The command line: tel:/callto: links, sub-command dispatch, checks before the window starts."""

from __future__ import annotations

import pytest

from app import gui, main


@pytest.mark.parametrize(
    ("argv", "rest", "link"),
    [
        (["tel:+14255550100"], [], "tel:+14255550100"),
        (["-v", "callto:+44%2020%207946%200000"], ["-v"], "callto:+44%2020%207946%200000"),
        (["--user", "sip:alice@contoso.com"], ["--user", "sip:alice@contoso.com"], None),
        (["call", "+14255550100"], ["call", "+14255550100"], None),
        (["call", "sip:bob@contoso.com"], ["call", "sip:bob@contoso.com"], None),
        (["-v", "call", "tel:5500"], ["-v", "call", "tel:5500"], None),
    ],
)
def test_a_link_is_taken_out_of_the_arguments(
    argv: list[str], rest: list[str], link: str | None
) -> None:
    assert main.split_link(argv) == (rest, link)


def test_a_link_never_reaches_the_subcommand_parser() -> None:
    argv, link = main.split_link(["TEL:+14255550100", "--server", "https://lync.contoso.com/"])
    args = main.build_parser(argv).parse_args(argv)
    assert link == "TEL:+14255550100"
    assert args.command is None
    assert args.server == "https://lync.contoso.com/"


def test_a_bad_window_option_exits_before_the_window_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.parse_args(["--callback", "12"])
    assert exit_.value.code == 2
    assert "--callback" in capsys.readouterr().err


def test_a_subcommand_gets_its_own_options_unchecked_by_the_window() -> None:
    args = main.parse_args(["call", "+14255550100", "--callback", "+14255550124"])
    assert args.command == "call" and args.callback == "+14255550124"


@pytest.mark.parametrize(
    ("env", "platform", "ok"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({}, "win32", True),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb;offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
    ],
)
def test_no_display_is_said_before_qt_would_abort(
    env: dict[str, str], platform: str, ok: bool
) -> None:
    assert (gui.display_problem(env, platform) is None) is ok
