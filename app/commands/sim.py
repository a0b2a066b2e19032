"""`ucwa-phone sim`: serve the UCWA simulator over HTTP(S) in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

from app.simulator import SimConfig, Simulator
from app.simulator.aad import AadProvider
from app.simulator.serve import SimServer

log = logging.getLogger(__name__)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    parser.add_argument(
        "--speed", type=_positive, default=1.0, help="timing divisor for the scripted far end"
    )
    parser.add_argument("--tls", action="store_true", help="HTTPS with a generated certificate")
    parser.add_argument(
        "--aad",
        action="store_true",
        help="also act as an Azure AD-style identity provider (modern auth; implies --tls)",
    )
    parser.add_argument(
        "--max-poll", type=_positive, default=None, metavar="S", help="cap on P-GET hold time"
    )
    parser.add_argument(
        "--token-lifetime", type=_positive, default=8 * 3600, metavar="S", help="token lifetime"
    )
    parser.add_argument(
        "--profile",
        choices=("realistic", "permissive"),
        default=SimConfig.profile,
        help="realistic: behaves like the vendor's recorded traces; permissive: offers everything",
    )


def run(args: argparse.Namespace) -> int:
    config = SimConfig(
        speed=args.speed,
        max_poll_s=args.max_poll,
        token_lifetime_s=args.token_lifetime,
        profile=args.profile,
    )
    sim = Simulator(config)
    idp = None
    if args.aad:
        # msal accepts only https authorities, so the identity provider forces TLS.
        idp = AadProvider(users=config.users, token_lifetime_s=args.token_lifetime)
        idp.install(sim)
    try:
        return asyncio.run(_serve(sim, args.host, args.port, args.tls or args.aad, idp))
    except KeyboardInterrupt:  # a second Ctrl+C while stopping
        return 0


async def _serve(
    sim: Simulator, host: str, port: int, tls: bool, idp: AadProvider | None = None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        server = SimServer(sim, host=host, port=port, tls=tls)
        async with server:
            user, password = next(iter(sim.config.users.items()))
            line: dict[str, str | None] = {
                "discovery": server.discovery_url,
                "user": user,
                "password": password,
                "base": server.base_url,
                "ca": server.ca_pem_path,
            }
            if idp is not None:
                # The 401 Bearer challenge names this authority, so clients can find it.
                sim.config.aad_authority = idp.authority(server.base_url)
                line["aad_authority"] = sim.config.aad_authority
                line["aad_client_id"] = sim.config.aad_client_id
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            print(
                f"UCWA simulator: discovery {server.discovery_url}\n"
                f"  sign in as {user} (password: see the JSON line); dial +14255550100..110"
                " for the scenarios"
                " (see README); Ctrl+C stops.",
                file=sys.stderr,
                flush=True,
            )
            await stop.wait()
    except (OSError, RuntimeError) as exc:  # e.g. the port is taken
        print(f"ucwa-phone sim: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0
