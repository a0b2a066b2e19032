"""`python -m bench.gui_driver [ucwa-phone options]`: the real window, driven over pipes.

Starts the app exactly as `ucwa-phone` does (app.main's options, app.gui.run) and attaches to the
window through ``app.gui.run``'s ``on_ready`` callback. Prints ``BENCH <event> <time.monotonic()>``
on stdout:

- ``shown`` (the window is up), ``signed_in``, ``connection <value>`` (any other connection state)
- ``number <text>`` (the dialer's number changed), ``state <value>`` (the call's state)
- ``paint <value>`` (the state indicator's first repaint after that state)
- ``banner <text>`` (the error banner's text, also when it was already set at start)

and reads commands on stdin: ``dial NUMBER``, ``hold``, ``resume``, ``hangup``, ``quit`` (EOF on
stdin quits as well). Used by bench/bench_gui.py and the app's lifecycle tests.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from app import gui, logs
from app.main import parse_args


def emit(*words: str) -> None:
    print("BENCH", *words, f"{time.monotonic():.6f}", flush=True)


class _PaintWatch(QObject):
    """Reports the first repaint of the state indicator (or its labels) after a state change."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.pending: str | None = None

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.Paint and self.pending is not None:
            emit("paint", self.pending)
            self.pending = None
        return False


class Probe:
    """Attached to the running app: prints its events, obeys commands from stdin."""

    def __init__(self, running: gui.Running) -> None:
        self._shell = running.shell
        self._quit = running.quit
        self._loop = asyncio.get_running_loop()
        self._paint = _PaintWatch(running.window)
        indicator = running.window.findChild(QWidget, "stateIndicator")
        if indicator is not None:  # its labels may repaint without it: watch them too
            for widget in (indicator, *indicator.findChildren(QWidget)):
                widget.installEventFilter(self._paint)
        shell = running.shell
        shell.call.stateChanged.connect(self._on_state)
        shell.connectionStateChanged.connect(self._on_connection)
        shell.dialer.numberChanged.connect(lambda number: emit("number", number))
        shell.errorTextChanged.connect(lambda text: emit("banner", text))
        self._loop.add_reader(sys.stdin.fileno(), self._on_stdin)
        emit("shown")
        if shell.errorText:
            emit("banner", shell.errorText)
        if shell.signedIn:
            emit("signed_in")

    def _on_state(self, state: str) -> None:
        emit("state", state)
        self._paint.pending = state

    def _on_connection(self, state: str) -> None:
        if state == "signed_in":
            emit("signed_in")
        else:
            emit("connection", state)

    def _on_stdin(self) -> None:
        line = sys.stdin.readline()
        words = line.split()
        if not line or words == ["quit"]:
            self._loop.remove_reader(sys.stdin.fileno())  # EOF would stay readable
            self._quit()
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

    def detach(self) -> None:
        self._loop.remove_reader(sys.stdin.fileno())


def attach(running: gui.Running) -> Callable[[], None]:
    """``app.gui.run``'s on_ready: the probe, detached again when the app shuts down."""
    return Probe(running).detach


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure(args.verbose)
    return gui.run(args, on_ready=attach)


if __name__ == "__main__":
    sys.exit(main())
