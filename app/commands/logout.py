"""`ucwa-phone logout [--forget]`: sign out; --forget removes every keyring entry the app made."""

from __future__ import annotations

import argparse
import asyncio

import httpx

from app import settings as settings_mod
from app.wiring import sign_in_service


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--forget",
        action="store_true",
        help="also remove remembered passwords and tokens of every account",
    )
    parser.add_argument(
        "--user", metavar="NAME", help="the account to sign out (default: settings)"
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_mod.load()
    if args.user:
        settings = settings.replace(user=args.user)
    return asyncio.run(_logout(settings, forget=args.forget))


async def _logout(settings: settings_mod.Settings, *, forget: bool) -> int:
    async with httpx.AsyncClient() as http:  # nothing is sent; the providers want a client
        service = sign_in_service(http, settings, interaction="none")
        removed = await service.logout(forget=forget)
        notice = await service.keyring_notice()
    who = service.username or "the current account"
    if forget:
        print(f"Signed out {who} and removed {removed} stored keyring entries.")
    else:
        print(f"Signed out {who}. Run `ucwa-phone logout --forget` to remove everything.")
    if notice:
        print(notice)
    return 0
