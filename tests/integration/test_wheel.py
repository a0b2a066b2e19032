"""`python -m build` makes a wheel and an sdist that carry the icons, the stylesheet and the
`ucwa-phone` command (built offline: --no-isolation uses this environment's setuptools)."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        # Fail, not skip: the dev extra (`make test` installs it) brings `build`.
        pytest.fail("the 'build' package is missing; pip install -c constraints.txt -e '.[dev]'")
    work = tmp_path_factory.mktemp("wheel")
    # A copy of what the build reads, so the checkout gets no build/ or .egg-info of ours.
    source = work / "src"
    source.mkdir()
    for folder in ("app", "resources"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _resource_names() -> set[str]:
    return {
        "app/" + path.relative_to(ROOT).as_posix()
        for path in RESOURCES.rglob("*")
        if path.is_file() and path.suffix in {".svg", ".qss", ".md"}
    }


def test_wheel_carries_icons_stylesheet_and_the_command(dist: Path) -> None:
    (wheel,) = dist.glob("ucwa_phone-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = configparser.ConfigParser()
        scripts.read_string(archive.read(entry_points).decode("utf-8"))
    wanted = _resource_names()
    assert "app/resources/style.qss" in wanted and "app/resources/icons/ucwa-phone.svg" in wanted
    assert wanted <= names, sorted(wanted - names)
    assert "app/ui/assets.py" in names and "app/main.py" in names
    assert scripts["console_scripts"]["ucwa-phone"] == "app.main:run"
    # Only the app: no tests, benchmarks or loose top-level data in site-packages.
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"app"}, tops


def test_sdist_carries_the_resources_too(dist: Path) -> None:
    (sdist,) = dist.glob("ucwa_phone-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    # The sdist keeps the checkout's layout: resources/ at the top, mapped by setup.py.
    assert {name.removeprefix("app/") for name in _resource_names()} <= names
    assert {"pyproject.toml", "setup.py"} <= names
