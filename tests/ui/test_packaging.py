"""Packaging files are valid: .desktop, AppStream, PyInstaller spec, icons, URL handlers, and
`make install-desktop` installs, repeats and uninstalls cleanly for one user."""

from __future__ import annotations

import ast
import configparser
import os
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
SCHEMES = {"x-scheme-handler/tel", "x-scheme-handler/callto", "x-scheme-handler/sip"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        # Fail, not skip: `make test` installs it (packaging/system-deps.sh test), so a missing
        # validator means a broken setup that would otherwise hide this check for good.
        pytest.fail(f"{name} not found; install it (packaging/system-deps.sh test installs it)")
    return path


def test_desktop_entry_is_valid() -> None:
    validator = _tool("desktop-file-validate")
    done = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True, check=False)
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
    assert set(mimes) >= SCHEMES
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")


def test_appstream_metainfo_is_valid() -> None:
    done = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("launchable") == DESKTOP.name
    schemes = {m.text for m in root.iter("mediatype")}
    assert schemes == SCHEMES


def test_pyinstaller_spec_is_one_folder_with_a_console_twin_and_resources() -> None:
    text = (PACKAGING / "ucwa-phone.spec").read_text(encoding="utf-8")
    ast.parse(text)  # at least valid Python
    # one-folder: EXEs + one COLLECT, not a one-file EXE; the console twin shares the folder
    assert "COLLECT(exe, cli, a.binaries" in text
    assert text.count("exclude_binaries=True") == 2
    assert 'name="ucwa-phone-cli",\n    console=True' in text
    # app/ui/assets.py finds app/resources next to the (frozen) code under _MEIPASS
    assert '"resources"), "app/resources")' in text
    assert 'collect_submodules("app")' in text  # main imports the window by name
    for name in ("ucwa-phone.ico", "ucwa-phone.icns"):
        assert (PACKAGING / "icons" / name).is_file()


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_app_icon_pngs_exist_at_their_size(qapp: object, size: int) -> None:
    image = QImage(str(PACKAGING / "icons" / f"ucwa-phone-{size}.png"))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()


def test_windows_and_macos_url_handlers_name_the_three_schemes_linux_does() -> None:
    reg = (PACKAGING / "windows" / "ucwa-phone-url-handler.reg").read_bytes()
    assert reg.startswith(b"Windows Registry Editor Version 5.00\r\n")
    text = reg.decode("ascii")
    assert '"URL Protocol"=""' in text
    for scheme in ("tel", "callto", "sip"):  # as the .desktop file's MimeType
        assert f'"{scheme}"="UcwaPhone.tel"' in text
    assert '\\"%1\\"' in text  # the link is passed quoted
    plist = ET.parse(PACKAGING / "macos" / "Info-url-handler.plist")
    schemes = {e.text for e in plist.iter("string")}
    assert {"tel", "callto", "sip"} <= schemes
    spec = (PACKAGING / "ucwa-phone.spec").read_text(encoding="utf-8")
    assert '"CFBundleURLSchemes": ["tel", "callto", "sip"]' in spec


def _install(tmp_path: Path, *args: str, exec_path: str | None = None) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    if exec_path is not None:
        env["EXEC"] = exec_path
    done = subprocess.run(
        ["sh", str(PACKAGING / "install-desktop.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_install_desktop_registers_links_repeats_cleanly_and_uninstalls(tmp_path: Path) -> None:
    _tool("xdg-mime")
    program = tmp_path / "bin" / "ucwa-phone"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    (tmp_path / "config").mkdir()
    mimeapps = tmp_path / "config" / "mimeapps.list"
    mimeapps.write_text("[Default Applications]\nx-scheme-handler/http=browser.desktop\n")

    _install(tmp_path, exec_path=str(program))
    _install(tmp_path, exec_path=str(program))  # a second run changes nothing

    data = tmp_path / "data"
    entry = (data / "applications" / "ucwa-phone.desktop").read_text(encoding="utf-8")
    assert f"\nExec={program} %u\n" in entry and f"\nTryExec={program}\n" in entry
    assert (data / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    assert (data / "icons/hicolor/scalable/apps/ucwa-phone.svg").is_file()
    assert (data / "icons/hicolor/48x48/apps/ucwa-phone.png").is_file()
    lines = [line.rstrip(";") for line in mimeapps.read_text(encoding="utf-8").splitlines()]
    for scheme in sorted(SCHEMES):
        assert lines.count(f"{scheme}=ucwa-phone.desktop") == 1, lines
    assert "x-scheme-handler/http=browser.desktop" in lines

    _install(tmp_path, "--uninstall")
    assert not (data / "applications" / "ucwa-phone.desktop").exists()
    assert not list(data.rglob("ucwa-phone.*")) and not list(data.rglob(METAINFO.name))
    lines = mimeapps.read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if "ucwa-phone" in line]
    assert "x-scheme-handler/http=browser.desktop" in lines  # the user's other choices stay


def test_install_desktop_refuses_a_program_link_handlers_cannot_start(tmp_path: Path) -> None:
    program = tmp_path / "my apps" / "ucwa-phone"  # xdg-open splits Exec= on blanks
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    done = subprocess.run(
        ["sh", str(PACKAGING / "install-desktop.sh")],
        env={**os.environ, "EXEC": str(program), "XDG_DATA_HOME": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2 and "blanks" in done.stderr
    assert not (tmp_path / "data" / "applications").exists()
