"""Composition root: command line, logging, and dispatch to the GUI or a headless sub-command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from app import __version__, logs

# name -> (module, help). Modules are imported only when their command runs, so the GUI's start
# time does not pay for the simulator or the CLI.
_COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("app.commands.sim", "serve the UCWA simulator over HTTP"),
    "call": ("app.commands.call", "place one call headless and print its states"),
    "login": ("app.commands.login", "sign in and keep the tokens in the OS keyring"),
    "logout": ("app.commands.logout", "sign out; --forget removes every stored entry"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ucwa-phone", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    module = getattr(args, "_module", None)
    if module is None:
        print(
            "ucwa-phone: the window arrives with a later issue; try `ucwa-phone sim`",
            file=sys.stderr,
        )
        return 2
    result: int = module.run(args)
    return result
