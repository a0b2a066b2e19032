"""resources/ is found and every icon and the stylesheet load, crisp at any pixel ratio."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPalette

import app
from app.ui import assets
from app.ui.call_view import _CALL_LOOKS, _CONNECTION_LOOKS

ICONS = sorted(
    {icon for _, icon in _CALL_LOOKS.values()}
    | {icon for _, icon, _ in _CONNECTION_LOOKS.values()}
    | {"action-call", "action-hang-up", "action-hold", "action-resume", "action-backspace"}
    | {"action-recent", "action-close", "alert"}
)


@pytest.mark.parametrize("name", ICONS)
def test_every_icon_renders_sharp_at_2x(qapp: object, name: str) -> None:
    icon = assets.glyph(name, QColor("#123456"))
    pixmap = icon.pixmap(QSize(24, 24), 2.0)
    assert pixmap.deviceIndependentSize().toSize() == QSize(24, 24)
    assert pixmap.size() == QSize(48, 48)  # rendered at device pixels, not scaled up
    image = pixmap.toImage()
    assert any(image.pixelColor(x, y).alpha() > 0 for x in range(48) for y in range(48)), (
        f"{name} rendered empty"
    )
    disabled = icon.pixmap(QSize(24, 24), 1.0, QIcon.Mode.Disabled).toImage()
    assert max(disabled.pixelColor(x, y).alpha() for x in range(24) for y in range(24)) < 200


def test_app_icon_and_stylesheet(qapp: object) -> None:
    assert not assets.app_icon().isNull()
    for window in ("#FFFFFF", "#1F2125"):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Window, QColor(window))
        qss = assets.stylesheet(palette)
        assert "@" not in qss.replace("@2x", "")  # every placeholder was filled
        assert "chevron-down.svg" in qss


def _contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("window", ["#FFFFFF", "#1F2125"])
@pytest.mark.parametrize("kind", ["neutral", "progress", "good", "paused", "bad"])
def test_accents_keep_contrast_in_light_and_dark(qapp: object, window: str, kind: str) -> None:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    accent, on = assets.accent(kind, palette)
    assert _contrast(accent, on) >= 4.5  # glyphs and button text on the accent
    assert _contrast(accent, QColor(window)) >= 3.0  # the accent against the window (WCAG 1.4.11)


def test_resources_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "icons").mkdir()
    monkeypatch.setenv("UCWA_PHONE_RESOURCES", str(tmp_path))
    assets.resources_dir.cache_clear()
    try:
        assert assets.resources_dir() == tmp_path
    finally:
        monkeypatch.delenv("UCWA_PHONE_RESOURCES")
        assets.resources_dir.cache_clear()
    assert (assets.resources_dir() / "style.qss").is_file()


def test_a_checkout_finds_the_top_level_resources_folder() -> None:
    """Installed, the folder is package data next to the code (app/resources, also under a
    PyInstaller bundle's sys._MEIPASS); a checkout keeps it at the top level."""
    assets.resources_dir.cache_clear()
    found = assets.resources_dir()
    assert found == Path(app.__file__).resolve().parent.parent / "resources"
    assert (found / "style.qss").is_file() and (found / "icons" / "ucwa-phone.svg").is_file()
