"""Entry point of `ucwa-phone`: parses the command line, hands over to the window or a command."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence

from app import __version__, logs

# name -> (module, help). Modules are imported only when their command runs, so the window's start
# does not pay for the simulator or the CLI (nor a command for Qt).
_COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("app.commands.sim", "serve the UCWA simulator over HTTP"),
    "call": ("app.commands.call", "place one call headless and print its states"),
    "login": ("app.commands.login", "sign in and keep the tokens in the OS keyring"),
    "logout": ("app.commands.logout", "sign out; --forget removes every stored entry"),
    "doctor": ("app.commands.doctor", "test the connection step by step, with advice"),
    "history": ("app.commands.history", "print the call history (--json, --limit N, --demo)"),
}
_VALUE_OPTIONS = {"--server", "--user", "--callback"}  # top-level options that take a value

# What a desktop's URL handler passes (`ucwa-phone %u`, the Windows .reg "%1").
_LINK = re.compile(r"^(tel|callto|sip):", re.IGNORECASE)


def split_link(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """Take a tel:/callto:/sip: link out of argv, so the parser never mistakes it for a COMMAND.

    After a COMMAND nothing is a link: `ucwa-phone call sip:bob@contoso.com` dials an address.
    """
    for i, token in enumerate(argv):
        after_option = i > 0 and argv[i - 1] in _VALUE_OPTIONS
        if token in _COMMANDS and not after_option:
            break
        if _LINK.match(token) and not after_option:
            return [*argv[:i], *argv[i + 1 :]], token
    return list(argv), None


def _wanted_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in argv (so only its module is imported), or None for the window."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            return token if token in _COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``argv`` only the sub-command it names is imported."""
    wanted = None if argv is None else _wanted_command(argv)
    parser = argparse.ArgumentParser(
        prog="ucwa-phone",
        description="Skype for Business call via work. Without a COMMAND the window opens "
        "(demo mode with a built-in simulator when no account is set up).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--server", metavar="DISCOVERY_URL", help="sign in to this server")
    parser.add_argument("--user", metavar="NAME", help="user name for --server")
    parser.add_argument(
        "--callback", metavar="+NUMBER", help="the phone the server rings first (E.164)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if argv is None or name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(command)
            command.set_defaults(_module=module)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """argv (without the program name) as options; ``link`` holds a tel:/callto:/sip: link.

    The window's options are checked here, so a bad one exits (status 2) before Qt starts.
    """
    rest, link = split_link(argv)
    parser = build_parser(rest)
    args = parser.parse_args(rest)
    args.link = link
    if getattr(args, "_module", None) is not None:
        return args
    if args.callback:
        from app.ucwa import dialing
        from app.ucwa.errors import InvalidNumber

        try:
            args.callback = dialing.phone_number(args.callback)
        except InvalidNumber:
            parser.error(f"--callback {args.callback!r} is not a phone number like +14255550123")
    if args.server and not args.server.startswith(("https://", "http://")):
        parser.error("--server needs the discovery URL, e.g. https://lyncdiscover.contoso.com/")
    return args


def run(argv: Sequence[str] | None = None) -> int:
    """`ucwa-phone [options] [COMMAND ...]`; returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure(args.verbose)
    module = getattr(args, "_module", None)
    if module is not None:
        result: int = module.run(args)
        return result
    from app import gui

    problem = gui.display_problem(os.environ, sys.platform)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return gui.run(args)
