"""Composition root: command line, logging, and dispatch to the GUI or a headless sub-command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import logging
import os
import re
import secrets
import signal
import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from app import __version__, logs

if TYPE_CHECKING:
    import httpx
    from PySide6.QtWidgets import QApplication, QWidget

    from app.settings import Settings
    from app.ui.mainwindow import MainWindow
    from app.ui.single_instance import SingleInstance
    from app.viewmodel.ports import Account, CallService
    from app.viewmodel.shell import AppViewModel

log = logging.getLogger(__name__)

# name -> (module, help). Modules are imported only when their command runs, so the GUI's start
# time does not pay for the simulator or the CLI.
_COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("app.commands.sim", "serve the UCWA simulator over HTTP"),
    "call": ("app.commands.call", "place one call headless and print its states"),
    "login": ("app.commands.login", "sign in and keep the tokens in the OS keyring"),
    "logout": ("app.commands.logout", "sign out; --forget removes every stored entry"),
}
_VALUE_OPTIONS = {"--server", "--user", "--callback"}  # top-level options that take a value

PASSWORD_ENV = "UCWA_PHONE_PASSWORD"
# Hidden hook for bench/bench_gui.py: timestamps on stdout, commands on stdin (see _BenchHook).
BENCH_ENV = "UCWA_PHONE_BENCH"
DEMO_USER = "alice@contoso.com"
DEMO_PASSWORD = "demo-password"  # the embedded simulator's published demo account, not a secret
NO_DISPLAY_MESSAGE = (
    "ucwa-phone: no display available; run it under a virtual display (`xvfb-run -a ucwa-phone`)"
    " or use `ucwa-phone call NUMBER` for headless use"
)
# Platforms that need no display server.
_HEADLESS_PLATFORMS = {
    "offscreen",
    "minimal",
    "minimalegl",
    "vnc",
    "eglfs",
    "linuxfb",
    "vkkhrdisplay",
}


# What a desktop's URL handler passes (`ucwa-phone %u`, the Windows .reg "%1").
_LINK = re.compile(r"^(tel|callto|sip):", re.IGNORECASE)


def split_link(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """Take a tel:/callto:/sip: link out of argv, so the parser never mistakes it for a COMMAND."""
    for i, token in enumerate(argv):
        if _LINK.match(token) and (i == 0 or argv[i - 1] not in _VALUE_OPTIONS):
            return [*argv[:i], *argv[i + 1 :]], token
    return list(argv), None


def _wanted_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in argv (so only its module is imported), or None for the GUI."""
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


def run(argv: Sequence[str] | None = None) -> int:
    argv, link = split_link(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.link = link
    logs.configure(args.verbose)
    module = getattr(args, "_module", None)
    if module is not None:
        result: int = module.run(args)
        return result
    if args.callback:
        from app.viewmodel import phone

        e164, _ = phone.validate(phone.clean(args.callback), None)
        if e164 is None:
            parser.error(f"--callback {args.callback!r} is not a phone number like +14255550123")
        args.callback = e164
    if args.server and not args.server.startswith(("https://", "http://")):
        parser.error("--server needs the discovery URL, e.g. https://lyncdiscover.contoso.com/")
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return run_gui(args)


def display_problem(env: Mapping[str, str], platform: str) -> str | None:
    """NO_DISPLAY_MESSAGE when Qt could not open a window here; checked before QApplication exists
    (which would abort the process instead)."""
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if qpa in _HEADLESS_PLATFORMS:
        return None
    if qpa.startswith("wayland"):
        return None if env.get("WAYLAND_DISPLAY") else NO_DISPLAY_MESSAGE
    if qpa == "xcb":
        return None if env.get("DISPLAY") else NO_DISPLAY_MESSAGE
    return None if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") else NO_DISPLAY_MESSAGE


# -- the GUI ----------------------------------------------------------------------------------


def run_gui(args: argparse.Namespace) -> int:
    """QApplication + qasync loop; returns when the main coroutine has shut everything down."""
    import qasync
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("UCWA Phone")
    # No applicationDisplayName: xcb would append it to a title that already names the app.
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("ucwa-phone")
    app.setQuitOnLastWindowClosed(False)  # the main coroutine decides when we are done
    instance = _single_instance(app, args.link)
    if instance is None:
        return 0  # the running copy took the link and shows its window
    # asyncio.run(..., loop_factory=) needs 3.12; the Runner works on 3.11 (aesthetics.md §5.1).
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(_amain(app, args, instance))


def instance_name() -> str:
    """The local socket name of this user's running copy (derived from their config dir, so
    another user, or a test with its own XDG_CONFIG_HOME, has another one)."""
    from app.settings import config_dir

    digest = hashlib.sha256(str(config_dir()).encode("utf-8")).hexdigest()[:16]
    return f"ucwa-phone-{digest}"


def _single_instance(app: QApplication, link: str | None) -> SingleInstance | None:
    """None when a copy is already running (it got ``link``); else this copy's listener.

    A second copy would sign in with the same endpoint and take the first one's session over.
    """
    from app.ui.single_instance import SingleInstance, hand_over

    name = instance_name()
    if hand_over(name, link):
        log.info("UCWA Phone is already running; handed the link over to it")
        return None
    instance = SingleInstance(name, app)
    instance.listen()
    app.installEventFilter(instance)  # macOS delivers tel: links as QFileOpenEvent
    return instance


# Known-harmless Qt messages: the offscreen plugin (tests, benchmarks) cannot resize or raise
# windows.
_QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
_qt_log = logging.getLogger("app.qt")


def _qt_message(kind: Any, _context: Any, message: str) -> None:
    """Qt's own messages go through our logging (and its secret filter) instead of raw stderr."""
    from PySide6.QtCore import QtMsgType

    if message in _QT_NOISE or kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
        _qt_log.debug("%s", message)
    elif kind == QtMsgType.QtWarningMsg:
        _qt_log.warning("%s", message)
    else:
        _qt_log.error("%s", message)


async def _amain(app: QApplication, args: argparse.Namespace, instance: SingleInstance) -> int:
    import httpx

    from app import settings as settings_module
    from app.viewmodel.ports import FileSettingsStore, MemorySettingsStore
    from app.viewmodel.shell import AppViewModel

    loop = asyncio.get_running_loop()
    quit_requested = asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, quit_requested.set)  # Ctrl+C = a normal quit (§5.6)
            handled.append(sig)

    settings = settings_module.load()
    demo = not (args.server or settings.configured)
    file_store = FileSettingsStore()
    seeded = settings.replace(callback_number=args.callback or settings.callback_number)
    # Demo and --server runs must not overwrite the user's recent numbers or callback choice.
    dialer_store = MemorySettingsStore(seeded) if demo or args.server else file_store
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=5.0),  # the session gives the long-poll its own
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        verify=_tls_context(settings.ca_bundle),
    )
    signin_service = SignInAdapter(http, settings, persistent=True)
    shell = AppViewModel(
        signin_service=signin_service,
        store=file_store,
        dialer_store=dialer_store,
        region=settings.default_region,
        demo=demo,
    )
    shell.quitRequested.connect(quit_requested.set)
    restore_hooks: Callable[[], None] = lambda: None  # noqa: E731
    demo_server = _DemoServer()
    window: MainWindow | None = None
    try:
        window = _make_window(shell)
        restore_hooks = _install_error_hooks(window, loop)
        window.show()
        if args.link:
            # Fills the dialer only: a link in a web page must not place a call by itself.
            window.open_link(args.link)
        instance.set_handler(window.present)  # later launches and macOS hand their links here
        bench = _BenchHook(shell, window, quit_requested) if os.environ.get(BENCH_ENV) else None
        if demo:
            discovery_url = await demo_server.start()
            account, password = _demo_account(discovery_url)
            # Once a real account is set up the demo session is gone: stop its simulator too.
            shell.signin.accountSaved.connect(demo_server.stop_soon)
            shell.signin.sign_in_with(account, password, save=False)
        else:
            account, password = _startup_account(args, settings)
            shell.signin.signInFailed.connect(shell.requestSetup)  # the form asks what is missing
            shell.signin.sign_in_with(account, password, save=False)
        await quit_requested.wait()
        if bench is not None:
            bench.close()
    finally:
        instance.close()
        app.removeEventFilter(instance)
        if window is not None:
            window.hide()
        await shell.aclose()  # hang up if asked, cancel VM tasks, DELETE the application
        await http.aclose()
        await demo_server.stop()
        restore_hooks()
        for sig in handled:
            loop.remove_signal_handler(sig)
        if window is not None:
            window.deleteLater()
        shell.deleteLater()
    return 0


def _make_window(shell: AppViewModel) -> MainWindow:
    from app.ui.mainwindow import MainWindow

    return MainWindow(shell)


def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """System trust plus the user's private CA bundle (httpx 0.28 deprecates verify=<path>)."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class _DemoServer:
    """The embedded simulator on 127.0.0.1 (uvicorn in a background thread) at real-time speed."""

    def __init__(self) -> None:
        self._server: Any = None
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> str:
        self._server = await asyncio.to_thread(self._start)
        log.info("demo simulator at %s", self._server.base_url)
        return str(self._server.discovery_url)

    @staticmethod
    def _start() -> Any:
        from app.simulator.config import SimConfig
        from app.simulator.serve import SimServer
        from app.simulator.simulator import Simulator

        # A per-run token no one is told: nothing in the app drives the demo's /_sim/ endpoints.
        config = SimConfig(speed=1.0, control_token=secrets.token_urlsafe(32))
        server = SimServer(Simulator(config), host="127.0.0.1", port=0, tls=False)
        server.__enter__()
        return server

    def stop_soon(self) -> None:
        if self._server is not None and self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self.stop())

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(server.__exit__, None, None, None)
        elif self._stopping is not None and self._stopping is not asyncio.current_task():
            await self._stopping


def _demo_account(discovery_url: str) -> tuple[Account, str | None]:
    from app.viewmodel.ports import Account

    account = Account(address=DEMO_USER, server=discovery_url, user=DEMO_USER, ephemeral=True)
    return account, DEMO_PASSWORD


def _startup_account(args: argparse.Namespace, settings: Settings) -> tuple[Account, str | None]:
    """The account from --server/--user or the settings; the password from the environment."""
    from app.viewmodel.ports import Account

    password = os.environ.get(PASSWORD_ENV) or None
    logs.register_secret(password)
    if args.server:
        user = args.user or settings.user or settings.address or ""
        address = user if "@" in user else (settings.address or "")
        account = Account(address=address, server=args.server, user=user, method="webticket")
    else:
        account = Account(
            address=settings.address or "",
            server=settings.discovery_url or "",
            user=settings.user or "",
            method=settings.method,
            remember=settings.remember_password,
        )
    return account, password


class SignInAdapter:
    """app.viewmodel.ports.SignInService: app.auth's SignInService (token provider; web ticket or
    Azure AD per the server's challenge, keyring store) under an app.ucwa UcwaSession.

    For the demo account (``Account.ephemeral``) or with ``persistent=False`` a plain
    WebTicketProvider with no store is used: nothing touches the keyring or the discovery cache,
    and no keyring notice is logged.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        persistent: bool,
        session_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._http = http
        self._settings = settings
        self._persistent = persistent
        self._session_options = dict(session_options or {})  # tests: a faster injected sleep
        self._token_store: Any = None
        self._providers: dict[Account, Any] = {}

    def _account_settings(self, account: Account) -> Settings:
        return self._settings.replace(
            address=account.address or None,
            discovery_url=account.server or None,
            user=account.user or None,
            method=account.method,
            remember_password=account.remember,
        )

    def _provider(
        self, account: Account, password: str | None, show_device_code: Callable[[str], None]
    ) -> Any:
        if not self._keeps(account):
            from app.auth.webticket import WebTicketProvider

            return WebTicketProvider(self._http, account.user or account.address, password)
        from app.auth.service import SignInService
        from app.auth.store import TokenStore

        if self._token_store is None:
            self._token_store = TokenStore()  # probes the keyring lazily, in a worker thread
        provider = SignInService(
            self._account_settings(account),
            self._http,
            store=self._token_store,
            password=password,
            remember_password=account.remember,
            on_device_code=lambda code: show_device_code(code.text),
        )
        self._providers[account] = provider
        return provider

    async def open_session(
        self, account: Account, password: str | None, *, show_device_code: Callable[[str], None]
    ) -> CallService:
        from app.ucwa.discovery import FileDiscoveryCache
        from app.ucwa.session import UcwaSession

        options = dict(self._session_options)
        if self._keeps(account):
            options.setdefault("discovery_cache", FileDiscoveryCache())
        session: CallService = UcwaSession(
            self._http,
            self._provider(account, password, show_device_code),
            discovery_url=account.server or None,
            address=account.address or None,
            endpoint_id=self._settings.endpoint_id,
            default_region=self._settings.default_region,
            allowed_redirect_domains=self._settings.allowed_redirect_domains,
            **options,
        )
        return session

    async def notice(self) -> str | None:
        if self._token_store is None:
            return None
        notice: str | None = await self._token_store.anotice()
        return notice

    def _keeps(self, account: Account) -> bool:
        return self._persistent and not account.ephemeral

    async def forget(self, account: Account) -> None:
        if not self._keeps(account):
            return
        provider = self._providers.pop(account, None)
        if provider is None:
            provider = self._provider(account, None, lambda _text: None)
            self._providers.pop(account, None)
        await provider.logout()


def _install_error_hooks(window: MainWindow, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Unhandled errors (Qt slots and asyncio callbacks alike) are logged with the traceback and
    shown in the banner without it, through the window's hook (app/ui/errors.py)."""
    uninstall = window.install_excepthook()

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, Exception):
            sys.excepthook(type(exc), exc, exc.__traceback__)
        else:
            log.error("%s", context.get("message", "asyncio error"))

    loop.set_exception_handler(loop_handler)

    def restore() -> None:
        uninstall()
        loop.set_exception_handler(None)

    return restore


class _BenchHook:
    """UCWA_PHONE_BENCH=1 (bench/bench_gui.py only): prints ``BENCH <event> <time.monotonic()>``.

    Events: ``shown``, ``signed_in``, ``connection <value>`` (any other connection state),
    ``number <text>`` (the dialer's number changed), ``state <value>`` (the call's state),
    ``paint <value>`` (the stateIndicator's first repaint after it). Reads commands on stdin:
    ``dial NUMBER``, ``hold``, ``resume``, ``hangup``, ``quit`` (EOF on stdin quits as well).
    """

    def __init__(self, shell: AppViewModel, window: QWidget, quit_requested: asyncio.Event) -> None:
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtWidgets import QWidget

        self._shell = shell
        self._quit = quit_requested
        self._pending: str | None = None
        self._loop = asyncio.get_running_loop()
        indicator = window.findChild(QWidget, "stateIndicator")
        hook = self

        class _PaintFilter(QObject):
            def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
                if event.type() == QEvent.Type.Paint and hook._pending is not None:
                    hook._emit("paint", hook._pending)
                    hook._pending = None
                return False

        self._filter = _PaintFilter(window)
        if indicator is not None:  # its labels may repaint without it: watch them too
            for widget in (indicator, *indicator.findChildren(QWidget)):
                widget.installEventFilter(self._filter)
        shell.call.stateChanged.connect(self._on_state)
        shell.connectionStateChanged.connect(self._on_connection)
        shell.dialer.numberChanged.connect(lambda number: self._emit("number", number))
        self._loop.add_reader(sys.stdin.fileno(), self._on_stdin)
        self._emit("shown")
        if shell.signedIn:
            self._emit("signed_in")

    def _emit(self, *words: str) -> None:
        print("BENCH", *words, f"{time.monotonic():.6f}", flush=True)

    def _on_state(self, state: str) -> None:
        self._emit("state", state)
        self._pending = state

    def _on_connection(self, state: str) -> None:
        if state == "signed_in":
            self._emit("signed_in")
        else:
            self._emit("connection", state)

    def _on_stdin(self) -> None:
        line = sys.stdin.readline()
        words = line.split()
        if not line or words == ["quit"]:
            self._quit.set()
            return
        call, dialer = self._shell.call, self._shell.dialer
        if words[:1] == ["dial"] and len(words) == 2:
            dialer.setNumber(words[1])
            dialer.dial()
        elif words == ["hold"]:
            call.hold()
        elif words == ["resume"]:
            call.resume()
        elif words == ["hangup"]:
            call.hangUp()

    def close(self) -> None:
        self._loop.remove_reader(sys.stdin.fileno())
