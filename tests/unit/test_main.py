"""The command line: tel:/callto: links from a desktop URL handler and sub-command dispatch."""

from __future__ import annotations

import pytest

from app import main


@pytest.mark.parametrize(
    ("argv", "rest", "link"),
    [
        (["tel:+14255550100"], [], "tel:+14255550100"),
        (["-v", "callto:+44%2020%207946%200000"], ["-v"], "callto:+44%2020%207946%200000"),
        (["--user", "sip:alice@contoso.com"], ["--user", "sip:alice@contoso.com"], None),
        (["call", "+14255550100"], ["call", "+14255550100"], None),
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
