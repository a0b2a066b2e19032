"""Packaging files are valid: .desktop, AppStream, PyInstaller spec, icons, URL handlers."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "ucwa-phone.desktop"
METAINFO = PACKAGING / "io.github.ucwaphone.UcwaPhone.metainfo.xml"


def test_desktop_entry_is_valid() -> None:
    validator = shutil.which("desktop-file-validate")
    if validator:
        done = subprocess.run(
            [validator, str(DESKTOP)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "error" not in done.stdout.lower()
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Version"] == "1.4"  # 1.5 is an error for desktop-file-validate 0.26
    assert entry["Exec"] == "ucwa-phone %u"
    assert entry["Icon"] == "ucwa-phone"
    mimes = entry["MimeType"].split(";")
    assert {"x-scheme-handler/tel", "x-scheme-handler/callto"} <= set(mimes)
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")


def test_appstream_metainfo_is_valid() -> None:
    tool = shutil.which("appstreamcli")
    if tool:
        done = subprocess.run(
            [tool, "validate", "--no-net", str(METAINFO)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("launchable") == DESKTOP.name
    schemes = {m.text for m in root.iter("mediatype")}
    assert schemes == {"x-scheme-handler/tel", "x-scheme-handler/callto"}


def test_pyinstaller_spec_is_one_folder_and_bundles_resources() -> None:
    text = (PACKAGING / "ucwa-phone.spec").read_text(encoding="utf-8")
    ast.parse(text)  # at least valid Python
    assert "COLLECT(" in text  # one-folder: EXE + COLLECT, not a one-file EXE
    assert "exclude_binaries=True" in text
    assert '"resources"), "resources")' in text  # app/ui/assets.py looks in _MEIPASS/resources
    assert 'collect_submodules("app")' in text  # main imports the window by name
    for name in ("ucwa-phone.ico", "ucwa-phone.icns"):
        assert (PACKAGING / "icons" / name).is_file()


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_app_icon_pngs_exist_at_their_size(qapp: object, size: int) -> None:
    image = QImage(str(PACKAGING / "icons" / f"ucwa-phone-{size}.png"))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()


def test_windows_and_macos_url_handlers_name_both_schemes() -> None:
    reg = (PACKAGING / "windows" / "ucwa-phone-url-handler.reg").read_bytes()
    assert reg.startswith(b"Windows Registry Editor Version 5.00\r\n")
    text = reg.decode("ascii")
    assert '"URL Protocol"=""' in text
    assert '"tel"="UcwaPhone.tel"' in text and '"callto"="UcwaPhone.tel"' in text
    assert '\\"%1\\"' in text  # the link is passed quoted
    plist = ET.parse(PACKAGING / "macos" / "Info-url-handler.plist")
    schemes = {e.text for e in plist.iter("string")}
    assert {"tel", "callto"} <= schemes
    spec = (PACKAGING / "ucwa-phone.spec").read_text(encoding="utf-8")
    assert '"CFBundleURLSchemes": ["tel", "callto"]' in spec
