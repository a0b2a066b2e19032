"""Runs the sign-in chain step by step against a server, timing each step; cleans up after itself.

The steps are the ones a session's sign-in walks (discovery → sign-in → application →
makeMeAvailable → first event poll), built from the same app.ucwa pieces, so a step that passes
here passes for the window too. The sign-in is timed on its own by wrapping the token provider:
a server asks for it while discovery follows the user link (or, for some servers, on the
application request), and its time is taken off the step it happened in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import httpx

from app.diagnostics.advice import advice_for, diagnostics_of
from app.diagnostics.steps import STEPS, Outcome, Step, StepResult
from app.httpbody import EVENTS_LIMIT
from app.ucwa.application import Application
from app.ucwa.auth import AuthChallenge, TokenProvider, UcwaAuth
from app.ucwa.discovery import (
    DiscoveryError,
    MemoryDiscoveryCache,
    TrustRules,
    discover,
    trust_rules,
)
from app.ucwa.errors import AuthenticationError, UcwaError
from app.ucwa.eventchannel import EventChannel
from app.ucwa.eventdecoding import decode_answer
from app.ucwa.links import origin, with_params
from app.ucwa.transport import Transport

log = logging.getLogger(__name__)

__all__ = ["DEADLINE_S", "POLL_WAIT_S", "OnStep", "check_connection"]

OnStep = Callable[[StepResult], None]

DEADLINE_S: Final = 60.0  # the whole check; a step still running then fails as a timeout
# A healthy server may hold the first poll open until something happens: once it has held it this
# long without an error, the channel works.
POLL_WAIT_S: Final = 3.0
_CLEANUP_S: Final = 5.0
# A diagnostic repeats a failing request once, not four times: the user is waiting for an answer.
_ATTEMPTS: Final = 2


class _TimedTokens:
    """The real token provider, timed: when sign-in first ran, how long, and how it failed."""

    def __init__(self, inner: TokenProvider, clock: Callable[[], float]) -> None:
        self._inner = inner
        self._clock = clock
        self.calls = 0
        self.seconds = 0.0
        self.error: BaseException | None = None

    async def get_token(self, challenge: AuthChallenge, *, stale: str | None = None) -> str:
        self.calls += 1
        started = self._clock()
        try:
            return await self._inner.get_token(challenge, stale=stale)
        except Exception as exc:
            if self.error is None:
                self.error = exc  # the provider's own error: it carries code and diagnostics
            raise
        finally:
            self.seconds += self._clock() - started


def _message(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer before the check's time limit"
    text = getattr(exc, "user_message", None)
    if isinstance(text, str) and text:
        return text
    return type(exc).__name__


def _failed(step: Step, exc: BaseException, ms: int) -> StepResult:
    return StepResult(
        step,
        Outcome.FAILED,
        ms,
        _message(exc),
        diagnostics=diagnostics_of(exc),
        advice=advice_for(exc, step),
    )


class _Check:
    def __init__(
        self,
        transport: Transport,
        tokens: _TimedTokens,
        deadline: float,
        on_step: OnStep | None,
        clock: Callable[[], float],
    ) -> None:
        self.transport = transport
        self.tokens = tokens
        self.deadline = deadline  # on the event loop's clock
        self.on_step = on_step
        self.clock = clock
        self.results: list[StepResult] = []
        self.signed_in = False  # the sign-in step has a result

    def emit(self, result: StepResult) -> None:
        self.results.append(result)
        if self.on_step is not None:
            try:
                self.on_step(result)
            except Exception:
                log.exception("diagnostics listener failed")

    def skip_rest(self) -> None:
        done = {r.step for r in self.results}
        for step in STEPS:
            if step not in done:
                self.emit(StepResult(step, Outcome.SKIPPED))

    async def attempt(self, step: Step, action: Callable[[], Awaitable[str]]) -> bool:
        """Run one step (and the sign-in, if the server asks for it on the way); ``action``
        returns the step's detail text. True when the step passed."""
        calls, signing = self.tokens.calls, self.tokens.seconds
        started = self.clock()
        value = ""
        error: BaseException | None = None
        try:
            async with asyncio.timeout_at(self.deadline):
                value = await action()
        except Exception as exc:  # every failure is this step's result, whatever its type
            error = exc
        sign_in_s = self.tokens.seconds - signing
        ms = round((self.clock() - started - sign_in_s) * 1000)
        sign_in_ms = round(sign_in_s * 1000)
        asked = not self.signed_in and self.tokens.calls > calls
        # The server was reached and asked for sign-in; the sign-in itself failed: the provider
        # gave no token, we refused to send credentials, or the server rejected the token.
        refused = not self.signed_in and (
            isinstance(error, AuthenticationError) or (asked and self.tokens.error is not None)
        )
        if refused:
            cause = self.tokens.error if self.tokens.error is not None else error
            assert cause is not None
            first = StepResult(step, Outcome.OK, ms, "the server asked for sign-in")
            failed = _failed(Step.SIGN_IN, cause, sign_in_ms)
            self._emit_with_sign_in(step, first, failed)
            return False
        mine = _failed(step, error, ms) if error is not None else None
        if mine is None:
            mine = StepResult(step, Outcome.OK, ms, value)
        if asked:
            self._emit_with_sign_in(
                step, mine, StepResult(Step.SIGN_IN, Outcome.OK, sign_in_ms, "token received")
            )
        elif step is Step.APPLICATION and not self.signed_in:
            self._emit_with_sign_in(
                step, mine, StepResult(Step.SIGN_IN, Outcome.OK, 0, "the server asked for none")
            )
        else:
            self.emit(mine)
        return error is None

    def _emit_with_sign_in(self, step: Step, result: StepResult, sign_in: StepResult) -> None:
        self.signed_in = True
        # Discovery comes before the sign-in it leads to; any later step needed it first.
        pair = (result, sign_in) if step is Step.DISCOVERY else (sign_in, result)
        for item in pair:
            self.emit(item)


async def check_connection(
    http: httpx.AsyncClient,
    tokens: TokenProvider,
    *,
    discovery_url: str | None = None,
    address: str | None = None,
    allowed_domains: Sequence[str] = (),
    deadline_s: float = DEADLINE_S,
    poll_wait_s: float = POLL_WAIT_S,
    on_step: OnStep | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[StepResult]:
    """Walk the chain once; one result per step, in order (``on_step`` hears each as it ends).

    Uses an endpoint id of its own, so the application it creates never is (nor replaces) the
    one a running window uses; that application is deleted before returning. Never raises for
    what the server does: every failure is a step's result.
    """
    loop = asyncio.get_running_loop()
    timed = _TimedTokens(tokens, clock)
    check = _Check(
        Transport(http, None, max_attempts=_ATTEMPTS),
        timed,
        loop.time() + deadline_s,
        on_step,
        clock,
    )
    try:
        rules = trust_rules(
            address=address, discovery_url=discovery_url, allowed_domains=tuple(allowed_domains)
        )
    except DiscoveryError as exc:
        check.emit(_failed(Step.DISCOVERY, exc, 0))
        check.skip_rest()
        return check.results
    auth = UcwaAuth(timed, allowed=rules.allows)
    check.transport.auth = auth
    application = Application(
        check.transport,
        rules=rules,
        cache=MemoryDiscoveryCache(),
        address=address,
        discovery_url=discovery_url,
        endpoint_id=str(uuid.uuid4()),
        user_agent="UcwaPhone/0.1 (doctor)",
        culture="en-US",
        open_channel=_no_channel,
    )
    try:
        await _walk(check, application, address, discovery_url, rules, poll_wait_s)
    finally:
        await _clean_up(check.transport, application)
        auth.forget()
    check.skip_rest()
    return check.results


def _no_channel(url: str) -> EventChannel:
    raise AssertionError("the check polls the event channel itself")  # pragma: no cover


async def _walk(
    check: _Check,
    application: Application,
    address: str | None,
    discovery_url: str | None,
    rules: TrustRules,
    poll_wait_s: float,
) -> None:
    transport = check.transport

    found: list[str] = []

    async def find() -> str:
        where = await discover(transport, address=address, discovery_url=discovery_url, rules=rules)
        found.append(where.applications_url)
        return f"UCWA at {httpx.URL(where.applications_url).host}"

    async def create() -> str:
        await application.create(found[0])
        return "created"

    async def make_me_available() -> str:
        return await application.make_me_available_or_raise()

    async def first_poll() -> str:
        return await _first_poll(transport, application, poll_wait_s)

    for step, action in (
        (Step.DISCOVERY, find),
        (Step.APPLICATION, create),
        (Step.MAKE_ME_AVAILABLE, make_me_available),
        (Step.EVENT_POLL, first_poll),
    ):
        if not await check.attempt(step, action):
            return


async def _first_poll(transport: Transport, application: Application, wait_s: float) -> str:
    assert application.resource is not None
    events = application.resource.link("events")
    assert events is not None  # Application.create checked it
    url = with_params(events, timeout=180)
    try:
        async with asyncio.timeout(wait_s):
            # Our own wait cuts the poll short; the transport's must not fire first.
            response = await transport.request("GET", url, timeout_s=240.0, limit=EVENTS_LIMIT)
    except TimeoutError:
        return f"the server holds the poll open (normal); waited {wait_s:g} s"
    batch, _ = await decode_answer(
        response.content,
        origin(application.base or events),
        content_type=response.headers.get("content-type"),
    )
    return f"answered with {len(batch.events)} event(s)"


async def _clean_up(transport: Transport, application: Application) -> None:
    resource, application.resource = application.resource, None
    if resource is None:
        return
    with contextlib.suppress(UcwaError, TimeoutError, OSError, httpx.HTTPError):
        async with asyncio.timeout(_CLEANUP_S):
            await transport.request("DELETE", resource.href, retry=False, timeout_s=_CLEANUP_S)
            return
    log.info("could not delete the diagnostics application")
