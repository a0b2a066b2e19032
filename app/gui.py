"""The window's process: QApplication, qasync loop, single instance, error hooks, signals, shutdown.

``run(args)`` is what ``ucwa-phone`` without a COMMAND does. Qt, the view-models and the sign-in
stack are imported inside the functions, in the order the start needs them: a second launch
that only hands its link to the running copy never loads the window's modules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.demo_server import DemoAccount
    from app.diagnostics.checker import CheckTarget
    from app.history.service import HistoryService
    from app.settings import Settings
    from app.ui.mainwindow import MainWindow
    from app.ui.single_instance import SingleInstance
    from app.ui.tray import Tray
    from app.viewmodel.diagnostics import DiagnosticsViewModel
    from app.viewmodel.ports import Account, SettingsStore
    from app.viewmodel.shell import AppViewModel

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Running:
    """What an ``on_ready`` callback of ``run`` gets: the shown window, its view-model, and
    ``quit()``, which shuts the app down the way closing it from the menu does."""

    window: MainWindow
    shell: AppViewModel
    quit: Callable[[], None]


# Called once the window is shown, before sign-in starts; may return a function that is called
# first thing during shutdown (e.g. to detach what it attached).
OnReady = Callable[[Running], Callable[[], None] | None]


def display_problem(env: Mapping[str, str], platform: str) -> str | None:
    """NO_DISPLAY_MESSAGE when Qt could not open a window here; checked before QApplication exists
    (which would abort the process instead)."""
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    # "wayland;xcb": Qt tries each in turn, so one usable platform is enough.
    listed = env.get("QT_QPA_PLATFORM", "").split(";")
    if any(_platform_usable(name.split(":", 1)[0].strip().lower(), env) for name in listed):
        return None
    return NO_DISPLAY_MESSAGE


def _platform_usable(qpa: str, env: Mapping[str, str]) -> bool:
    if qpa in _HEADLESS_PLATFORMS:
        return True
    if qpa.startswith("wayland"):
        return bool(env.get("WAYLAND_DISPLAY"))
    if qpa == "xcb":
        return bool(env.get("DISPLAY"))
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace, *, on_ready: OnReady | None = None) -> int:
    """QApplication + qasync loop; returns when the main coroutine has shut everything down.

    ``args`` are app.main's parsed options (``server``, ``user``, ``callback``, ``link``).
    ``on_ready`` lets a caller watch or drive the running window (see ``OnReady``); the product
    itself passes none.
    """
    from app.ui.source_scan import release_scanned_sources

    release_scanned_sources()  # before the rest of the window's imports: ~15 MB less at rest

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
    # asyncio.run(..., loop_factory=) needs Python 3.12; the Runner also works on 3.11.
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(_amain(app, args, instance, on_ready))


def instance_name() -> str | None:
    """The local socket of this user's running copy; None when there is no private place for it.

    The name derives from the config dir, so another user, or a test with its own XDG_CONFIG_HOME,
    has another one. On Unix it is a full path in the user's 0700 runtime directory (a name
    alone would land in the shared temp dir, where another user could take it first); on Windows
    Qt's per-user named pipe is the private place.
    """
    from app.settings import config_dir

    digest = hashlib.sha256(str(config_dir()).encode("utf-8")).hexdigest()[:16]
    name = f"ucwa-phone-{digest}"
    if sys.platform == "win32":
        return name
    from app.runtime_dir import runtime_directory

    directory = runtime_directory()
    return None if directory is None else str(directory / name)


def _single_instance(app: QApplication, link: str | None) -> SingleInstance | None:
    """None when a copy is already running (it got ``link``); else this copy's listener (one
    that does not listen when there is no private socket, or another user's is in the way).

    A second copy would sign in with the same endpoint and take the first one's session over.
    """
    from app.ui.single_instance import HandOver, SingleInstance, foreign_socket_message, hand_over

    name = instance_name()
    instance = SingleInstance(name or "", app)
    app.installEventFilter(instance)  # macOS delivers tel: links as QFileOpenEvent
    if name is None:
        return instance
    result = hand_over(name, link)
    if result is HandOver.DELIVERED:
        log.info("UCWA Phone is already running; handed the link over to it")
        app.removeEventFilter(instance)
        return None
    if result is HandOver.FOREIGN:
        instance.problem = foreign_socket_message(name)
        print(instance.problem, file=sys.stderr, flush=True)
        return instance
    instance.listen()
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


async def _amain(
    app: QApplication,
    args: argparse.Namespace,
    instance: SingleInstance,
    on_ready: OnReady | None,
) -> int:
    from app import settings as settings_module
    from app.demo_server import DemoServer
    from app.history.service import HistoryService
    from app.viewmodel.ports import FileSettingsStore, MemorySettingsStore
    from app.viewmodel.shell import AppViewModel
    from app.wiring import CaBundleUnreadable, SignInAdapter, make_http

    loop = asyncio.get_running_loop()
    quit_requested = asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, quit_requested.set)  # Ctrl+C = a normal quit
            handled.append(sig)

    settings = settings_module.load()
    demo = not (args.server or settings.configured)
    file_store = FileSettingsStore()
    seeded = settings.replace(callback_number=args.callback or settings.callback_number)
    # Demo and --server runs must not overwrite the user's recent numbers or callback choice.
    dialer_store = MemorySettingsStore(seeded) if demo or args.server else file_store
    trust_problem: str | None = None
    try:
        http = make_http(settings, window=True)
    except CaBundleUnreadable as exc:
        # The window still opens to say so. System trust alone never trusts more than the user
        # asked for; a server signed by the missing private CA is simply refused.
        trust_problem = str(exc)
        log.error("%s", trust_problem)
        http = make_http(settings.replace(ca_bundle=None), window=True)
    # Read at each call: turning history off in the settings takes effect at once.
    history = HistoryService(enabled=lambda: file_store.load().history_enabled)
    history.demo = demo
    shell = AppViewModel(
        signin_service=SignInAdapter(http, settings, persistent=True, history=history),
        store=file_store,
        dialer_store=dialer_store,
        region=settings.default_region,
        demo=demo,
    )
    shell.quitRequested.connect(quit_requested.set)
    demo_check: list[CheckTarget] = []  # the demo account, once its server runs
    diagnostics = _diagnostics(shell, args, demo_check)
    restore_hooks: Callable[[], None] = lambda: None  # noqa: E731
    detach: Callable[[], None] | None = None
    demo_server = DemoServer()
    window: MainWindow | None = None
    tray: Tray | None = None
    if trust_problem is not None:
        shell.showError(trust_problem)
    try:
        window = _make_window(shell, history, file_store, diagnostics)
        restore_hooks = _install_error_hooks(window, loop)
        tray = _make_tray(shell, window)
        if not tray.vm.startHidden or args.link:
            window.show()  # without a tray "start minimised" would leave no way back in
        if instance.problem:
            shell.showError(instance.problem)
        if args.link:
            # Fills the dialer only: a link in a web page must not place a call by itself.
            window.open_link(args.link)
        instance.set_handler(window.present)  # later launches and macOS hand their links here
        if on_ready is not None:
            detach = on_ready(Running(window, shell, quit_requested.set))
        account: Account | None = None
        password: str | None = None
        if demo:
            try:
                started = await demo_server.astart()
            except (OSError, RuntimeError, ImportError) as exc:
                # The window stays usable: Account ▸ Change account still sets up a real one.
                log.warning("the demo simulator did not start: %s", exc)
                shell.showError("The demo server could not start.", str(exc))
            else:
                account, password = _demo_account(started)
                demo_check.append(_demo_check(started))
                # Once a real account is set up the demo session is gone: stop its simulator.
                shell.signin.accountSaved.connect(demo_server.stop_soon)
        elif trust_problem is None:
            account, password = _startup_account(args, settings)
            shell.signin.signInFailed.connect(shell.requestSetup)  # the form asks what is missing
        else:
            # Signing in without the bundle would only end in "untrusted certificate", which
            # would replace the message that names the real cause.
            shell.requestSetup()
        if account is not None:
            shell.signin.sign_in_with(account, password, save=False)
        await quit_requested.wait()
    finally:
        # In order: stop taking links, leave the server, then close what the session used.
        if detach is not None:
            detach()
        instance.close()
        app.removeEventFilter(instance)
        if window is not None:
            window.hide()
        if tray is not None:
            tray.close()
        await shell.aclose()  # hang up if asked, cancel VM tasks, DELETE the application
        await http.aclose()
        await demo_server.astop()
        history.close()
        restore_hooks()
        for sig in handled:
            loop.remove_signal_handler(sig)
        if window is not None:
            window.deleteLater()
        shell.deleteLater()
    return 0


def _make_window(
    shell: AppViewModel,
    history: HistoryService,
    store: SettingsStore,
    diagnostics: DiagnosticsViewModel,
) -> MainWindow:
    from app.ui.mainwindow import MainWindow
    from app.viewmodel.history import HistoryViewModel

    history_vm = HistoryViewModel(history, shell.dialer, shell.call, store, shell)
    return MainWindow(shell, history_vm, diagnostics=diagnostics)


def _diagnostics(
    shell: AppViewModel, args: argparse.Namespace, demo_check: list[CheckTarget]
) -> DiagnosticsViewModel:
    """ "Test connection" checks the demo account while the window shows it, else the account
    in the settings (as saved now, with --server/--user applied); no password is kept for it:
    the check uses what the keyring holds."""
    from app import settings as settings_module
    from app.diagnostics.checker import AccountChecker, CheckTarget
    from app.viewmodel.diagnostics import DiagnosticsViewModel

    def target() -> CheckTarget:
        if shell.demo and demo_check:
            return demo_check[0]
        current = settings_module.load()
        if args.server:
            current = current.replace(
                discovery_url=args.server, user=args.user or current.user, address=None
            )
        return CheckTarget(current)

    return DiagnosticsViewModel(AccountChecker(target), parent=shell)


def _demo_check(demo: DemoAccount) -> CheckTarget:
    from app import settings as settings_module
    from app.diagnostics.checker import CheckTarget

    account = settings_module.Settings(discovery_url=demo.discovery_url, user=demo.user)
    return CheckTarget(account, demo.password, keep=False)


def _make_tray(shell: AppViewModel, window: MainWindow) -> Tray:
    """The tray icon (where the desktop has a tray); with one, closing the window hides it there."""
    from app.ui.tray import Tray
    from app.viewmodel.tray import TrayViewModel

    vm = TrayViewModel(shell, parent=shell)
    tray = Tray(vm, window, parent=window)
    window.on_close = vm.closeWindow
    return tray


def _demo_account(demo: DemoAccount) -> tuple[Account, str | None]:
    """The demo server's account, kept nowhere (no keyring, no settings, no caches)."""
    from app.viewmodel.ports import Account

    account = Account(address=demo.user, server=demo.discovery_url, user=demo.user, ephemeral=True)
    return account, demo.password


def _startup_account(args: argparse.Namespace, settings: Settings) -> tuple[Account, str | None]:
    """The account from --server/--user or the settings; the password from the environment."""
    from app.viewmodel.ports import Account
    from app.wiring import env_password

    password = env_password()
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
