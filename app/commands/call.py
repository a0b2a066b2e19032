"""`ucwa-phone call`: place one call headless, print each state change, exit with its outcome."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

import httpx

from app import settings as settings_mod
from app.history.service import HistoryService
from app.ucwa import (
    AuthenticationError,
    CallAction,
    CallFailed,
    CallSnapshot,
    CallState,
    ConnectionState,
    InvalidNumber,
    LocalError,
    LocalProtocolError,
    SessionStatus,
    TransportError,
    UcwaError,
    UcwaSession,
)
from app.ucwa.dialing import DialTarget, dial_target, phone_number, resolve_region
from app.ucwa.people import Contact, is_name_query
from app.wiring import (
    PASSWORD_ENV,
    CaBundleUnreadable,
    discovery_url,
    env_password,
    make_http,
    token_provider,
)
from app.wiring import session as make_session

_T = TypeVar("_T")

# Exit codes: scripts branch on these.
EXIT_ENDED = 0  # the call ended normally (either side hung up)
EXIT_CALL_FAILED = 1  # busy, declined, no answer, ... (the reason is printed)
EXIT_USAGE = 2  # bad arguments or an invalid number (nothing was sent)
EXIT_SESSION = 3  # sign-in failed, server unreachable, connection lost or taken over
EXIT_INTERRUPTED = 130

# How long a timed action waits for the server to offer it (e.g. hold right after connecting).
_OFFER_WAIT_S = 5.0
# How long hanging up after Ctrl-C may take: the user asked to quit, and leaving still deletes
# the application, which ends the call on the server anyway.
_HANG_UP_WAIT_S = 5.0
# A call that is not yet connected and shows no change for this long is given up: without a
# bound a server that accepted the call but never reports on it would keep the command (and a
# script waiting for it) hanging forever. Generous: a far end may ring for a minute.
_NO_PROGRESS_S = 120.0


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds >= 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "number",
        help="what to call: +14255550100, a national number, an extension such as 5500 "
        "(completed by your company's dial plan), sip:bob@contoso.com or bob@contoso.com, "
        'or a name to look up in the address book ("Carol")',
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--server", metavar="DISCOVERY_URL", help="discovery URL or server name")
    target.add_argument("--address", metavar="USER@DOMAIN", help="sign-in address (autodiscovery)")
    parser.add_argument("--user", metavar="NAME", help="user name (default: the address)")
    parser.add_argument("--callback", metavar="+NUMBER", help="your phone the server rings first")
    parser.add_argument(
        "--hold-after", type=_seconds, metavar="S", help="hold S s after connecting"
    )
    parser.add_argument(
        "--resume-after", type=_seconds, metavar="S", help="resume S s after connecting"
    )
    parser.add_argument(
        "--hangup-after", type=_seconds, metavar="S", help="hang up S s after connecting"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per state change")
    parser.add_argument("--ca-bundle", metavar="PEM", help="extra CA bundle for a private PKI")
    parser.add_argument("--demo-speed", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.epilog = (
        f"The password comes from ${PASSWORD_ENV} or the keyring (ucwa-phone login), never from "
        "the command line. Without --server/--address the configured account is used, else the "
        "built-in simulator (demo mode). Exit status: 0 ended normally, 1 call failed, "
        "2 bad input (also: nobody or several people found for a name), 3 sign-in/connection "
        "problem, 130 interrupted."
    )


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


# -- output -------------------------------------------------------------------------------------


class Printer:
    """Prints each distinct state once: plain text, or one JSON object per line."""

    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self._json = as_json
        self._out = out
        self._t0 = time.monotonic()
        self._last: tuple[str, str | None, tuple[str, ...]] | None = None

    def state(self, state: str, reason: str | None = None, actions: tuple[str, ...] = ()) -> None:
        key = (state, reason, actions)
        if key == self._last:
            return
        self._last = key
        t = round(time.monotonic() - self._t0, 3)
        if self._json:
            line = json.dumps({"t": t, "state": state, "reason": reason, "actions": list(actions)})
        else:
            extra = f"  [{', '.join(a.replace('_', ' ') for a in actions)}]" if actions else ""
            line = f"{t:8.2f}s  {state:<12}{('  ' + reason) if reason else ''}{extra}".rstrip()
        # sys.stdout looked up now, not at import: whoever redirected it since gets the lines.
        print(line, file=self._out or sys.stdout, flush=True)

    def snapshot(self, snapshot: CallSnapshot) -> None:
        if snapshot.state is CallState.IDLE:
            return
        actions = tuple(sorted(a.value for a in snapshot.actions))
        reason = snapshot.reason.message if snapshot.reason else None
        if snapshot.answered_by and snapshot.state is CallState.CONNECTED and not reason:
            reason = f"answered by {snapshot.answered_by}"
        self.state(snapshot.state.value, reason, actions)


class Listener:
    """Turns session callbacks into printed lines and wake-ups for the driver."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.changed = asyncio.Event()
        self.status = SessionStatus(ConnectionState.SIGNED_OUT)
        self.call = CallSnapshot(CallState.IDLE)
        self.progress_at = time.monotonic()  # when the call last changed

    def on_status(self, status: SessionStatus) -> None:
        previous, self.status = self.status, status
        if status.state is ConnectionState.SIGNING_IN:
            self.printer.state("signing_in")
        elif status.state is ConnectionState.RECONNECTING:
            self.printer.state("reconnecting", status.detail)
        elif status.state is ConnectionState.SIGNED_IN and (
            previous.state is ConnectionState.RECONNECTING
        ):
            self.printer.snapshot(self.call)  # show where the call stands after recovering
        self.changed.set()

    def on_call(self, snapshot: CallSnapshot) -> None:
        self.call = snapshot
        self.progress_at = time.monotonic()
        self.printer.snapshot(snapshot)
        self.changed.set()

    async def wait_change(self, until: float | None) -> None:
        """Wait for the next change, or until the monotonic deadline ``until``."""
        self.changed.clear()
        timeout = None if until is None else max(0.0, until - time.monotonic())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.changed.wait()

    @property
    def session_lost(self) -> bool:
        return self.status.state in (ConnectionState.FAILED, ConnectionState.TAKEN_OVER)


def _fail(message: str, code: int) -> int:
    print(f"ucwa-phone call: {message}", file=sys.stderr, flush=True)
    return code


# -- target and credentials ---------------------------------------------------------------------


@dataclass
class Target:
    discovery_url: str | None
    address: str | None
    user: str
    password: str | None
    demo: bool = False


@contextlib.contextmanager
def _target(args: argparse.Namespace, settings: settings_mod.Settings) -> Iterator[Target]:
    if args.server or args.address:
        user = args.user or settings.user or args.address
        if not user:
            raise _Usage("give --user NAME (or --address) to sign in to --server")
        yield Target(
            discovery_url(args.server) if args.server else None,
            args.address,
            user,
            env_password(),
        )
    elif settings.configured:
        user = args.user or settings.user or settings.address or ""
        yield Target(settings.discovery_url, settings.address, user, env_password())
    else:
        yield from _demo(args)


def _demo(args: argparse.Namespace) -> Iterator[Target]:
    # Imported here: only demo mode pays for the simulator (and its web stack).
    from app.demo_server import DemoServer

    with DemoServer(speed=args.demo_speed) as demo:
        print(
            f"ucwa-phone call: no account configured; demo mode against the built-in simulator "
            f"({demo.discovery_url}) as {demo.user}",
            file=sys.stderr,
            flush=True,
        )
        yield Target(demo.discovery_url, None, demo.user, demo.password, demo=True)


class _Usage(Exception):
    """Bad command-line input: reported in one line, exit status 2, nothing sent."""


def _account(settings: settings_mod.Settings, target: Target) -> settings_mod.Settings:
    """The user's settings, narrowed to the account this call signs in with."""
    return settings.replace(
        user=target.user, address=target.address, discovery_url=target.discovery_url
    )


def _http(args: argparse.Namespace, settings: settings_mod.Settings) -> httpx.AsyncClient:
    # --ca-bundle applies to this call only: it is not saved into the settings.
    return make_http(settings.replace(ca_bundle=args.ca_bundle) if args.ca_bundle else settings)


# -- the call -----------------------------------------------------------------------------------


def dial_target_for(
    number: str, callback: str | None, settings: settings_mod.Settings
) -> tuple[DialTarget, str | None]:
    """The call's target and E.164 callback, by the app's one number policy; InvalidNumber when
    either cannot be called. The region: settings, else the locale, else the callback's country."""
    region = _region(callback, settings)
    return dial_target(number, region), phone_number(callback, region) if callback else None


def _region(callback: str | None, settings: settings_mod.Settings) -> str | None:
    own = [n for n in (callback, settings.callback_number) if n]
    return resolve_region(settings.default_region, own)


async def _main(args: argparse.Namespace) -> int:
    printer = Printer(args.json)
    settings = settings_mod.load()
    args.query = None
    try:
        # Refuse a bad number before signing in: nothing at all is sent for it.
        args.target, args.callback = dial_target_for(args.number, args.callback, settings)
    except InvalidNumber as exc:
        region = _region(args.callback, settings)
        if not is_name_query(args.number, region):
            return _fail(exc.user_message, EXIT_USAGE)
        # A name: looked up in the address book once signed in.
        try:
            callback = phone_number(args.callback, region) if args.callback else None
        except InvalidNumber as bad_callback:
            return _fail(bad_callback.user_message, EXIT_USAGE)
        args.target, args.callback = None, callback
        args.query = " ".join(args.number.split())
    async with contextlib.AsyncExitStack() as stack:
        # Only setting up is guarded here: an OSError later (a TimeoutError is one) is not a
        # start-up problem and must not be reported as one.
        try:
            target = stack.enter_context(_target(args, settings))
            http = await stack.enter_async_context(_http(args, settings))
        except _Usage as exc:
            return _fail(str(exc), EXIT_USAGE)
        except CaBundleUnreadable as exc:
            return _fail(str(exc), EXIT_SESSION)
        except OSError as exc:  # the demo simulator could not start, a CA bundle is unreadable
            return _fail(f"cannot start: {exc}", EXIT_SESSION)
        return await _call(http, settings, target, printer, args)
    raise AssertionError("unreachable")  # pragma: no cover - the block always returns


async def _call(
    http: httpx.AsyncClient,
    settings: settings_mod.Settings,
    target: Target,
    printer: Printer,
    args: argparse.Namespace,
) -> int:
    listener = Listener(printer)
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, interrupted.set)
            installed.append(sig)
    account = _account(settings, target)
    keep = not target.demo  # the demo account: no keyring, discovery not cached on disk
    history = HistoryService(enabled=lambda: settings.history_enabled)
    session = make_session(
        http,
        token_provider(http, account, keep=keep, password=target.password, interaction="none"),
        account,
        keep=keep,
        recorder=history.recorder(target.demo),
        user_agent="UcwaPhone/0.1 (cli)",
    )
    session.add_listener(listener)
    _history_notice(history)
    try:
        return await _place(session, listener, args, interrupted, settings)
    finally:
        try:
            await session.aclose()  # deletes the application: the server ends any call in it
        finally:
            _history_notice(history)
            history.close()
            for sig in installed:  # a second Ctrl-C while leaving stops us the default way
                loop.remove_signal_handler(sig)


def _history_notice(history: HistoryService) -> None:
    notice = history.take_notice()
    if notice:
        print(f"ucwa-phone call: {notice}", file=sys.stderr, flush=True)


class _Interrupted(Exception):
    """Ctrl-C (or SIGTERM) arrived while a step was running; the step was cancelled."""


async def _unless_interrupted(step: Coroutine[Any, Any, _T], interrupted: asyncio.Event) -> _T:
    """Run *step*, but cancel it and raise _Interrupted as soon as the user interrupts.

    Checked before starting as well: an interruption that arrived while the previous step was
    finishing must still stop the next one (the call must not ring after Ctrl-C).
    """
    if interrupted.is_set():
        step.close()
        raise _Interrupted
    task = asyncio.ensure_future(step)
    stop = asyncio.ensure_future(interrupted.wait())
    cut = False
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Also when we ourselves are cancelled: the step must not outlive us.
        stop.cancel()
        if not task.done():
            cut = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, UcwaError, TimeoutError):
                await task
    if cut:
        raise _Interrupted
    return task.result()


async def _place(
    session: UcwaSession,
    listener: Listener,
    args: argparse.Namespace,
    interrupted: asyncio.Event,
    settings: settings_mod.Settings,
) -> int:
    try:
        await _unless_interrupted(session.sign_in(), interrupted)
    except _Interrupted:
        return _fail("interrupted; no call was placed", EXIT_INTERRUPTED)
    except AuthenticationError as exc:
        printer_failed(listener, exc.user_message)
        return _fail(f"sign-in failed: {exc.user_message}", EXIT_SESSION)
    except TransportError as exc:
        printer_failed(listener, exc.user_message)
        return _fail(f"server unreachable: {exc.user_message}", EXIT_SESSION)
    except UcwaError as exc:
        printer_failed(listener, exc.user_message)
        return _fail(f"sign-in failed: {exc.user_message}", EXIT_SESSION)
    if args.target is None:
        try:
            args.target = await _unless_interrupted(_look_up(session, args), interrupted)
        except _Interrupted:
            return _fail("interrupted; no call was placed", EXIT_INTERRUPTED)
        except _NoChoice as exc:
            return _fail(str(exc), EXIT_USAGE)
        except LocalError as exc:
            return _fail(exc.user_message, EXIT_USAGE)
        except UcwaError as exc:
            return _fail(f"the search failed: {exc.user_message}", EXIT_SESSION)
    callback = args.callback or settings.callback_number
    try:
        await _unless_interrupted(session.start_call(args.target, callback), interrupted)
    except _Interrupted:
        # Cancelled before or during the POST; if the server did create the call, deleting the
        # application on the way out ends it.
        return _fail("interrupted; the call was cancelled", EXIT_INTERRUPTED)
    except InvalidNumber as exc:
        return _fail(exc.user_message, EXIT_USAGE)
    except CallFailed as exc:
        return _fail(f"failed: {exc.reason.message}", EXIT_CALL_FAILED)
    except LocalProtocolError as exc:
        return _fail(exc.user_message, EXIT_SESSION)
    except UcwaError as exc:
        return _fail(f"the call was not placed: {exc.user_message}", EXIT_SESSION)
    try:
        return await _unless_interrupted(_drive(session, listener, args), interrupted)
    except _Interrupted:
        # Bounded, and a slow or failing hang-up is not an error of ours: the user asked to
        # quit, and deleting the application on the way out ends the call anyway.
        with contextlib.suppress(UcwaError, TimeoutError):
            async with asyncio.timeout(_HANG_UP_WAIT_S):
                await session.hang_up()
        return _fail("interrupted; the call was ended", EXIT_INTERRUPTED)


class _NoChoice(Exception):
    """Nobody found for a name, or several choices and nobody to ask: exit status 2."""


Choice = tuple[Contact, str, DialTarget]


def _describe(choice: Choice) -> str:
    contact, kind, target = choice
    about = ", ".join(part for part in (contact.title, contact.department) if part)
    return f"{contact.name}{f' ({about})' if about else ''}: {kind} {target.display}"


async def _look_up(session: UcwaSession, args: argparse.Namespace) -> DialTarget:
    """The target for a name: the one match's one number, or the one the user picks."""
    query: str = args.query
    found = await session.search_people(query)
    choices: list[Choice] = [
        (contact, kind, target) for contact in found for kind, target in contact.choices()
    ]
    if not choices:
        raise _NoChoice(f"No one found for '{query}'.")
    if len(choices) == 1:
        chosen = choices[0]
    else:
        chosen = await _ask(choices, interactive=not args.json and _stdin_is_terminal())
    print(f"ucwa-phone call: calling {_describe(chosen)}", file=sys.stderr, flush=True)
    return chosen[2]


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):  # closed
        return False


async def _ask(choices: list[Choice], *, interactive: bool) -> Choice:
    """Several matches: list them numbered and read the choice from the terminal; a script
    (no terminal, or --json) gets the list and exit status 2 instead of a guess."""
    for number, choice in enumerate(choices, 1):
        print(f"{number:3}. {_describe(choice)}", file=sys.stderr, flush=True)
    ambiguous = f"ambiguous: {len(choices)} matches"
    if not interactive:
        raise _NoChoice(ambiguous)
    print(f"Which one? [1-{len(choices)}] ", end="", file=sys.stderr, flush=True)
    answer = (await _read_line()).strip()
    if not (answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(choices)):
        raise _NoChoice(f"{ambiguous}; no choice made")
    return choices[int(answer) - 1]


async def _read_line() -> str:
    """One line from stdin without blocking the loop. A daemon thread, not the executor: after
    Ctrl-C nobody answers, and asyncio.run would wait for an executor thread stuck in readline."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, name="choice", daemon=True).start()
    return await answer


def printer_failed(listener: Listener, message: str) -> None:
    listener.printer.state("failed", message)


async def _drive(session: UcwaSession, listener: Listener, args: argparse.Namespace) -> int:
    # Phase 1: until connected (or over), as long as the call shows signs of life.
    while not _connected(session.call) and not _over(session):
        if listener.session_lost:
            return _lost(listener)
        give_up_at = listener.progress_at + _NO_PROGRESS_S
        if time.monotonic() >= give_up_at:
            # Leaving deletes the application, which ends the call if the server has one.
            message = f"no news of the call from the server for {_NO_PROGRESS_S:g} s; gave up"
            printer_failed(listener, message)
            return _fail(f"failed: {message}", EXIT_CALL_FAILED)
        await listener.wait_change(give_up_at)
    if not _over(session):
        connected_at = time.monotonic()
        plan = [
            (args.hold_after, CallAction.HOLD),
            (args.resume_after, CallAction.RESUME),
            (args.hangup_after, CallAction.HANG_UP),
        ]
        for delay, action in sorted((p for p in plan if p[0] is not None), key=lambda p: p[0]):
            assert delay is not None
            due = connected_at + delay
            while time.monotonic() < due and not _over(session):
                if listener.session_lost:
                    return _lost(listener)
                await listener.wait_change(due)
            if _over(session):
                break
            await _perform(session, listener, action)
    # Phase 2: until the call is over.
    while not _over(session):
        if listener.session_lost:
            return _lost(listener)
        await listener.wait_change(None)
    final = session.call
    if final.state is CallState.ENDED:
        return EXIT_ENDED
    reason = final.reason.message if final.reason else "the call failed"
    return _fail(f"failed: {reason}", EXIT_CALL_FAILED)


def _over(session: UcwaSession) -> bool:
    # A function, not an inline expression: the state changes across awaits, which type
    # checkers' narrowing of `session.call.state.is_final` does not see.
    return session.call.state.is_final


def _connected(snapshot: CallSnapshot) -> bool:
    return snapshot.state in (CallState.CONNECTED, CallState.ON_HOLD)


async def _perform(session: UcwaSession, listener: Listener, action: CallAction) -> None:
    """Do ``action`` if (and once) the server offers it; say so on stderr when it never does."""
    deadline = time.monotonic() + _OFFER_WAIT_S
    wanted = action if action is not CallAction.HANG_UP else None
    while True:
        offered = session.call.actions
        if (wanted is None and offered & {CallAction.HANG_UP, CallAction.CANCEL}) or (
            wanted is not None and wanted in offered
        ):
            break
        if _over(session) or time.monotonic() >= deadline:
            if not _over(session):
                what = action.value.replace("_", " ")
                print(f"ucwa-phone call: {what} is not offered now; skipped", file=sys.stderr)
            return
        await listener.wait_change(deadline)
    try:
        if action is CallAction.HOLD:
            await session.hold()
        elif action is CallAction.RESUME:
            await session.resume()
        else:
            await session.hang_up()
    except LocalProtocolError as exc:
        print(f"ucwa-phone call: {exc.user_message}", file=sys.stderr, flush=True)
    except UcwaError as exc:
        print(f"ucwa-phone call: {action.value} failed: {exc.user_message}", file=sys.stderr)


def _lost(listener: Listener) -> int:
    detail = listener.status.detail or "the connection to the server was lost"
    return _fail(detail, EXIT_SESSION)
