"""Renders the main window in each state to PNGs and lists clipped labels (run also at 200%)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from app.ui.mainwindow import MainWindow
from tests.ui.fakes import FakeAppViewModel, drive_call

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"


def _idle(shell: FakeAppViewModel) -> None:
    shell.dialer.setNumber("+1 425-555-0100")
    shell.dialer.set(number="+1 425-555-0100")  # as the real VM's as-you-type formatter shows it


def _calling(shell: FakeAppViewModel) -> None:
    _idle(shell)
    drive_call(shell.call, "calling_you")


def _connecting(shell: FakeAppViewModel) -> None:
    _idle(shell)
    drive_call(shell.call, "connecting")


def _connected(shell: FakeAppViewModel) -> None:
    _idle(shell)
    drive_call(shell.call, "connected", connected_at=time.monotonic() - 42.4)


def _on_hold(shell: FakeAppViewModel) -> None:
    _idle(shell)
    drive_call(shell.call, "on_hold", connected_at=time.monotonic() - 95.2)


def _ended(shell: FakeAppViewModel) -> None:
    shell.dialer.setNumber("+1 425-555-0101")
    shell.dialer.set(number="+1 425-555-0101")
    drive_call(shell.call, "failed")


def _error(shell: FakeAppViewModel) -> None:
    _idle(shell)
    shell.set(
        errorText="The server refused the call: you are not allowed to call this number.",
        errorDetails="403 Forbidden · code Forbidden · subcode CallNotAllowed\n"
        'X-Ms-Diagnostics: 12005;reason="Outbound calling is disabled for the user"',
    )


def _reconnecting(shell: FakeAppViewModel) -> None:
    _idle(shell)
    drive_call(shell.call, "connected", connected_at=time.monotonic() - 200)
    shell.set(connectionState="reconnecting", statusText="Reconnecting…")


def _demo(shell: FakeAppViewModel) -> None:
    shell.set(
        demo=True, statusText="Signed in as alice@contoso.com (demo)", title="UCWA Phone — Demo"
    )
    shell.dialer.set(recentNumbers=["+1 425-555-0100", "+1 425-555-0105"])


def _sign_in(shell: FakeAppViewModel) -> None:
    shell.set(demo=True)
    shell.signin.set(
        address="alice@contoso.com",
        server="https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root",
        message="Sign-in failed: the user name or password is not right.",
    )


STATES: dict[str, Callable[[FakeAppViewModel], None]] = {
    "idle": _idle,
    "calling-your-phone": _calling,
    "connecting": _connecting,
    "connected": _connected,
    "on-hold": _on_hold,
    "ended-busy": _ended,
    "error-banner": _error,
    "reconnecting": _reconnecting,
    "demo": _demo,
    "sign-in": _sign_in,
}
SIGN_IN_PAGE = {"sign-in"}


def clipped(window: QWidget) -> list[str]:
    """Visible labels and buttons whose text needs more room than they got."""
    found: list[str] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or not isinstance(widget, QLabel | QAbstractButton):
            continue
        if isinstance(widget, QLabel) and not widget.text():
            continue
        size = widget.size()
        if isinstance(widget, QLabel) and widget.wordWrap():
            need = QSize(widget.minimumSizeHint().width(), widget.heightForWidth(size.width()))
        else:
            need = widget.minimumSizeHint()
            if isinstance(widget, QLabel):
                need = widget.sizeHint()
        if need.width() > size.width() or need.height() > size.height():
            name = widget.objectName() or type(widget).__name__
            text = widget.text() if hasattr(widget, "text") else ""
            found.append(f"{name} {text!r}: needs {need.toTuple()}, has {size.toTuple()}")
    return found


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1F2125",
        QPalette.ColorRole.WindowText: "#E8EAED",
        QPalette.ColorRole.Base: "#17181B",
        QPalette.ColorRole.AlternateBase: "#2A2D32",
        QPalette.ColorRole.Text: "#E8EAED",
        QPalette.ColorRole.Button: "#2D3036",
        QPalette.ColorRole.ButtonText: "#E8EAED",
        QPalette.ColorRole.Highlight: "#7AA7FF",
        QPalette.ColorRole.HighlightedText: "#0B1020",
        QPalette.ColorRole.Mid: "#4A4F57",
        QPalette.ColorRole.Midlight: "#3A3E45",
        QPalette.ColorRole.Dark: "#111214",
        QPalette.ColorRole.Link: "#8AB4F8",
        QPalette.ColorRole.PlaceholderText: "#8B9099",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7B8088"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7B8088"))
    return palette


def render(
    name: str, out: Path | None, *, palette: QPalette | None = None, suffix: str = ""
) -> tuple[MainWindow, list[str]]:
    """Show a window in state `name`, save a PNG into `out`; return it and what is clipped."""
    shell = FakeAppViewModel()
    STATES[name](shell)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette()
    window = MainWindow(shell)
    if name in SIGN_IN_PAGE:
        shell.setupRequested.emit()
    try:
        if palette is not None:
            app.setPalette(palette)  # what a system light/dark switch does
        window.show()
        QApplication.processEvents()
        window.resize(window.sizeHint())
        QApplication.processEvents()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(out / f"{name}{suffix}.png"))
        return window, clipped(window)
    finally:
        if palette is not None:
            app.setPalette(before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=SHOTS)
    parser.add_argument("--suffix", default="")
    parser.add_argument("--dark", action="store_true")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    report: dict[str, list[str]] = {}
    for name in STATES:
        window, problems = render(
            name, args.out, palette=dark_palette() if args.dark else None, suffix=args.suffix
        )
        report[name] = problems
        window.hide()
        window.deleteLater()
        app.processEvents()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
