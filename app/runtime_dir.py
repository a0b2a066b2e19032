"""Where this user's single-instance socket lives: a directory only they can enter."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from app.files import private_directory

log = logging.getLogger(__name__)


def is_private_directory(path: Path, uid: int) -> bool:
    """A real directory (not a symlink), owned by ``uid``, that no one else may enter."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077


def runtime_directory(
    environ: Mapping[str, str] | None = None,
    fallback: Path | None = None,
    uid: int | None = None,
) -> Path | None:
    """$XDG_RUNTIME_DIR when it is the user's own 0700 directory; else a private 0700 directory
    the app creates under the user's cache dir; None when neither passes the checks.

    Not for Windows: there Qt's named pipe with per-user access is the private place.
    """
    environ = os.environ if environ is None else environ
    uid = os.getuid() if uid is None else uid
    xdg = environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        if is_private_directory(Path(xdg), uid):
            return Path(xdg)
        log.warning("ignoring XDG_RUNTIME_DIR %s: not a private directory of this user", xdg)
    directory = fallback or Path(platformdirs.user_cache_dir("ucwa-phone", appauthor=False)) / "run"
    try:
        private_directory(directory)
    except OSError as exc:
        log.warning("no private directory for the single-instance socket: %s", exc)
        return None
    if not is_private_directory(directory, uid):
        log.warning(
            "not using %s for the single-instance socket: not private to this user", directory
        )
        return None
    return directory
