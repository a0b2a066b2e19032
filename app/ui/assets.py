"""Finds resources/ (checkout, wheel, bundle); turns its SVGs and stylesheet into Qt objects."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

_ENV = "UCWA_PHONE_RESOURCES"
_APP = Path(__file__).resolve().parents[1]
# Installed (wheel, PyInstaller bundle under sys._MEIPASS) the folder is package data next to the
# code, app/resources; in a checkout it is the repository's top-level resources/.
_CANDIDATES = (_APP / "resources", _APP.parent / "resources")


@functools.cache
def resources_dir() -> Path:
    """The resources folder, or $UCWA_PHONE_RESOURCES when set (a theme or icon set under test)."""
    if env := os.environ.get(_ENV):
        path = Path(env)
    else:
        path = next((c for c in _CANDIDATES if (c / "icons").is_dir()), _CANDIDATES[0])
    if not (path / "icons").is_dir():
        raise FileNotFoundError(f"ucwa-phone: no icons/ in {path}; reinstall, or set {_ENV}")
    return path


@functools.cache
def _svg_source(name: str) -> str:
    return (resources_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")


def svg_bytes(name: str, color: QColor | None = None) -> bytes:
    """icons/<name>.svg with `currentColor` replaced by `color` (the glyphs are monochrome)."""
    text = _svg_source(name)
    if color is not None:
        text = text.replace("currentColor", color.name(QColor.NameFormat.HexRgb))
    return text.encode()


def render_svg(data: bytes, size: QSize, dpr: float = 1.0, opacity: float = 1.0) -> QPixmap:
    """Render SVG bytes at `size` logical pixels for a screen with device pixel ratio `dpr`."""
    pixmap = QPixmap(size * dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(data))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setOpacity(opacity)
    renderer.render(painter, QRect(QPoint(0, 0), pixmap.size()).toRectF())
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


class _SvgEngine(QIconEngine):
    """Renders the SVG at exactly the requested size and scale, so icons stay crisp at any DPI."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data

    def _render(self, size: QSize, mode: QIcon.Mode, scale: float) -> QPixmap:
        # Disabled buttons need a visibly weaker glyph; the style's greying does not apply to us.
        opacity = 0.4 if mode == QIcon.Mode.Disabled else 1.0
        return render_svg(self._data, size, scale, opacity)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self._render(size, mode, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        return self._render(size, mode, scale)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        painter.drawPixmap(rect, self._render(rect.size(), mode, dpr))

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._data)


def glyph(name: str, color: QColor) -> QIcon:
    """A monochrome glyph from icons/ tinted with `color`."""
    return QIcon(_SvgEngine(svg_bytes(name, color)))


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "ucwa-phone.svg"))


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


# Accent per state kind: (light-theme accent, dark-theme accent). Light accents carry white glyphs
# (contrast >= 4.5:1); dark-theme accents are lighter and carry a near-black glyph instead.
_ACCENTS: dict[str, tuple[str, str]] = {
    "neutral": ("#4B5563", "#9CA3AF"),
    "progress": ("#1D4ED8", "#7AA7FF"),
    "good": ("#15803D", "#4ADE80"),
    "paused": ("#A15C07", "#FBBF24"),
    "bad": ("#B91C1C", "#F87171"),
}
_ON_ACCENT = ("#FFFFFF", "#111827")


def accent(kind: str, palette: QPalette) -> tuple[QColor, QColor]:
    """(accent, colour for glyphs or text drawn on the accent) for the palette's light/dark mode."""
    dark = is_dark(palette)
    light_hex, dark_hex = _ACCENTS.get(kind, _ACCENTS["neutral"])
    return QColor(dark_hex if dark else light_hex), QColor(_ON_ACCENT[1 if dark else 0])


def stylesheet(palette: QPalette) -> str:
    """resources/style.qss with its @accent placeholders filled for the current palette."""
    text = (resources_dir() / "style.qss").read_text(encoding="utf-8")
    text = text.replace("@icons", (resources_dir() / "icons").as_posix())
    for kind in _ACCENTS:
        color, on = accent(kind, palette)
        hover = color.lighter(112) if is_dark(palette) else color.darker(115)
        text = text.replace(f"@{kind}-on", on.name()).replace(f"@{kind}-hover", hover.name())
        text = text.replace(f"@{kind}", color.name())
    return text
