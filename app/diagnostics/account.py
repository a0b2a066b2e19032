"""A connection check for an account from the settings: builds the client the way the app does."""

from __future__ import annotations

import ssl

import httpx

from app.diagnostics.advice import ADVICE, Failure
from app.diagnostics.runner import DEADLINE_S, POLL_WAIT_S, OnStep, check_connection
from app.diagnostics.steps import STEPS, Outcome, Step, StepResult
from app.settings import Settings
from app.wiring import make_http, token_provider

__all__ = ["check_account"]


async def check_account(
    settings: Settings,
    *,
    password: str | None,
    keep: bool,
    on_step: OnStep | None = None,
    deadline_s: float = DEADLINE_S,
    poll_wait_s: float = POLL_WAIT_S,
) -> list[StepResult]:
    """Check ``settings``' account. ``keep=False`` (the demo account) touches no keyring; no
    sign-in ever asks a person (no browser, no device code): only a password or saved sign-in."""
    try:
        http = make_http(settings)
    except (OSError, ssl.SSLError) as exc:  # the CA bundle cannot be read
        return _unusable_bundle(exc, on_step)
    async with http:
        return await _check(http, settings, password, keep, on_step, deadline_s, poll_wait_s)


async def _check(
    http: httpx.AsyncClient,
    settings: Settings,
    password: str | None,
    keep: bool,
    on_step: OnStep | None,
    deadline_s: float,
    poll_wait_s: float,
) -> list[StepResult]:
    tokens = token_provider(http, settings, keep=keep, password=password, interaction="none")
    return await check_connection(
        http,
        tokens,
        discovery_url=settings.discovery_url,
        address=settings.address,
        allowed_domains=settings.allowed_redirect_domains,
        deadline_s=deadline_s,
        on_step=on_step,
        poll_wait_s=poll_wait_s,
    )


def _unusable_bundle(exc: BaseException, on_step: OnStep | None) -> list[StepResult]:
    results = [
        StepResult(
            Step.DISCOVERY,
            Outcome.FAILED,
            0,
            f"the CA bundle cannot be used ({type(exc).__name__})",
            advice=ADVICE[Failure.TLS],
        )
    ]
    results += [StepResult(step, Outcome.SKIPPED) for step in STEPS[1:]]
    for result in results:
        if on_step is not None:
            on_step(result)
    return results
