"""`python -m tests.helpers.signin_probe`: a fresh process signs in from settings + keyring only."""

from __future__ import annotations

import asyncio
import sys

from app import logs, settings, wiring
from app.commands.login import error_text
from app.ucwa.errors import UcwaError


async def main() -> int:
    config = settings.load()
    async with wiring.make_http(config) as http:
        # No password, no prompt, no browser, no device code: only what the keyring holds.
        service = wiring.sign_in_service(http, config, interaction="none")
        session = wiring.session(http, service, config, keep=True)
        try:
            await session.sign_in()
        except UcwaError as exc:
            print(f"failed: {error_text(exc)}")
            return 1
        finally:
            await session.aclose()
    print(f"ok {service.method_used} {service.aad.last_source or '-'}")
    return 0


if __name__ == "__main__":
    logs.configure(2)
    sys.exit(asyncio.run(main()))
