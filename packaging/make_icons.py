"""Renders resources/icons/ucwa-phone.svg to the PNG/ICO/ICNS sizes the installers need."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "ucwa-phone.svg"
OUT = ROOT / "packaging" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(size: int) -> QImage:
    image = QImage(QSize(size, size), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(SVG.read_bytes())).render(
        painter, QRect(QPoint(0, 0), image.size()).toRectF()
    )
    painter.end()
    return image


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        if not render(size).save(str(OUT / f"ucwa-phone-{size}.png")):
            print(f"could not write {size} px", file=sys.stderr)
            return 1
    # Qt's ico/icns writers take one image; Windows and macOS scale the 256/512 px master.
    render(256).save(str(OUT / "ucwa-phone.ico"))
    render(512).save(str(OUT / "ucwa-phone.icns"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
