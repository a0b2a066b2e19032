"""`ucwa-phone doctor`: test the connection step by step and say what to try when one fails."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from app import settings as settings_mod
from app.diagnostics.account import check_account
from app.diagnostics.report import environment
from app.diagnostics.runner import DEADLINE_S
from app.diagnostics.steps import StepResult
from app.logs import secrets
from app.wiring import PASSWORD_ENV, discovery_url, env_password

EXIT_OK = 0
EXIT_FAILED = 1  # a step failed (it says why and what to try)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be a number of seconds between 0 and 600")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="DISCOVERY_URL", help="discovery URL or server name")
    parser.add_argument("--user", metavar="NAME", help="user name (default: the configured one)")
    parser.add_argument("--ca-bundle", metavar="PEM", help="extra CA bundle for a private PKI")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument(
        "--timeout", type=_seconds, default=DEADLINE_S, metavar="S", help="limit for the check"
    )
    parser.epilog = (
        f"Runs discovery, sign-in, application, makeMeAvailable and the first event poll, each "
        f"with its time; a failed step shows the server's X-Ms-Diagnostics text and what to try. "
        f"The password comes from ${PASSWORD_ENV} or the keyring (ucwa-phone login), never from "
        "the command line. Without --server the configured account is used, else the built-in "
        "simulator. Exit status: 0 every step ok, 1 a step failed, 2 bad input."
    )


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


@dataclass(frozen=True)
class _Target:
    account: settings_mod.Settings
    password: str | None
    keep: bool  # False for the demo account: no keyring


class _Usage(Exception):
    """Bad command-line input: one line on stderr, exit status 2."""


@contextlib.contextmanager
def _target(args: argparse.Namespace, settings: settings_mod.Settings) -> Iterator[_Target]:
    if args.server:
        if not args.server.startswith(("https://", "http://")) and "." not in args.server:
            raise _Usage(f"--server {args.server!r} is neither a URL nor a server name")
        user = args.user or settings.user or settings.address
        if not user:
            raise _Usage("give --user NAME to sign in to --server")
        account = settings.replace(
            discovery_url=discovery_url(args.server), user=user, address=None
        )
        yield _Target(account, env_password(), keep=True)
    elif settings.configured:
        account = settings.replace(user=args.user) if args.user else settings
        yield _Target(account, env_password(), keep=True)
    else:
        from app.demo_server import DemoServer  # only demo mode pays for the simulator

        with DemoServer() as demo:
            print(
                f"ucwa-phone doctor: no account configured; checking the built-in simulator "
                f"({demo.discovery_url}) as {demo.user}",
                file=sys.stderr,
                flush=True,
            )
            account = settings.replace(discovery_url=demo.discovery_url, user=demo.user)
            yield _Target(account, demo.password, keep=False)


def _fail(message: str, code: int) -> int:
    print(f"ucwa-phone doctor: {secrets.scrub(message)}", file=sys.stderr, flush=True)
    return code


async def _main(args: argparse.Namespace) -> int:
    settings = settings_mod.load()
    if args.ca_bundle:
        settings = settings.replace(ca_bundle=args.ca_bundle)  # this run only, not saved
    try:
        with _target(args, settings) as target:
            return await _check(args, target)
    except _Usage as exc:
        return _fail(str(exc), EXIT_USAGE)
    except OSError as exc:  # the demo simulator could not start
        return _fail(f"cannot start: {exc}", EXIT_FAILED)


async def _check(args: argparse.Namespace, target: _Target) -> int:
    def show(result: StepResult) -> None:
        if not args.json:
            print(secrets.scrub(result.line()), flush=True)

    account = target.account
    if not args.json:
        where = account.discovery_url or account.address or ""
        print(f"Testing {where} as {account.user or account.address}", flush=True)
    results = await check_account(
        account,
        password=target.password,
        keep=target.keep,
        on_step=show,
        deadline_s=args.timeout,
    )
    ok = all(result.ok for result in results)
    if args.json:
        doc = {
            "ok": ok,
            "environment": environment(account),
            "steps": [result.as_dict() for result in results],
        }
        print(secrets.scrub(json.dumps(doc, ensure_ascii=False)), flush=True)
    else:
        print("All steps ok." if ok else "A step failed; see above for what to try.", flush=True)
    return EXIT_OK if ok else EXIT_FAILED
