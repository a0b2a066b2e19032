"""`ucwa-phone login`: sign in once (web ticket or Azure AD); tokens go to the OS keyring."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from app import settings as settings_mod
from app.auth.errors import AuthError
from app.auth.msal_provider import DeviceCode, Interaction
from app.auth.service import METHODS
from app.logs import register_secret
from app.settings import Settings
from app.ucwa.errors import UcwaError
from app.wiring import (
    PASSWORD_ENV,
    CaBundleUnreadable,
    discovery_url,
    env_password,
    make_http,
    session,
    sign_in_service,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--address", help="sign-in address user@domain (autodiscovery)")
    target.add_argument("--server", metavar="URL", help="server or discovery URL instead")
    parser.add_argument("--user", metavar="NAME", help="user name (default: the address)")
    parser.add_argument("--method", choices=METHODS, help="web ticket (on-premises) or Azure AD")
    parser.add_argument(
        "--remember-password",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the password in the keyring so an expired token renews silently",
    )
    parser.add_argument("--ca-bundle", metavar="PEM", help="extra CA bundle for a private PKI")
    parser.add_argument("--aad-authority", metavar="URL", help="Azure AD / ADFS authority")
    parser.add_argument("--aad-client-id", metavar="ID", help="Azure AD application (client) id")
    parser.add_argument(
        "--device-code", action="store_true", help="Azure AD: show a code instead of a browser"
    )
    parser.epilog = (
        f"The password is read from ${PASSWORD_ENV} or asked for on the terminal; "
        "it is never taken from the command line."
    )


def apply_arguments(settings: Settings, args: argparse.Namespace) -> Settings:
    changes: dict[str, object] = {}
    if args.address:
        changes.update(address=args.address, discovery_url=None)
    if args.server:
        changes.update(discovery_url=discovery_url(args.server), address=None)
    for name in ("user", "method", "remember_password", "ca_bundle", "aad_authority"):
        if getattr(args, name, None) is not None:
            changes[name] = getattr(args, name)
    if getattr(args, "aad_client_id", None):
        changes["aad_client_id"] = args.aad_client_id
    return settings.replace(**changes) if changes else settings


async def terminal_password(user: str) -> str | None:
    """$UCWA_PHONE_PASSWORD, else a getpass prompt on a terminal, else None (cannot ask)."""
    password = env_password()
    if password:
        return password
    if not sys.stdin.isatty():
        return None
    typed = await asyncio.to_thread(getpass.getpass, f"Password for {user}: ")
    register_secret(typed)
    return typed or None


def show_device_code(code: DeviceCode) -> None:
    print(code.text, file=sys.stderr, flush=True)


def error_text(exc: BaseException) -> str:
    """The sentence to print: the sign-in error's own advice when ucwa wrapped one."""
    cause = exc.__cause__
    if isinstance(cause, AuthError):
        return cause.user_message
    if isinstance(exc, AuthError | UcwaError):
        return exc.user_message
    return "Sign-in failed."


def run(args: argparse.Namespace) -> int:
    settings = apply_arguments(settings_mod.load(), args)
    if not settings.configured:
        print("ucwa-phone login: give --address user@domain or --server URL", file=sys.stderr)
        return 2
    settings_mod.save(settings)  # never holds a password or token
    interaction: Interaction = "device_code" if args.device_code else "auto"
    return asyncio.run(_login(settings, interaction))


async def _login(settings: Settings, interaction: Interaction) -> int:
    try:
        http = make_http(settings)
    except CaBundleUnreadable as exc:
        print(f"ucwa-phone login: {exc}", file=sys.stderr)
        return 3  # like `call`: the session could not be set up
    async with http:
        service = sign_in_service(
            http,
            settings,
            password_prompt=terminal_password,
            on_device_code=show_device_code,
            interaction=interaction,
        )
        ucwa = session(http, service, settings, keep=True)
        try:
            await ucwa.sign_in()
        except (UcwaError, AuthError) as exc:
            print(f"ucwa-phone login: {error_text(exc)}", file=sys.stderr)
            return 1
        finally:
            await ucwa.aclose()
        if service.method_used and service.method_used != settings.method:
            settings_mod.save(settings.replace(method=service.method_used))
        notice = await service.keyring_notice()
    print(f"Signed in as {service.signed_in_as or settings.address}.")
    if notice:
        print(notice, file=sys.stderr)
    else:
        print("Your sign-in is kept in the system keyring; `ucwa-phone logout` removes it.")
    return 0
